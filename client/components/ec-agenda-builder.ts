import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Agenda, AgendaItem, CreateAgendaItemBody, MoveAgendaItemBody, UpdateAgendaItemBody } from '../../shared/protocol/agenda.js';
import { LIMITS } from '../../shared/limits.js';
import { depths, isWithin, siblings } from '../services/agenda-tree.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { sharedStyles } from '../styles/shared.js';

/** Someone who can present an item (a participant of the meeting). */
export interface Presenter {
  userId: number;
  fullName: string;
}

type Move = 'up' | 'down' | 'indent' | 'outdent';
type Drop = { targetId: number; where: 'before' | 'after' };

/**
 * The secretary's agenda builder: add, edit and delete items and sub-items; reorder by drag and
 * drop (pointer events: mouse, touch and pen alike) or by keyboard (the row's buttons, or
 * Alt+Arrow keys on a focused row: up/down, Alt+→ indent, Alt+← outdent). Every write sends the
 * agenda `version`; a 409 version_conflict shows a message and reloads the agenda.
 * Emits `ec-agenda-changed` (detail: Agenda) after each successful change.
 */
@localized()
@customElement('ec-agenda-builder')
export class EcAgendaBuilder extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0 0 1rem;
      }
      li.row {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        padding: 0.4rem 0.5rem 0.4rem calc(0.5rem + var(--depth) * 2.25rem);
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        background: var(--ec-surface);
        margin-bottom: 0.4rem;
        position: relative;
        flex-wrap: wrap;
      }
      li.row:focus-visible {
        outline: 3px solid #6f9be0;
        outline-offset: 1px;
      }
      li.row.dragging {
        opacity: 0.45;
      }
      li.row.drop-before::before,
      li.row.drop-after::after {
        content: '';
        position: absolute;
        left: calc(var(--depth) * 2.25rem);
        right: 0;
        height: 4px;
        border-radius: 2px;
        background: var(--ec-primary);
      }
      li.row.drop-before::before {
        top: -5px;
      }
      li.row.drop-after::after {
        bottom: -5px;
      }
      .handle {
        width: var(--ec-touch);
        height: var(--ec-touch);
        display: grid;
        place-items: center;
        cursor: grab;
        touch-action: none;
        color: var(--ec-muted);
        border-radius: 8px;
        flex: none;
        user-select: none;
      }
      .handle:active {
        cursor: grabbing;
      }
      .num {
        font-weight: 700;
        color: var(--ec-primary);
        min-width: 2.6rem;
        font-variant-numeric: tabular-nums;
      }
      .text {
        flex: 1 1 220px;
        min-width: 0;
      }
      .text .t {
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .text small {
        display: block;
        color: var(--ec-muted);
      }
      .tools {
        display: flex;
        gap: 0.25rem;
        flex-wrap: wrap;
      }
      .tools button {
        padding: 0 0.55rem;
        font-size: 0.95rem;
      }
      form.item {
        display: grid;
        grid-template-columns: 2fr 1.2fr 0.7fr;
        gap: 0.75rem;
        padding: 0.75rem;
        border: 1px dashed #9fb0c9;
        border-radius: 8px;
        background: var(--ec-surface-2);
        width: 100%;
      }
      form.item .wide {
        grid-column: 1 / -1;
      }
      form.item textarea {
        min-height: 3.2rem;
      }
      .hint {
        font-size: 0.9rem;
        color: var(--ec-muted);
        margin: 0 0 0.75rem;
      }
      @media (max-width: 700px) {
        form.item {
          grid-template-columns: 1fr;
        }
        li.row {
          padding-left: calc(0.25rem + var(--depth) * 1.25rem);
        }
        .tools {
          width: 100%;
          justify-content: space-between;
          gap: 0.2rem;
        }
        .tools button {
          padding: 0 0.4rem;
        }
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  @property({ attribute: false }) agenda: Agenda | null = null;
  @property({ attribute: false }) presenters: Presenter[] = [];
  @consume({ context: apiContext }) private api!: Api;

  @state() private busy = false;
  @state() private message: { kind: 'error' | 'notice'; text: string } | null = null;
  /** Item being edited, or 'new:<parentId|root>' for the add form. */
  @state() private editing: string | null = null;
  @state() private confirmDelete: number | null = null;
  @state() private dragId: number | null = null;
  @state() private drop: Drop | null = null;
  /** Screen-reader announcement after a move ("moved to 1.1"). */
  @state() private announce = '';
  #focusAfter: number | null = null;
  #focusForm = false;

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.agenda && this.meetingId) void this.#reload();
  }

  async #reload() {
    try {
      this.agenda = await this.api.get<Agenda>(`/api/meetings/${this.meetingId}/agenda`);
    } catch (e) {
      this.message = { kind: 'error', text: errorText(e, 'agenda') };
    }
  }

  /** Runs one agenda write with the current version; on success adopts the returned agenda. */
  async #write(run: (version: number) => Promise<Agenda>, focusId?: number): Promise<boolean> {
    if (!this.agenda || this.busy) return false;
    this.busy = true;
    this.message = null;
    try {
      this.agenda = await run(this.agenda.version);
      this.#focusAfter = focusId ?? null;
      this.dispatchEvent(new CustomEvent<Agenda>('ec-agenda-changed', { detail: this.agenda, bubbles: true, composed: true }));
      return true;
    } catch (e) {
      this.message = { kind: e instanceof ApiError && e.code === 'version_conflict' ? 'notice' : 'error', text: errorText(e, 'agenda') };
      if (e instanceof ApiError && (e.code === 'version_conflict' || e.code === 'not_found')) await this.#reload();
      return false;
    } finally {
      this.busy = false;
    }
  }

  async #move(item: AgendaItem, body: Omit<MoveAgendaItemBody, 'version'>) {
    const ok = await this.#write((version) => this.api.post<Agenda>(`/api/meetings/${this.meetingId}/agenda/items/${item.id}/move`, { version, ...body }), item.id);
    const moved = ok ? this.agenda?.items.find((i) => i.id === item.id) : undefined;
    if (moved) this.announce = msg(str`Đã chuyển "${moved.title}" tới vị trí ${moved.number}`, { id: 'agenda.moved' });
    return ok;
  }

  /** Opens the add/edit form and puts the cursor in its title field. */
  #openForm(key: string) {
    this.editing = key;
    this.#focusForm = true;
  }

  /** The move a keyboard command means, or null when it is not possible from here. */
  #keyboardMove(item: AgendaItem, kind: Move): Omit<MoveAgendaItemBody, 'version'> | null {
    const items = this.agenda!.items;
    const sibs = siblings(items, item.parentId);
    const idx = sibs.findIndex((s) => s.id === item.id);
    switch (kind) {
      case 'up':
        return idx > 0 ? { parentId: item.parentId, position: idx - 1 } : null;
      case 'down':
        return idx < sibs.length - 1 ? { parentId: item.parentId, position: idx + 1 } : null;
      case 'indent': {
        if (idx <= 0) return null;
        const newParent = sibs[idx - 1];
        return { parentId: newParent.id, position: siblings(items, newParent.id).length };
      }
      case 'outdent': {
        if (item.parentId == null) return null;
        const parent = items.find((i) => i.id === item.parentId)!;
        const pIdx = siblings(items, parent.parentId).findIndex((s) => s.id === parent.id);
        return { parentId: parent.parentId, position: pIdx + 1 };
      }
    }
  }

  #onRowKey(e: KeyboardEvent, item: AgendaItem) {
    if (!e.altKey || e.target !== e.currentTarget) return;
    const kind: Move | null = e.key === 'ArrowUp' ? 'up' : e.key === 'ArrowDown' ? 'down' : e.key === 'ArrowRight' ? 'indent' : e.key === 'ArrowLeft' ? 'outdent' : null;
    if (!kind) return;
    e.preventDefault();
    const body = this.#keyboardMove(item, kind);
    if (body) void this.#move(item, body);
  }

  // ---- drag and drop (pointer events) ----

  #onHandleDown(e: PointerEvent, item: AgendaItem) {
    if (this.busy || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.dragId = item.id;
    this.drop = null;
  }

  #onHandleMove(e: PointerEvent) {
    if (this.dragId == null || !this.agenda) return;
    // Long agendas on a tablet: dragging near the top or bottom edge scrolls the page.
    const edge = 56;
    if (e.clientY < edge) window.scrollBy(0, -12);
    else if (e.clientY > window.innerHeight - edge) window.scrollBy(0, 12);
    const el = (this.renderRoot as ShadowRoot).elementFromPoint(e.clientX, e.clientY);
    const row = el?.closest('li.row') as HTMLElement | null;
    const targetId = row ? Number(row.dataset.itemId) : NaN;
    if (!row || Number.isNaN(targetId) || isWithin(this.agenda.items, targetId, this.dragId)) {
      this.drop = null;
      return;
    }
    const r = row.getBoundingClientRect();
    const where = e.clientY < r.top + r.height / 2 ? 'before' : 'after';
    if (this.drop?.targetId !== targetId || this.drop.where !== where) this.drop = { targetId, where };
  }

  #onHandleUp() {
    const dragId = this.dragId;
    const drop = this.drop;
    this.dragId = null;
    this.drop = null;
    if (dragId == null || !drop || !this.agenda) return;
    const items = this.agenda.items;
    const item = items.find((i) => i.id === dragId)!;
    const target = items.find((i) => i.id === drop.targetId)!;
    const sibs = siblings(items, target.parentId).filter((s) => s.id !== dragId);
    const position = sibs.findIndex((s) => s.id === target.id) + (drop.where === 'after' ? 1 : 0);
    const current = siblings(items, item.parentId).findIndex((s) => s.id === item.id);
    if (item.parentId === target.parentId && position === current) return;
    void this.#move(item, { parentId: target.parentId, position });
  }

  #onHandleCancel() {
    this.dragId = null;
    this.drop = null;
  }

  // ---- add / edit / delete ----

  async #submitItem(e: SubmitEvent, existing: AgendaItem | null, parentId: number | null) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const title = String(f.get('title') ?? '').trim();
    if (!title) {
      this.message = { kind: 'error', text: msg('Nhập tiêu đề nội dung.', { id: 'agenda.titleRequired' }) };
      return;
    }
    const presenter = String(f.get('presenterId') ?? '');
    const minutes = String(f.get('durationMinutes') ?? '').trim();
    const fields = {
      title,
      description: String(f.get('description') ?? ''),
      presenterId: presenter ? Number(presenter) : null,
      durationMinutes: minutes ? Number(minutes) : null,
    };
    const ok = existing
      ? await this.#write(
          (version) => this.api.patch<Agenda>(`/api/meetings/${this.meetingId}/agenda/items/${existing.id}`, { version, ...fields } satisfies UpdateAgendaItemBody),
          existing.id,
        )
      : await this.#write((version) => this.api.post<Agenda>(`/api/meetings/${this.meetingId}/agenda/items`, { version, parentId, ...fields } satisfies CreateAgendaItemBody));
    if (ok) this.editing = null;
  }

  async #delete(item: AgendaItem) {
    this.confirmDelete = null;
    await this.#write((version) => this.api.delete<Agenda>(`/api/meetings/${this.meetingId}/agenda/items/${item.id}`, { version }));
  }

  protected override updated(): void {
    if (this.#focusForm) {
      this.#focusForm = false;
      this.renderRoot.querySelector<HTMLInputElement>('form.item input[name="title"]')?.focus();
    }
    if (this.#focusAfter != null) {
      const row = this.renderRoot.querySelector<HTMLElement>(`li.row[data-item-id="${this.#focusAfter}"]`);
      this.#focusAfter = null;
      row?.focus();
    }
  }

  override render() {
    if (!this.agenda) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    const items = this.agenda.items;
    const d = depths(items);
    return html`
      <p class="hint" id="agenda-help">
        ${msg('Kéo biểu tượng ⠿ để sắp xếp. Bàn phím: chọn một mục rồi nhấn Alt+↑/↓ để di chuyển, Alt+→ để lùi vào thành mục con, Alt+← để đưa ra ngoài.', {
          id: 'agenda.help',
        })}
      </p>
      ${this.message ? html`<p class=${this.message.kind} role="alert" data-testid="agenda-message">${this.message.text}</p>` : nothing}
      <p class="visually-hidden" aria-live="polite">${this.announce}</p>
      ${items.length === 0 ? html`<p class="state">${msg('Chương trình họp chưa có nội dung.', { id: 'agenda.empty' })}</p>` : nothing}
      <ol data-testid="agenda-builder" aria-describedby="agenda-help" aria-busy=${this.busy}>
        ${items.map((it) => this.#row(it, d.get(it.id) ?? 0))}
      </ol>
      ${this.editing === 'new:root'
        ? this.#form(null, null)
        : html`<button class="primary" data-testid="add-item" ?disabled=${this.busy} @click=${() => this.#openForm('new:root')}>
            + ${msg('Thêm nội dung', { id: 'agenda.add' })}
          </button>`}
    `;
  }

  #row(it: AgendaItem, depth: number) {
    if (this.editing === String(it.id)) return html`<li class="row" style="--depth:${depth}" data-item-id=${it.id}>${this.#form(it, it.parentId)}</li>`;
    const can = (k: Move) => this.#keyboardMove(it, k) !== null && !this.busy;
    const cls = ['row', this.dragId === it.id ? 'dragging' : '', this.drop?.targetId === it.id ? `drop-${this.drop.where}` : ''].join(' ');
    return html`<li
        class=${cls}
        style="--depth:${depth}"
        tabindex="0"
        data-item-id=${it.id}
        data-number=${it.number}
        aria-label=${`${it.number} ${it.title}`}
        @keydown=${(e: KeyboardEvent) => this.#onRowKey(e, it)}
      >
        <span
          class="handle"
          data-testid="drag-handle"
          title=${msg('Kéo để sắp xếp', { id: 'agenda.drag' })}
          aria-hidden="true"
          @pointerdown=${(e: PointerEvent) => this.#onHandleDown(e, it)}
          @pointermove=${this.#onHandleMove}
          @pointerup=${this.#onHandleUp}
          @pointercancel=${this.#onHandleCancel}
          >⠿</span
        >
        <span class="num">${it.number}</span>
        <span class="text"
          ><span class="t">${it.title}</span>
          ${it.presenterName || it.durationMinutes
            ? html`<small
                >${[it.presenterName, it.durationMinutes ? msg(str`${it.durationMinutes} phút`, { id: 'agenda.minutes' }) : null].filter(Boolean).join(' · ')}</small
              >`
            : nothing}
        </span>
        <span class="tools">
          ${this.confirmDelete === it.id
            ? html`<span class="row" style="gap:0.25rem">
                <span>${msg('Xóa mục này và các mục con?', { id: 'agenda.confirmDelete' })}</span>
                <button class="danger" @click=${() => void this.#delete(it)}>${msg('Xóa', { id: 'agenda.delete' })}</button>
                <button @click=${() => (this.confirmDelete = null)}>${msg('Hủy', { id: 'app.cancel' })}</button>
              </span>`
            : html`
                <button title=${msg('Lên (Alt+↑)', { id: 'agenda.moveUp' })} aria-label=${msg('Lên (Alt+↑)', { id: 'agenda.moveUp' })} ?disabled=${!can('up')} @click=${() => void this.#move(it, this.#keyboardMove(it, 'up')!)}>↑</button>
                <button title=${msg('Xuống (Alt+↓)', { id: 'agenda.moveDown' })} aria-label=${msg('Xuống (Alt+↓)', { id: 'agenda.moveDown' })} ?disabled=${!can('down')} @click=${() => void this.#move(it, this.#keyboardMove(it, 'down')!)}>↓</button>
                <button title=${msg('Đưa ra ngoài (Alt+←)', { id: 'agenda.outdent' })} aria-label=${msg('Đưa ra ngoài (Alt+←)', { id: 'agenda.outdent' })} ?disabled=${!can('outdent')} @click=${() => void this.#move(it, this.#keyboardMove(it, 'outdent')!)}>←</button>
                <button title=${msg('Thành mục con (Alt+→)', { id: 'agenda.indent' })} aria-label=${msg('Thành mục con (Alt+→)', { id: 'agenda.indent' })} ?disabled=${!can('indent')} @click=${() => void this.#move(it, this.#keyboardMove(it, 'indent')!)}>→</button>
                <button title=${msg('Thêm mục con', { id: 'agenda.addSub' })} aria-label=${msg('Thêm mục con', { id: 'agenda.addSub' })} ?disabled=${this.busy || tooDeep(depth)} @click=${() => this.#openForm(`new:${it.id}`)}>+</button>
                <button @click=${() => this.#openForm(String(it.id))} ?disabled=${this.busy}>${msg('Sửa', { id: 'agenda.edit' })}</button>
                <button class="danger" aria-label=${msg('Xóa', { id: 'agenda.delete' })} ?disabled=${this.busy} @click=${() => (this.confirmDelete = it.id)}>✕</button>
              `}
        </span>
      </li>
      ${this.editing === `new:${it.id}` ? html`<li class="row" style="--depth:${depth + 1}">${this.#form(null, it.id)}</li>` : nothing}`;
  }

  #form(existing: AgendaItem | null, parentId: number | null) {
    return html`<form class="item" data-testid="item-form" @submit=${(e: SubmitEvent) => void this.#submitItem(e, existing, parentId)}>
      <label class="field"
        >${msg('Tiêu đề', { id: 'agenda.field.title' })}
        <input name="title" required maxlength=${LIMITS.title} .value=${existing?.title ?? ''}
      /></label>
      <label class="field"
        >${msg('Người trình bày', { id: 'agenda.field.presenter' })}
        <select name="presenterId">
          <option value="">—</option>
          ${this.presenters.map((p) => html`<option value=${p.userId} ?selected=${existing?.presenterId === p.userId}>${p.fullName}</option>`)}
        </select></label
      >
      <label class="field"
        >${msg('Số phút', { id: 'agenda.field.minutes' })}
        <input name="durationMinutes" type="number" inputmode="numeric" min="1" max=${LIMITS.durationMinutes} .value=${existing?.durationMinutes ? String(existing.durationMinutes) : ''}
      /></label>
      <label class="field wide"
        >${msg('Mô tả', { id: 'agenda.field.description' })}
        <textarea name="description" maxlength=${LIMITS.description} .value=${existing?.description ?? ''}></textarea>
      </label>
      <div class="row wide">
        <button class="primary" type="submit" ?disabled=${this.busy}>${existing ? msg('Lưu', { id: 'app.save' }) : msg('Thêm', { id: 'agenda.addConfirm' })}</button>
        <button type="button" @click=${() => (this.editing = null)}>${msg('Hủy', { id: 'app.cancel' })}</button>
      </div>
    </form>`;
  }
}

/** True when a sub-item under an item at `depth` would exceed the nesting limit. */
function tooDeep(depth: number): boolean {
  return depth + 1 >= LIMITS.agendaDepth;
}

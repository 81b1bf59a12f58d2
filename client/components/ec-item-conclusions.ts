import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { AgendaItem } from '../../shared/protocol/agenda.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Meeting, Participant } from '../../shared/protocol/meetings.js';
import type { Conclusion, ConclusionKind, Task } from '../../shared/protocol/tasks.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { formatDate } from '../services/format.js';
import { sharedStyles } from '../styles/shared.js';
import { taskStatusLabel } from './ec-task-card.js';

/** Label of a conclusion kind. */
export function conclusionKindLabel(k: ConclusionKind): string {
  switch (k) {
    case 'decision':
      return msg('Quyết định', { id: 'conclusions.kind.decision' });
    case 'assignment':
      return msg('Giao nhiệm vụ', { id: 'conclusions.kind.assignment' });
    case 'note':
      return msg('Ghi nhận', { id: 'conclusions.kind.note' });
  }
}

const KINDS: ConclusionKind[] = ['decision', 'assignment', 'note'];

/** "YYYY-MM-DD" of a date `days` from now in Vietnam time (a date input's value). */
function dateInDays(days: number): string {
  return new Date(Date.now() + 7 * 3600_000 + days * 86400_000).toISOString().slice(0, 10);
}

/**
 * Conclusions of a meeting's agenda items and the follow-up tasks made from them. The secretary
 * or the chair (`editable`) records conclusions (text + kind: decision / assignment / note),
 * edits or deletes them, and turns a conclusion into one or more tasks — each with exactly one
 * owner (a participant or a unit), a deadline and an expected result. Everyone else reads them.
 *
 * ```html
 * <ec-item-conclusions .meetingId=${id} .items=${agenda.items} ?editable=${canChair}></ec-item-conclusions>
 * <!-- live view: only the current item -->
 * <ec-item-conclusions .meetingId=${id} .items=${agenda.items} .itemId=${currentItemId} ?editable=${canChair}></ec-item-conclusions>
 * ```
 * Loads `GET /api/meetings/:id/conclusions`, `/tasks`, the meeting's participants and the units
 * itself; `reload()` refreshes. Fires `ec-conclusions-changed` (bubbles, composed) after each change.
 */
@localized()
@customElement('ec-item-conclusions')
export class EcItemConclusions extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-width: 0;
      }
      .item + .item {
        border-top: 1px solid var(--ec-border);
        margin-top: 0.75rem;
        padding-top: 0.75rem;
      }
      h3 {
        font-size: 1.05rem;
        margin: 0 0 0.5rem;
        color: var(--ec-primary-strong);
      }
      ul.list {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.6rem;
      }
      li.conclusion {
        border-left: 4px solid var(--ec-primary);
        padding: 0.25rem 0 0.25rem 0.75rem;
      }
      li.conclusion.note {
        border-left-color: var(--ec-border);
      }
      li.conclusion.assignment {
        border-left-color: var(--ec-warning, #b26a00);
      }
      .text {
        white-space: pre-line;
        overflow-wrap: anywhere;
        margin: 0.25rem 0;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      ul.tasks {
        list-style: none;
        margin: 0.4rem 0 0;
        padding: 0;
        display: grid;
        gap: 0.35rem;
      }
      ul.tasks li {
        background: var(--ec-surface-2);
        border-radius: var(--ec-radius);
        padding: 0.4rem 0.6rem;
        overflow-wrap: anywhere;
      }
      ul.tasks .meta {
        color: var(--ec-muted);
        font-size: 0.92rem;
      }
      .overdue {
        color: #fff;
        background: var(--ec-danger, #c62828);
        border-radius: 999px;
        padding: 0 0.5rem;
        font-size: 0.85rem;
      }
      form {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.5rem;
        margin-top: 0.5rem;
      }
      form.task {
        background: var(--ec-surface-2);
        border-radius: var(--ec-radius);
        padding: 0.75rem;
      }
      .two {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        gap: 0.5rem;
      }
      fieldset.kinds {
        border: 0;
        padding: 0;
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.75rem;
      }
      fieldset.kinds legend {
        font-weight: 500;
        font-size: 0.95rem;
        padding: 0;
        margin-bottom: 0.2rem;
      }
      fieldset.kinds label {
        display: inline-flex;
        align-items: center;
        gap: 0.4rem;
        min-height: var(--ec-touch);
        cursor: pointer;
      }
      fieldset.kinds input {
        width: 22px;
        height: 22px;
        min-height: 0;
        margin: 0;
        accent-color: var(--ec-primary);
      }
      textarea {
        min-height: 4rem;
      }
      @media (max-width: 600px) {
        .two {
          grid-template-columns: minmax(0, 1fr);
        }
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  /** The agenda (flat, display order). */
  @property({ attribute: false }) items: AgendaItem[] = [];
  /** Show only this item (e.g. the current item in the live meeting). */
  @property({ type: Number }) itemId: number | null = null;
  /** The caller may record conclusions and assign tasks (secretary, chair). */
  @property({ type: Boolean }) editable = false;
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  @state() private conclusions: Conclusion[] | null = null;
  @state() private tasks: Task[] = [];
  @state() private people: Participant[] = [];
  @state() private units: string[] = [];
  @state() private loadError = false;
  /** Item whose "add a conclusion" form is open. */
  @state() private adding: number | null = null;
  /** Conclusion being edited, or whose task form is open. */
  @state() private editing: number | null = null;
  @state() private assigning: number | null = null;
  @state() private busy = false;
  @state() private error: string | null = null;
  @state() private notice: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('meetingId') && changed.get('meetingId') !== undefined) void this.reload();
  }

  /** Reloads conclusions and tasks (and, for editors, the owner choices). */
  async reload(): Promise<void> {
    if (!this.meetingId) return;
    try {
      const [c, t] = await Promise.all([
        this.api.get<{ conclusions: Conclusion[] }>(`/api/meetings/${this.meetingId}/conclusions`),
        this.api.get<{ tasks: Task[] }>(`/api/meetings/${this.meetingId}/tasks`),
      ]);
      this.conclusions = c.conclusions;
      this.tasks = t.tasks;
      this.loadError = false;
      if (this.editable && !this.units.length) {
        const [m, u] = await Promise.all([this.api.get<Meeting>(`/api/meetings/${this.meetingId}`), this.api.get<{ units: string[] }>('/api/tasks/units')]);
        this.people = m.participants.filter((p) => p.role !== 'guest');
        this.units = u.units;
      }
    } catch {
      this.loadError = true;
    }
  }

  private changed() {
    this.dispatchEvent(new CustomEvent('ec-conclusions-changed', { bubbles: true, composed: true }));
  }

  private async run(fn: () => Promise<unknown>, notice: string): Promise<boolean> {
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      await fn();
      this.notice = notice;
      await this.reload();
      this.changed();
      return true;
    } catch (e) {
      this.error = errorText(e, 'conclusions', 'network');
      return false;
    } finally {
      this.busy = false;
    }
  }

  private formValues(form: HTMLFormElement): Record<string, string> {
    return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)]));
  }

  private async addConclusion(e: SubmitEvent, itemId: number) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = this.formValues(form);
    if (!v.text?.trim()) return;
    const ok = await this.run(
      () => this.api.post(`/api/meetings/${this.meetingId}/agenda/items/${itemId}/conclusions`, { text: v.text, kind: v.kind }),
      msg('Đã ghi kết luận.', { id: 'conclusions.added' }),
    );
    if (ok) {
      form.reset();
      this.adding = null;
    }
  }

  private async saveConclusion(e: SubmitEvent, c: Conclusion) {
    e.preventDefault();
    const v = this.formValues(e.target as HTMLFormElement);
    if (!v.text?.trim()) return;
    if (await this.run(() => this.api.patch(`/api/conclusions/${c.id}`, { text: v.text, kind: v.kind }), msg('Đã lưu kết luận.', { id: 'conclusions.saved' }))) this.editing = null;
  }

  private async deleteConclusion(c: Conclusion) {
    if (!confirm(msg('Xóa kết luận này? Các nhiệm vụ đã giao vẫn được giữ.', { id: 'conclusions.confirmDelete' }))) return;
    await this.run(() => this.api.delete(`/api/conclusions/${c.id}`), msg('Đã xóa kết luận.', { id: 'conclusions.deleted' }));
  }

  private async addTask(e: SubmitEvent, c: Conclusion) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = this.formValues(form);
    if (!v.title?.trim() || !v.owner || !v.deadline) return;
    const [kind, ref] = [v.owner.slice(0, v.owner.indexOf(':')), v.owner.slice(v.owner.indexOf(':') + 1)];
    const owner = kind === 'user' ? { kind: 'user', userId: Number(ref) } : { kind: 'unit', unit: ref };
    const ok = await this.run(
      () =>
        this.api.post('/api/tasks', {
          meetingId: this.meetingId,
          conclusionId: c.id,
          title: v.title,
          description: v.description ?? '',
          expectedResult: v.expectedResult ?? '',
          owner,
          // The end of the chosen day in Vietnam time.
          deadline: `${v.deadline}T23:59:00+07:00`,
        }),
      msg('Đã giao nhiệm vụ.', { id: 'conclusions.taskAdded' }),
    );
    // The form stays open: a conclusion often becomes several tasks.
    if (ok) form.reset();
  }

  private renderKinds(current: ConclusionKind, name: string) {
    return html`<fieldset class="kinds">
      <legend>${msg('Loại kết luận', { id: 'conclusions.kind' })}</legend>
      ${KINDS.map((k) => html`<label><input type="radio" name=${name} value=${k} ?checked=${k === current} />${conclusionKindLabel(k)}</label>`)}
    </fieldset>`;
  }

  private renderTask(t: Task) {
    const owner = t.owner.kind === 'user' ? t.owner.name : t.owner.unit;
    return html`<li data-testid="conclusion-task">
      <strong>${t.title}</strong>
      ${t.overdue ? html`<span class="overdue">${msg('Quá hạn', { id: 'tasks.overdue' })}</span>` : nothing}
      <div class="meta">
        ${msg(str`Chủ trì: ${owner}`, { id: 'tasks.owner' })} · ${msg(str`Hạn: ${formatDate(t.deadline, this.locale)}`, { id: 'tasks.deadline' })} · ${taskStatusLabel(t.status)}${t.percent != null ? ` · ${t.percent}%` : ''}
      </div>
    </li>`;
  }

  private renderTaskForm(c: Conclusion) {
    const id = `task-${c.id}`;
    return html`<form class="task" data-testid="task-form" @submit=${(e: SubmitEvent) => this.addTask(e, c)}>
      <label class="field" for="${id}-title">${msg('Nhiệm vụ (rõ việc)', { id: 'conclusions.task.title' })}</label>
      <input id="${id}-title" name="title" required maxlength="300" data-testid="task-title" />
      <div class="two">
        <label class="field"
          >${msg('Chủ trì (rõ người, rõ trách nhiệm)', { id: 'conclusions.task.owner' })}
          <select name="owner" required data-testid="task-owner">
            <option value="">${msg('— Chọn một người hoặc một đơn vị —', { id: 'conclusions.task.pickOwner' })}</option>
            <optgroup label=${msg('Người', { id: 'conclusions.task.people' })}>
              ${this.people.map((p) => html`<option value="user:${p.userId}">${p.fullName}${p.unit ? ` — ${p.unit}` : ''}</option>`)}
            </optgroup>
            <optgroup label=${msg('Đơn vị', { id: 'conclusions.task.units' })}>${this.units.map((u) => html`<option value="unit:${u}">${u}</option>`)}</optgroup>
          </select>
        </label>
        <label class="field"
          >${msg('Thời hạn', { id: 'conclusions.task.deadline' })}
          <input type="date" name="deadline" required min=${dateInDays(0)} .value=${dateInDays(14)} data-testid="task-deadline" />
        </label>
      </div>
      <label class="field"
        >${msg('Kết quả cần đạt (rõ kết quả)', { id: 'conclusions.task.result' })}
        <input name="expectedResult" maxlength="1000" data-testid="task-result" />
      </label>
      <label class="field"
        >${msg('Cách thực hiện, phối hợp (rõ quy trình)', { id: 'conclusions.task.description' })}
        <textarea name="description" maxlength="20000"></textarea>
      </label>
      <div class="actions">
        <button class="primary" type="submit" ?disabled=${this.busy} data-testid="task-submit">${msg('Giao nhiệm vụ', { id: 'conclusions.task.submit' })}</button>
        <button type="button" class="secondary" @click=${() => (this.assigning = null)}>${msg('Đóng', { id: 'conclusions.close' })}</button>
      </div>
    </form>`;
  }

  private renderConclusion(c: Conclusion) {
    const tasks = this.tasks.filter((t) => t.conclusionId === c.id);
    if (this.editing === c.id)
      return html`<li class="conclusion ${c.kind}" data-testid="conclusion">
        <form @submit=${(e: SubmitEvent) => this.saveConclusion(e, c)}>
          ${this.renderKinds(c.kind, 'kind')}
          <label class="field">${msg('Nội dung kết luận', { id: 'conclusions.text' })}<textarea name="text" required .value=${c.text}></textarea></label>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${this.busy}>${msg('Lưu', { id: 'conclusions.save' })}</button>
            <button type="button" class="secondary" @click=${() => (this.editing = null)}>${msg('Hủy', { id: 'conclusions.cancel' })}</button>
          </div>
        </form>
      </li>`;
    return html`<li class="conclusion ${c.kind}" data-testid="conclusion">
      <span class="badge ${c.kind === 'decision' ? 'closed' : c.kind === 'assignment' ? 'paused' : 'draft'}">${conclusionKindLabel(c.kind)}</span>
      <p class="text">${c.text}</p>
      ${tasks.length ? html`<ul class="tasks" aria-label=${msg('Nhiệm vụ đã giao', { id: 'conclusions.tasks' })}>${tasks.map((t) => this.renderTask(t))}</ul>` : nothing}
      ${this.editable
        ? html`<div class="actions">
            <button
              class="secondary"
              data-testid="assign-task"
              aria-expanded=${this.assigning === c.id ? 'true' : 'false'}
              @click=${() => ((this.assigning = this.assigning === c.id ? null : c.id), (this.notice = null))}
            >
              ${msg('Giao nhiệm vụ từ kết luận', { id: 'conclusions.assign' })}
            </button>
            <button class="secondary" @click=${() => (this.editing = c.id)}>${msg('Sửa', { id: 'conclusions.edit' })}</button>
            <button class="danger" ?disabled=${this.busy} @click=${() => this.deleteConclusion(c)}>${msg('Xóa', { id: 'conclusions.delete' })}</button>
          </div>
          ${this.assigning === c.id ? this.renderTaskForm(c) : nothing}`
        : nothing}
    </li>`;
  }

  private renderItem(item: AgendaItem) {
    const cs = (this.conclusions ?? []).filter((c) => c.agendaItemId === item.id);
    const lone = this.tasks.filter((t) => t.agendaItemId === item.id && (t.conclusionId == null || !cs.some((c) => c.id === t.conclusionId)));
    const headingId = `concl-item-${item.id}`;
    return html`<section class="item" aria-labelledby=${headingId} data-testid="conclusions-item-${item.id}">
      <h3 id=${headingId}>${item.number}. ${item.title}</h3>
      ${cs.length ? html`<ul class="list">${cs.map((c) => this.renderConclusion(c))}</ul>` : this.editable ? nothing : html`<p class="muted">${msg('Chưa có kết luận.', { id: 'conclusions.none' })}</p>`}
      ${lone.length ? html`<ul class="tasks">${lone.map((t) => this.renderTask(t))}</ul>` : nothing}
      ${this.editable
        ? this.adding === item.id
          ? html`<form data-testid="conclusion-form" @submit=${(e: SubmitEvent) => this.addConclusion(e, item.id)}>
              ${this.renderKinds('decision', 'kind')}
              <label class="field">${msg('Nội dung kết luận', { id: 'conclusions.text' })}<textarea name="text" required data-testid="conclusion-text"></textarea></label>
              <div class="actions">
                <button class="primary" type="submit" ?disabled=${this.busy} data-testid="conclusion-submit">${msg('Ghi kết luận', { id: 'conclusions.add' })}</button>
                <button type="button" class="secondary" @click=${() => (this.adding = null)}>${msg('Hủy', { id: 'conclusions.cancel' })}</button>
              </div>
            </form>`
          : html`<button class="secondary" data-testid="add-conclusion" @click=${() => ((this.adding = item.id), (this.notice = null))}>+ ${msg('Thêm kết luận', { id: 'conclusions.addOpen' })}</button>`
        : nothing}
    </section>`;
  }

  override render() {
    if (this.loadError)
      return html`<p class="error" role="alert">
        ${msg('Không tải được kết luận.', { id: 'conclusions.loadError' })}
        <button class="secondary" @click=${() => void this.reload()}>${msg('Thử lại', { id: 'app.retry' })}</button>
      </p>`;
    if (!this.conclusions) return html`<p class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</p>`;
    const items = this.itemId != null ? this.items.filter((i) => i.id === this.itemId) : this.items;
    return html`${this.error ? html`<p class="error" role="alert" data-testid="conclusions-error">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      ${items.length ? items.map((i) => this.renderItem(i)) : html`<p class="muted">${msg('Chương trình họp chưa có nội dung nào.', { id: 'notes.noItems' })}</p>`}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-item-conclusions': EcItemConclusions;
  }
}

import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { Consultation, ConsultationAnswerKind, ConsultationDocument } from '../../shared/protocol/consultations.js';
import type { MeetingPack } from '../../shared/protocol/documents.js';
import type { MeetingSummary } from '../../shared/protocol/meetings.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { errorText } from '../services/errors.js';
import { formatDateTime, fromLocalInput } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { sharedStyles } from '../styles/shared.js';

const docIcon = svg`<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M14 3H6a1 1 0 0 0-1 1v16a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8z"/><path d="M14 3v5h5M8 13h8M8 17h6"/></svg>`;

/** A document picked for a new consultation (from one of the committee's meeting packs). */
interface Picked {
  id: number;
  title: string;
  meetingTitle: string;
  access: ConsultationDocument['access'];
}

/**
 * Written consultations (lấy ý kiến bằng văn bản): the questions sent to me with their documents
 * (opened in the document viewer), a large answer choice (agree / disagree / other opinion with a
 * comment) until the deadline; after it, the result, every comment and the PDF report. A committee
 * secretary also sends new ones from here, picking documents from the committee's meetings.
 */
@localized()
@customElement('ec-consultations-view')
export class EcConsultationsView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .page {
        max-width: 960px;
        margin: 0 auto;
        padding: 1rem;
      }
      .card {
        background: var(--ec-surface, #fff);
        border: 1px solid var(--ec-border, #d0d7e2);
        border-radius: 10px;
        padding: 1rem;
        margin-bottom: 0.75rem;
      }
      h1 {
        font-size: 1.4rem;
        color: var(--ec-primary-strong);
      }
      h2 {
        font-size: 1.1rem;
        margin: 0 0 0.35rem;
      }
      .muted {
        color: var(--ec-muted);
      }
      .choices {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin: 0.5rem 0;
      }
      button,
      .btn {
        min-height: 44px;
        padding: 0.4rem 1rem;
        font: inherit;
        border-radius: 8px;
        border: 1px solid var(--ec-border, #b8c2d0);
        background: var(--ec-surface, #fff);
        cursor: pointer;
      }
      button[aria-pressed='true'] {
        border: 2px solid var(--ec-primary, #1f5fa8);
        background: var(--ec-primary-soft, #e1ecfa);
        font-weight: 600;
      }
      button.primary {
        background: var(--ec-primary, #1f5fa8);
        color: #fff;
        border-color: var(--ec-primary, #1f5fa8);
      }
      textarea,
      input {
        font: inherit;
        width: 100%;
        box-sizing: border-box;
        min-height: 44px;
        padding: 0.4rem 0.5rem;
        border: 1px solid var(--ec-border, #b8c2d0);
        border-radius: 6px;
      }
      label {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.25rem;
        margin: 0.4rem 0;
        font-weight: 600;
      }
      .error {
        color: var(--ec-danger, #a8201a);
        font-weight: 600;
      }
      .ok {
        color: var(--ec-success, #1d6b35);
        font-weight: 600;
      }
      ul.answers {
        padding-left: 1.1rem;
      }
      ul.docs {
        list-style: none;
        padding: 0;
        margin: 0.5rem 0;
        display: grid;
        gap: 0.4rem;
      }
      ul.docs a {
        display: grid;
        grid-template-columns: auto minmax(0, 1fr);
        align-items: center;
        gap: 0.1rem 0.5rem;
        min-height: 44px;
        padding: 0.3rem 0.6rem;
        border: 1px solid var(--ec-border, #d0d7e2);
        border-radius: 8px;
        text-decoration: none;
        color: var(--ec-primary-strong);
        font-weight: 600;
      }
      ul.docs .muted {
        font-weight: 400;
      }
      ul.docs .doc-text {
        display: flex;
        flex-wrap: wrap;
        gap: 0.1rem 0.5rem;
        min-width: 0;
        overflow-wrap: anywhere;
      }
      details > summary {
        display: flex;
        align-items: center;
        gap: 0.4rem;
        min-height: 44px;
        cursor: pointer;
      }
      ul.docs svg {
        width: 1.2rem;
        height: 1.2rem;
        flex: none;
      }
      fieldset {
        border: 1px solid var(--ec-border, #d0d7e2);
        border-radius: 8px;
        margin: 0.5rem 0;
        padding: 0.5rem 0.75rem;
        min-width: 0;
      }
      legend {
        font-weight: 600;
      }
      label.check {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        font-weight: 400;
        min-height: 44px;
        margin: 0;
      }
      label.check input {
        width: 1.3rem;
        height: 1.3rem;
        min-height: 0;
        flex: none;
      }
      select {
        font: inherit;
        min-height: 44px;
        width: 100%;
        min-width: 0;
        box-sizing: border-box;
      }
      .chips {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin: 0.4rem 0;
      }
      .chip {
        display: inline-flex;
        align-items: center;
        gap: 0.25rem;
        padding-left: 0.6rem;
        border-radius: 999px;
        background: var(--ec-primary-soft, #e1ecfa);
        max-width: 100%;
      }
      .chip span {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .chip button {
        border: none;
        background: transparent;
        padding: 0 0.6rem;
      }
      .badge-conf {
        color: var(--ec-danger, #a8201a);
        font-weight: 600;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  #items = new Loader(this, async () => (await this.api.get<{ consultations: Consultation[] }>('/api/consultations')).consultations);
  @state() private draft = new Map<number, { answer: ConsultationAnswerKind | null; comment: string }>();
  @state() private saved: number | null = null;
  /** A consultation whose answer was not recorded, and why (a server code or 'network'). */
  @state() private answerError: { id: number; code: string } | null = null;
  @state() private sending = false;
  /** Secretary's form: the committee's meetings, the pack of the one chosen, the documents picked. */
  @state() private meetings: MeetingSummary[] | null = null;
  @state() private pack: MeetingPack | null = null;
  @state() private picked: Picked[] = [];
  @state() private createError: string | null = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  /** Refreshes in place: the list (or the error) stays until the new result arrives. */
  private load() {
    return this.#items.load({ keepValue: true, keepError: true });
  }

  override render() {
    const items = this.#items.value;
    const error = this.#items.error;
    return html`<div class="page">
      <h1>${msg('Lấy ý kiến bằng văn bản', { id: 'consult.title' })}</h1>
      ${error
        ? html`<p class="error" role="alert">
            ${msg('Không tải được dữ liệu. Vui lòng thử lại.', { id: 'consult.loadError' })}
            <button @click=${() => void this.#items.load({ keepValue: true })}>${msg('Thử lại', { id: 'consult.retry' })}</button>
          </p>`
        : nothing}
      ${this.me?.secretaryOf.length ? this.renderCreate() : nothing}
      ${!items && !error ? html`<p class="muted" role="status">${msg('Đang tải…', { id: 'consult.loading' })}</p>` : nothing}
      ${items?.length === 0 ? html`<p class="muted">${msg('Chưa có đợt lấy ý kiến nào.', { id: 'consult.empty' })}</p>` : nothing}
      ${items?.map((c) => this.renderItem(c))}
    </div>`;
  }

  private label(k: ConsultationAnswerKind) {
    return k === 'agree' ? msg('Đồng ý', { id: 'consult.agree' }) : k === 'disagree' ? msg('Không đồng ý', { id: 'consult.disagree' }) : msg('Ý kiến khác', { id: 'consult.other' });
  }

  private renderItem(c: Consultation) {
    const d = this.draft.get(c.id) ?? { answer: c.mine?.answer ?? null, comment: c.mine?.comment ?? '' };
    const set = (v: Partial<typeof d>) => {
      this.draft = new Map(this.draft).set(c.id, { ...d, ...v });
    };
    return html`<section class="card" data-testid="consultation" data-id=${c.id}>
      <h2>${c.title}</h2>
      <div class="muted">
        ${c.state === 'open'
          ? msg(str`Hạn trả lời: ${formatDateTime(c.deadline, this.locale)}`, { id: 'consult.deadline' })
          : msg(str`Đã hết hạn ${formatDateTime(c.deadline, this.locale)}`, { id: 'consult.closed' })}
      </div>
      <p style="white-space:pre-wrap">${c.question}</p>
      ${this.renderDocuments(c)}
      ${c.canAnswer
        ? html`<div class="choices" role="group" aria-label=${msg('Ý kiến của bạn', { id: 'consult.yours' })}>
              ${(['agree', 'disagree', 'other'] as const).map(
                (k) => html`<button aria-pressed=${d.answer === k ? 'true' : 'false'} data-testid="answer-${k}" @click=${() => set({ answer: k })}>${this.label(k)}</button>`,
              )}
            </div>
            <label
              >${msg('Góp ý (bắt buộc với ý kiến khác)', { id: 'consult.comment' })}
              <textarea rows="3" maxlength="5000" .value=${d.comment} @input=${(e: Event) => set({ comment: (e.target as HTMLTextAreaElement).value })}></textarea>
            </label>
            <button class="primary" data-testid="answer-send" ?disabled=${!d.answer || (d.answer === 'other' && !d.comment.trim())} @click=${() => this.answer(c, d)}>
              ${c.mine ? msg('Cập nhật ý kiến', { id: 'consult.update' }) : msg('Gửi ý kiến', { id: 'consult.send' })}
            </button>
            ${this.saved === c.id ? html`<span class="ok" role="status">${msg('Đã ghi nhận ý kiến.', { id: 'consult.saved' })}</span>` : nothing}
            ${this.answerError?.id === c.id ? html`<p class="error" role="alert" data-testid="answer-error">${errorText(this.answerError.code, 'consultation-answer')}</p>` : nothing}`
        : c.mine
          ? html`<p>${msg(str`Ý kiến của bạn: ${this.label(c.mine.answer)}`, { id: 'consult.mine' })}</p>`
          : nothing}
      ${c.counts
        ? html`<p data-testid="consult-counts">
            ${msg(str`Đồng ý ${c.counts.agree} · Không đồng ý ${c.counts.disagree} · Ý kiến khác ${c.counts.other} · Chưa trả lời ${c.counts.none}`, { id: 'consult.counts' })}
          </p>`
        : nothing}
      ${c.answers?.length
        ? html`<ul class="answers">
            ${c.answers.map((a) => html`<li><strong>${a.fullName}</strong>: ${this.label(a.answer)}${a.comment ? html` — ${a.comment}` : nothing}</li>`)}
          </ul>`
        : nothing}
      ${c.state === 'closed' ? html`<a class="btn" href="/api/consultations/${c.id}/report.pdf" download>${msg('Tải báo cáo PDF', { id: 'consult.report' })}</a>` : nothing}
    </section>`;
  }

  private renderDocuments(c: Consultation) {
    if (!c.documents.length) return nothing;
    return html`<div data-testid="consult-documents">
      <strong>${msg('Tài liệu kèm theo', { id: 'consult.documents' })}</strong>
      <ul class="docs">
        ${c.documents.map(
          (d) => html`<li>
            <a href="/documents/${d.id}?back=consultations" data-testid="consult-document" data-id=${d.id}>
              ${docIcon}<span class="doc-text"
                ><span>${d.title}</span>
                <span class="muted">${d.meetingTitle}${d.pageCount ? ` · ${msg(str`${d.pageCount} trang`, { id: 'consult.pages' })}` : ''}</span>
                ${d.access === 'confidential' ? html`<span class="badge-conf">${msg('Mật', { id: 'consult.confidential' })}</span>` : nothing}</span
              >
            </a>
          </li>`,
        )}
      </ul>
    </div>`;
  }

  private renderCreate() {
    return html`<details class="card" @toggle=${(e: Event) => (e.target as HTMLDetailsElement).open && this.loadMeetings()}>
      <summary><strong>${msg('Gửi xin ý kiến mới', { id: 'consult.new' })}</strong></summary>
      <form @submit=${(e: Event) => this.create(e)}>
        <label>${msg('Tiêu đề', { id: 'consult.form.title' })}<input name="title" required maxlength="300" /></label>
        <label>${msg('Nội dung xin ý kiến', { id: 'consult.form.question' })}<textarea name="question" rows="4" required></textarea></label>
        <label>${msg('Hạn trả lời', { id: 'consult.form.deadline' })}<input name="deadline" type="datetime-local" required /></label>
        ${this.renderPicker()}
        ${this.createError ? html`<p class="error" role="alert" data-testid="consult-create-error">${errorText(this.createError, 'consultation')}</p>` : nothing}
        <button class="primary" type="submit" data-testid="consult-send" ?disabled=${this.sending}>${msg('Gửi', { id: 'consult.form.send' })}</button>
      </form>
    </details>`;
  }

  /** Documents to send: choose one of the committee's meetings, tick documents of its pack. */
  private renderPicker() {
    const pickedIds = new Set(this.picked.map((p) => p.id));
    const docs = (this.pack?.items ?? []).flatMap((i) => i.documents.map((d) => ({ ...d, item: i.number })));
    const meetingTitle = this.meetings?.find((m) => m.id === this.pack?.meetingId)?.title ?? '';
    return html`<fieldset data-testid="consult-picker">
      <legend>${msg('Tài liệu kèm theo', { id: 'consult.documents' })}</legend>
      ${this.picked.length
        ? html`<div class="chips">
            ${this.picked.map(
              (p) => html`<span class="chip" data-testid="consult-picked"
                ><span title=${`${p.title} — ${p.meetingTitle}`}>${p.title}</span
                ><button type="button" aria-label=${msg(str`Bỏ ${p.title}`, { id: 'consult.unpick' })} @click=${() => (this.picked = this.picked.filter((x) => x.id !== p.id))}>✕</button></span
              >`,
            )}
          </div>`
        : html`<p class="muted">${msg('Chưa chọn tài liệu nào (không bắt buộc).', { id: 'consult.noDocs' })}</p>`}
      <label
        >${msg('Chọn từ bộ tài liệu của phiên họp', { id: 'consult.fromMeeting' })}
        <select data-testid="consult-meeting" @change=${(e: Event) => this.loadPack(Number((e.target as HTMLSelectElement).value))}>
          <option value="">—</option>
          ${(this.meetings ?? []).map((m) => html`<option value=${m.id} ?selected=${m.id === this.pack?.meetingId}>${m.title} · ${formatDateTime(m.startsAt, this.locale)}</option>`)}
        </select>
      </label>
      ${this.pack
        ? docs.length
          ? docs.map(
              (d) => html`<label class="check"
                ><input
                  type="checkbox"
                  data-testid="consult-doc"
                  data-id=${d.id}
                  .checked=${pickedIds.has(d.id)}
                  ?disabled=${!d.published}
                  @change=${(e: Event) => this.toggle({ id: d.id, title: d.title, meetingTitle, access: d.access }, (e.target as HTMLInputElement).checked)}
                />
                <span
                  >${d.item}. ${d.title}
                  ${d.access === 'confidential' ? html`<span class="badge-conf">${msg('Mật', { id: 'consult.confidential' })}</span>` : nothing}
                  ${!d.published ? html`<span class="muted">(${msg('chưa công bố', { id: 'consult.unpublished' })})</span>` : nothing}</span
                ></label
              >`,
            )
          : html`<p class="muted">${msg('Phiên họp này chưa có tài liệu.', { id: 'consult.packEmpty' })}</p>`
        : nothing}
      ${this.picked.some((p) => p.access === 'confidential')
        ? html`<p class="muted">${msg('Tài liệu mật chỉ gửi được khi mọi người nhận đều đã có quyền xem tài liệu đó.', { id: 'consult.confHint' })}</p>`
        : nothing}
    </fieldset>`;
  }

  private toggle(p: Picked, on: boolean) {
    this.picked = on ? [...this.picked.filter((x) => x.id !== p.id), p] : this.picked.filter((x) => x.id !== p.id);
  }

  private async loadMeetings() {
    if (this.meetings) return;
    try {
      const r = await this.api.get<{ meetings: MeetingSummary[] }>('/api/meetings', { scope: 'all', committeeId: String(this.me!.secretaryOf[0]) });
      this.meetings = [...r.meetings].sort((a, b) => b.startsAt.localeCompare(a.startsAt));
    } catch (err) {
      this.createError = err instanceof ApiError ? err.code : 'network';
    }
  }

  private async loadPack(meetingId: number) {
    if (!meetingId) {
      this.pack = null;
      return;
    }
    try {
      this.pack = await this.api.get<MeetingPack>(`/api/meetings/${meetingId}/documents`);
    } catch (err) {
      this.createError = err instanceof ApiError ? err.code : 'network';
    }
  }

  private async create(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    if (this.sending) return;
    this.createError = null;
    this.sending = true;
    try {
      await this.api.post('/api/consultations', {
        committeeId: this.me!.secretaryOf[0],
        title: String(f.get('title')).trim(),
        question: String(f.get('question')),
        deadline: fromLocalInput(String(f.get('deadline'))),
        documentIds: this.picked.map((p) => p.id),
      });
      form.reset();
      this.picked = [];
      this.pack = null;
      await this.load();
    } catch (err) {
      this.createError = err instanceof ApiError ? err.code : 'network';
    } finally {
      this.sending = false;
    }
  }

  private async answer(c: Consultation, d: { answer: ConsultationAnswerKind | null; comment: string }) {
    this.answerError = null;
    this.saved = null;
    try {
      await this.api.put(`/api/consultations/${c.id}/answer`, { answer: d.answer, comment: d.comment });
      this.saved = c.id;
      await this.load();
    } catch (err) {
      this.answerError = { id: c.id, code: err instanceof ApiError ? err.code : 'network' };
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-consultations-view': EcConsultationsView;
  }
}

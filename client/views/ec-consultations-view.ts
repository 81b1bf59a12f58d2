import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { Consultation, ConsultationAnswerKind } from '../../shared/protocol/consultations.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatDateTime, fromLocalInput } from '../services/format.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Written consultations (lấy ý kiến bằng văn bản): the questions sent to me, with a large answer
 * choice (agree / disagree / other opinion with a comment) until the deadline; after it, the result,
 * every comment and the PDF report. A committee secretary also sends new ones from here.
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
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  @state() private items: Consultation[] | null = null;
  @state() private error: string | null = null;
  @state() private draft = new Map<number, { answer: ConsultationAnswerKind | null; comment: string }>();
  @state() private saved: number | null = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.items = (await this.api.get<{ consultations: Consultation[] }>('/api/consultations')).consultations;
      this.error = null;
    } catch (e) {
      this.error = e instanceof ApiError ? e.code : 'network';
    }
  }

  override render() {
    return html`<div class="page">
      <h1>${msg('Lấy ý kiến bằng văn bản', { id: 'consult.title' })}</h1>
      ${this.error ? html`<p class="error" role="alert">${msg('Không tải được dữ liệu. Vui lòng thử lại.', { id: 'consult.loadError' })}</p>` : nothing}
      ${this.me?.secretaryOf.length ? this.renderCreate() : nothing}
      ${this.items === null && !this.error ? html`<p class="muted" role="status">${msg('Đang tải…', { id: 'consult.loading' })}</p>` : nothing}
      ${this.items?.length === 0 ? html`<p class="muted">${msg('Chưa có đợt lấy ý kiến nào.', { id: 'consult.empty' })}</p>` : nothing}
      ${this.items?.map((c) => this.renderItem(c))}
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
            ${this.saved === c.id ? html`<span class="ok" role="status">${msg('Đã ghi nhận ý kiến.', { id: 'consult.saved' })}</span>` : nothing}`
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

  private renderCreate() {
    return html`<details class="card">
      <summary><strong>${msg('Gửi xin ý kiến mới', { id: 'consult.new' })}</strong></summary>
      <form @submit=${(e: Event) => this.create(e)}>
        <label>${msg('Tiêu đề', { id: 'consult.form.title' })}<input name="title" required maxlength="300" /></label>
        <label>${msg('Nội dung xin ý kiến', { id: 'consult.form.question' })}<textarea name="question" rows="4" required></textarea></label>
        <label>${msg('Hạn trả lời', { id: 'consult.form.deadline' })}<input name="deadline" type="datetime-local" required /></label>
        <button class="primary" type="submit">${msg('Gửi', { id: 'consult.form.send' })}</button>
      </form>
    </details>`;
  }

  private async create(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    try {
      await this.api.post('/api/consultations', {
        committeeId: this.me!.secretaryOf[0],
        title: String(f.get('title')).trim(),
        question: String(f.get('question')),
        deadline: fromLocalInput(String(f.get('deadline'))),
      });
      form.reset();
      await this.load();
    } catch (err) {
      this.error = err instanceof ApiError ? err.code : 'network';
    }
  }

  private async answer(c: Consultation, d: { answer: ConsultationAnswerKind | null; comment: string }) {
    try {
      await this.api.put(`/api/consultations/${c.id}/answer`, { answer: d.answer, comment: d.comment });
      this.saved = c.id;
      await this.load();
    } catch (err) {
      this.error = err instanceof ApiError ? err.code : 'network';
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-consultations-view': EcConsultationsView;
  }
}

import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { LIMITS } from '../../shared/limits.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Task, TaskAttachment } from '../../shared/protocol/tasks.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { formatDate, formatDateTime } from '../services/format.js';
import { formatBytes, xhrPostForm } from '../services/upload.js';
import { sharedStyles } from '../styles/shared.js';

type TaskEvent = { id: number; kind: string; actorName: string | null; toStatus: string | null; comment: string; percent: number | null; at: string; attachments: TaskAttachment[] };

const { maxFiles, maxFileBytes, accept } = LIMITS.taskAttachments;

/** A user-facing sentence for a refused progress report with files (stable server codes → text). */
export function reportErrorMessage(status: number, code: string | undefined): string {
  switch (code) {
    case 'too_many_files':
      return msg(str`Tối đa ${maxFiles} tệp cho một báo cáo.`, { id: 'tasks.attach.tooMany' });
    case 'payload_too_large':
      return msg(str`Mỗi tệp tối đa ${maxFileBytes / (1024 * 1024)} MB.`, { id: 'tasks.attach.tooLarge' });
    case 'unsupported_file_type':
      return msg('Loại tệp không được chấp nhận (theo nội dung tệp): chỉ nhận PDF, ảnh PNG/JPEG, Word (docx), Excel (xlsx), văn bản thuần.', { id: 'tasks.attach.type' });
    case 'invalid_file':
      return msg('Tệp Word/Excel bị hỏng, không đọc được.', { id: 'tasks.attach.invalid' });
    case 'upload_incomplete':
    case 'network':
      return msg('Mất kết nối khi đang gửi; báo cáo chưa được lưu, hãy thử lại.', { id: 'tasks.attach.network' });
    case 'forbidden':
      return msg('Bạn không có quyền báo cáo tiến độ nhiệm vụ này.', { id: 'tasks.attach.forbidden' });
    case 'invalid_state':
    case 'version_conflict':
      return msg('Nhiệm vụ vừa thay đổi; hãy tải lại trang.', { id: 'tasks.attach.conflict' });
    default:
      return msg(str`Gửi báo cáo không thành công (mã ${status}).`, { id: 'tasks.attach.failed' });
  }
}

/** Vietnamese/English label of a task status. */
export function taskStatusLabel(s: Task['status']): string {
  switch (s) {
    case 'open':
      return msg('Chưa thực hiện', { id: 'tasks.status.open' });
    case 'in_progress':
      return msg('Đang thực hiện', { id: 'tasks.status.in_progress' });
    case 'done_reported':
      return msg('Chờ xác nhận hoàn thành', { id: 'tasks.status.done_reported' });
    case 'done':
      return msg('Hoàn thành', { id: 'tasks.status.done' });
    case 'cancelled':
      return msg('Đã hủy', { id: 'tasks.status.cancelled' });
  }
}

/**
 * One follow-up task: owner, co-operating units, deadline (overdue highlighted), status, progress;
 * with the actions the caller may take. Emits `ec-task-action` ({ action, taskId, comment, percent }).
 */
@localized()
@customElement('ec-task-card')
export class EcTaskCard extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        /* A grid item: long file names must shrink (ellipsis) instead of widening the page. */
        min-width: 0;
      }
      .card.overdue {
        border-left: 5px solid var(--ec-danger, #c62828);
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: baseline;
        justify-content: space-between;
      }
      dl.five {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 0.2rem 0.9rem;
        margin: 0.6rem 0;
        font-size: 0.95rem;
      }
      dl.five dt {
        color: var(--ec-muted);
        font-weight: 600;
      }
      dl.five dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      dl.five .desc {
        white-space: pre-line;
      }
      dl.five .concl,
      dl.five .steps {
        color: var(--ec-muted);
      }
      @media (max-width: 600px) {
        dl.five {
          grid-template-columns: minmax(0, 1fr);
        }
        dl.five dd {
          margin-bottom: 0.35rem;
        }
      }
      .overdue-tag {
        color: #fff;
        background: var(--ec-danger, #c62828);
        border-radius: 999px;
        padding: 0.1rem 0.6rem;
        font-size: 0.85rem;
      }
      form {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.5rem;
        margin-top: 0.5rem;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
      progress {
        width: 100%;
      }
      .attach input[type='file'] {
        display: none;
      }
      .files {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.35rem;
      }
      .files li {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        justify-content: space-between;
        background: var(--ec-surface-2);
        border-radius: var(--ec-radius);
        padding: 0 0 0 0.75rem;
      }
      .files .name,
      .history .name {
        flex: 1;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        min-width: 0;
      }
      .files li.bad {
        outline: 2px solid var(--ec-danger, #c62828);
      }
      .hint {
        font-size: 0.9rem;
        color: var(--ec-muted);
      }
      .error-line {
        color: var(--ec-danger, #c62828);
      }
      details.history summary {
        min-height: var(--ec-touch);
        display: flex;
        align-items: center;
        gap: 0.35rem;
        cursor: pointer;
        font-weight: 600;
        list-style: none;
      }
      details.history summary::-webkit-details-marker {
        display: none;
      }
      svg.icon {
        width: 1.1em;
        height: 1.1em;
        flex: none;
        fill: none;
        stroke: currentColor;
        stroke-width: 2;
        stroke-linecap: round;
        stroke-linejoin: round;
      }
      .history ol {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.6rem;
      }
      .history li.event {
        border-left: 3px solid var(--ec-border, #d0d7e2);
        padding-left: 0.75rem;
      }
      .history .when {
        font-size: 0.9rem;
        color: var(--ec-muted);
      }
      .history a.file {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        min-height: var(--ec-touch);
        padding: 0 0.5rem;
        min-width: 0;
        text-decoration: none;
        border-radius: var(--ec-radius);
      }
      .history a.file:hover,
      .history a.file:focus-visible {
        background: var(--ec-primary-soft);
      }
      .history .size {
        color: var(--ec-muted);
        font-size: 0.9rem;
        white-space: nowrap;
      }
    `,
  ];

  @property({ attribute: false }) task!: Task;
  @property() locale: Locale = 'vi';
  @consume({ context: apiContext }) private api!: Api;
  @state() private comment = '';
  @state() private percent = '';
  @state() private files: File[] = [];
  /** Upload progress 0..1 while a report is being sent, else null. */
  @state() private sending: number | null = null;
  /** The report's error, as a function so that it follows a language switch. */
  @state() private sendError: (() => string) | null = null;
  @state() private historyOpen = false;
  @state() private history: TaskEvent[] | null = null;
  @state() private historyError = false;

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A changed task (a report, a status change) refreshes an open history.
    const before = changed.get('task') as Task | undefined;
    if (before && this.historyOpen && before.updatedAt !== this.task.updatedAt) void this.loadHistory();
  }

  private async loadHistory() {
    try {
      this.history = (await this.api.get<{ history: TaskEvent[] }>(`/api/tasks/${this.task.id}`)).history;
      this.historyError = false;
    } catch {
      this.historyError = true;
    }
  }

  private fileProblem(f: File): string {
    return f.size > maxFileBytes ? msg(str`Mỗi tệp tối đa ${maxFileBytes / (1024 * 1024)} MB.`, { id: 'tasks.attach.tooLarge' }) : '';
  }

  private addFiles(list: FileList | null) {
    if (!list?.length) return;
    this.files = [...this.files, ...Array.from(list)];
    this.sendError = this.files.length > maxFiles ? () => msg(str`Tối đa ${maxFiles} tệp cho một báo cáo.`, { id: 'tasks.attach.tooMany' }) : null;
  }

  private removeFile(i: number) {
    this.files = this.files.filter((_, j) => j !== i);
    if (this.files.length <= maxFiles) this.sendError = null;
  }

  /** Sends the report (comment, percent, files) in one multipart request with a progress bar. */
  private async sendReport() {
    if (!this.comment.trim() || this.sending !== null) return;
    if (this.files.length > maxFiles || this.files.some((f) => this.fileProblem(f))) return;
    const fd = new FormData();
    fd.append('comment', this.comment);
    if (this.percent !== '') fd.append('percent', String(Math.round(Number(this.percent))));
    for (const f of this.files) fd.append('file', f, f.name);
    this.sending = 0;
    this.sendError = null;
    try {
      await xhrPostForm(`/api/tasks/${this.task.id}/reports`, fd, (p) => (this.sending = p));
      this.comment = '';
      this.percent = '';
      this.files = [];
      this.dispatchEvent(new CustomEvent('ec-task-action', { detail: { action: 'reported', taskId: this.task.id, comment: '' }, bubbles: true, composed: true }));
    } catch (e) {
      const err = e as { status: number; code?: string };
      this.sendError = () => reportErrorMessage(err.status, err.code);
    } finally {
      this.sending = null;
    }
  }

  private renderAttachForm() {
    return html`<div class="attach">
      <button type="button" class="secondary" data-testid="attach-files" ?disabled=${this.sending !== null} @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click()}>
        ${clipIcon} ${msg('Đính kèm tệp', { id: 'tasks.attach.pick' })}
      </button>
      <span class="hint">${msg(str`Tối đa ${maxFiles} tệp, mỗi tệp ${maxFileBytes / (1024 * 1024)} MB: PDF, ảnh, Word, Excel, văn bản.`, { id: 'tasks.attach.hint' })}</span>
      <input
        type="file"
        multiple
        accept=${accept}
        data-testid="attach-input"
        @change=${(e: Event) => {
          const input = e.target as HTMLInputElement;
          this.addFiles(input.files);
          input.value = '';
        }}
      />
      ${this.files.length
        ? html`<ul class="files" aria-label=${msg('Tệp đính kèm', { id: 'tasks.attach.list' })}>
            ${this.files.map((f, i) => {
              const problem = this.fileProblem(f);
              return html`<li class=${problem ? 'bad' : ''} data-testid="chosen-file">
                <span class="name" title=${f.name}>${f.name}</span>
                <span class="size">${formatBytes(f.size, this.locale)}${problem ? html` · <span class="error-line">${problem}</span>` : nothing}</span>
                <button type="button" class="icon" ?disabled=${this.sending !== null} aria-label=${msg(str`Bỏ tệp ${f.name}`, { id: 'tasks.attach.remove' })} @click=${() => this.removeFile(i)}>✕</button>
              </li>`;
            })}
          </ul>`
        : nothing}
    </div>`;
  }

  private renderHistory() {
    return html`<details
      class="history"
      ?open=${this.historyOpen}
      @toggle=${(e: Event) => {
        this.historyOpen = (e.target as HTMLDetailsElement).open;
        if (this.historyOpen) void this.loadHistory();
      }}
    >
      <summary data-testid="history-toggle">${msg('Lịch sử thực hiện', { id: 'tasks.history' })}</summary>
      ${this.historyError
        ? html`<p class="error" role="alert">
            ${msg('Không tải được lịch sử.', { id: 'tasks.history.error' })}
            <button type="button" class="secondary" @click=${() => void this.loadHistory()}>${msg('Thử lại', { id: 'tasks.retry' })}</button>
          </p>`
        : !this.history
          ? html`<p class="state"><span class="spinner"></span> ${msg('Đang tải…', { id: 'tasks.loading' })}</p>`
          : html`<ol>
              ${this.history.map(
                (h) => html`<li class="event" data-testid="history-event">
                  <div class="when">${formatDateTime(h.at, this.locale)} · ${h.actorName ?? ''}</div>
                  <div>
                    ${h.kind === 'created'
                      ? msg('Giao nhiệm vụ', { id: 'tasks.history.created' })
                      : h.kind === 'progress'
                        ? msg('Báo cáo tiến độ', { id: 'tasks.report' })
                        : h.toStatus
                          ? taskStatusLabel(h.toStatus as Task['status'])
                          : msg('Cập nhật', { id: 'tasks.history.edited' })}${h.percent != null ? html` · ${h.percent}%` : nothing}
                  </div>
                  ${h.comment ? html`<div>${h.comment}</div>` : nothing}
                  ${h.attachments.length
                    ? html`<ul class="files">
                        ${h.attachments.map(
                          (a) => html`<li>
                            <a class="file" href=${a.url} download=${a.fileName} data-testid="attachment-link">
                              ${fileIcon}<span class="name">${a.fileName}</span>
                              <span class="size">${formatBytes(a.size, this.locale)} · ${fileTypeLabel(a.contentType)}</span>
                            </a>
                          </li>`,
                        )}
                      </ul>`
                    : nothing}
                </li>`,
              )}
            </ol>`}
    </details>`;
  }

  private emit(action: string) {
    this.dispatchEvent(
      new CustomEvent('ec-task-action', {
        detail: { action, taskId: this.task.id, comment: this.comment, percent: this.percent === '' ? undefined : Number(this.percent) },
        bubbles: true,
        composed: true,
      }),
    );
    this.comment = '';
    this.percent = '';
  }

  override render() {
    const t = this.task;
    const owner = t.owner.kind === 'user' ? t.owner.name : t.owner.unit;
    return html`<article class="card ${t.overdue ? 'overdue' : ''}" data-testid="task-${t.id}">
      <div class="head">
        <strong>${t.title}</strong>
        <span>
          ${t.overdue ? html`<span class="overdue-tag" data-testid="overdue">${msg('Quá hạn', { id: 'tasks.overdue' })}</span>` : nothing}
          <span class="badge">${taskStatusLabel(t.status)}</span>
        </span>
      </div>
      <dl class="five" data-testid="five-clear" aria-label=${msg('5 rõ', { id: 'tasks.five' })}>
        <dt>${msg('Rõ người', { id: 'tasks.five.person' })}</dt>
        <dd data-testid="five-person">${owner}</dd>
        <dt>${msg('Rõ việc', { id: 'tasks.five.task' })}</dt>
        <dd><span class="desc">${t.description || t.title}</span></dd>
        <dt>${msg('Rõ quy trình', { id: 'tasks.five.process' })}</dt>
        <dd data-testid="five-process">
          ${t.meetingTitle ? html`<a href="/meetings/${t.meetingId}">${t.meetingTitle}</a>` : nothing}${t.agendaItemTitle ? html` › ${t.agendaItemTitle}` : nothing}
          ${t.conclusionText ? html`<div class="concl">${msg(str`Theo kết luận: ${t.conclusionText}`, { id: 'tasks.five.fromConclusion' })}</div>` : nothing}
          <div class="steps">
            ${t.assignedBy ? msg(str`Giao bởi ${t.assignedBy}`, { id: 'tasks.five.assignedBy' }) : nothing}
            ${msg('· Báo cáo tiến độ → báo cáo hoàn thành → thư ký xác nhận', { id: 'tasks.five.steps' })}
          </div>
        </dd>
        <dt>${msg('Rõ trách nhiệm', { id: 'tasks.five.responsibility' })}</dt>
        <dd>${msg(str`Chủ trì: ${owner}`, { id: 'tasks.owner' })}${t.coUnits.length ? html` · ${msg(str`Phối hợp: ${t.coUnits.join(', ')}`, { id: 'tasks.coUnits' })}` : nothing}</dd>
        <dt>${msg('Rõ kết quả', { id: 'tasks.five.result' })}</dt>
        <dd data-testid="five-result">
          ${t.expectedResult ? html`${t.expectedResult} · ` : nothing}${msg(str`Hạn: ${formatDate(t.deadline, this.locale)}`, { id: 'tasks.deadline' })}${t.percent != null
            ? html` · ${msg(str`đã đạt ${t.percent}%`, { id: 'tasks.five.percent' })}`
            : nothing}
        </dd>
      </dl>
      ${t.percent != null ? html`<progress max="100" value=${t.percent} aria-label=${msg('Tiến độ', { id: 'tasks.progress' })}></progress>` : nothing}
      ${t.can.report || t.can.markDone
        ? html`<form @submit=${(e: Event) => (e.preventDefault(), void this.sendReport())}>
            <label>
              ${msg('Báo cáo tiến độ', { id: 'tasks.report' })}
              <textarea rows="2" .value=${this.comment} @input=${(e: Event) => (this.comment = (e.target as HTMLTextAreaElement).value)} data-testid="progress-comment"></textarea>
            </label>
            <label>
              ${msg('Tỷ lệ hoàn thành (%)', { id: 'tasks.percent' })}
              <input type="number" min="0" max="100" inputmode="numeric" .value=${this.percent} @input=${(e: Event) => (this.percent = (e.target as HTMLInputElement).value)} />
            </label>
            ${t.can.report ? this.renderAttachForm() : nothing}
            ${this.sending !== null
              ? html`<label class="hint">${msg('Đang gửi báo cáo…', { id: 'tasks.attach.sending' })}<progress max="1" .value=${this.sending} data-testid="upload-progress"></progress></label>`
              : nothing}
            ${this.sendError ? html`<p class="error" role="alert" data-testid="report-error">${this.sendError()}</p>` : nothing}
            <div class="actions">
              ${t.can.report
                ? html`<button
                    type="submit"
                    class="primary"
                    ?disabled=${!this.comment.trim() || this.sending !== null || this.files.length > maxFiles || this.files.some((f) => this.fileProblem(f))}
                  >
                    ${msg('Gửi báo cáo', { id: 'tasks.send' })}
                  </button>`
                : nothing}
              ${t.can.markDone
                ? // "Done" carries a comment only: files chosen would be dropped silently, so send them first.
                  html`<button type="button" class="secondary" ?disabled=${this.files.length > 0 || this.sending !== null} @click=${() => this.emit('done')}>
                    ${msg('Báo cáo hoàn thành', { id: 'tasks.markDone' })}
                  </button>`
                : nothing}
            </div>
            ${t.can.markDone && this.files.length
              ? html`<p class="hint" data-testid="done-hint">${msg('Gửi báo cáo kèm các tệp đã chọn trước, rồi báo cáo hoàn thành.', { id: 'tasks.attach.doneHint' })}</p>`
              : nothing}
          </form>`
        : nothing}
      ${t.can.confirm
        ? html`<div class="actions">
            <button @click=${() => this.emit('confirm')}>${msg('Xác nhận hoàn thành', { id: 'tasks.confirm' })}</button>
            <button class="secondary" @click=${() => this.emit('reopen')}>${msg('Trả lại', { id: 'tasks.reopen' })}</button>
          </div>`
        : nothing}
      ${this.renderHistory()}
    </article>`;
  }
}

const clipIcon = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 12.5l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l9-9a3.7 3.7 0 0 1 5.2 5.2l-9 9a1.8 1.8 0 0 1-2.6-2.6l8.3-8.3"/></svg>`;
const fileIcon = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/><path d="M14 3v5h5M9 13h6M9 17h6"/></svg>`;

/** Short label of a sniffed content type. */
function fileTypeLabel(type: string): string {
  switch (type) {
    case 'application/pdf':
      return 'PDF';
    case 'image/png':
      return 'PNG';
    case 'image/jpeg':
      return 'JPEG';
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      return 'Word';
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
      return 'Excel';
    case 'text/plain':
      return msg('Văn bản', { id: 'tasks.attach.text' });
    default:
      return type;
  }
}

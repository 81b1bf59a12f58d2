import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Task } from '../../shared/protocol/tasks.js';
import '../components/ec-task-card.js';
import { type Api, ApiError } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import { sharedRealtime } from '../services/socket.js';
import { sharedStyles } from '../styles/shared.js';

/** What came of a task action (shown with `taskActionText`, at render time so that it follows a language switch). */
export type TaskActionOutcome = 'updated' | 'conflict' | 'offline' | 'failed';

/** Runs a task action from a card (progress, done, confirm, reopen; `reported` was sent by the card) and reports the outcome. */
export async function runTaskAction(api: Api, d: { action: string; taskId: number; comment: string; percent?: number }): Promise<TaskActionOutcome> {
  try {
    // 'reported': the card already sent the report (with its files) itself.
    if (d.action === 'reported') {
      /* nothing to send */
    } else if (d.action === 'progress') await api.post(`/api/tasks/${d.taskId}/progress`, { comment: d.comment, ...(d.percent != null ? { percent: d.percent } : {}) });
    else await api.post(`/api/tasks/${d.taskId}/${d.action}`, { comment: d.comment });
    window.dispatchEvent(new Event('ec-notifications-changed'));
    return 'updated';
  } catch (e) {
    if (e instanceof ApiError && e.code === 'version_conflict') return 'conflict';
    if (e instanceof ApiError && e.code === 'network') return 'offline';
    return 'failed';
  }
}

/** The notice line for a task action's outcome: a status for success, an alert otherwise. */
export function renderTaskOutcome(o: TaskActionOutcome | null) {
  if (!o) return nothing;
  const text =
    o === 'updated'
      ? msg('Đã cập nhật nhiệm vụ.', { id: 'tasks.updated' })
      : o === 'conflict'
        ? msg('Nhiệm vụ vừa được cập nhật; đã tải lại.', { id: 'tasks.conflict' })
        : o === 'offline'
          ? msg('Không có kết nối mạng.', { id: 'tasks.offline' })
          : msg('Không thực hiện được thao tác.', { id: 'tasks.actionError' });
  return o === 'updated' ? html`<p class="notice" role="status">${text}</p>` : html`<p class="error" role="alert">${text}</p>`;
}

/** "My tasks": owned by me or my unit, or where my unit co-operates; overdue first. */
@localized()
@customElement('ec-my-tasks-view')
export class EcMyTasksView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .list {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.75rem;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  #tasks = new Loader(this, async () => (await this.api.get<{ tasks: Task[] }>('/api/tasks/mine')).tasks);
  @state() private notice: TaskActionOutcome | null = null;

  #unsubscribe: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // A task assigned to me (or a reminder, a confirmation) arrives as a notification push: refresh.
    this.#unsubscribe = sharedRealtime().on('notifications:new', (push) => {
      if (push.data.kind.startsWith('task_')) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Refreshes in place: the list (or the error) stays until the new result arrives. */
  private load = () => this.#tasks.load({ keepValue: true, keepError: true });

  private async onAction(e: CustomEvent<{ action: string; taskId: number; comment: string; percent?: number }>) {
    this.notice = await runTaskAction(this.api, e.detail);
    await this.load();
  }

  override render() {
    const tasks = this.#tasks.value;
    return html`<div class="page">
      <h1>${msg('Nhiệm vụ của tôi', { id: 'tasks.mine' })}</h1>
      ${renderTaskOutcome(this.notice)}
      ${this.#tasks.error
        ? html`<p class="error" role="alert">${msg('Không tải được danh sách nhiệm vụ.', { id: 'tasks.loadError' })} <button class="secondary" @click=${this.load}>${msg('Thử lại', { id: 'tasks.retry' })}</button></p>`
        : !tasks
          ? html`<p class="state"><span class="spinner"></span> ${msg('Đang tải…', { id: 'tasks.loading' })}</p>`
          : tasks.length === 0
            ? html`<p class="muted">${msg('Bạn không có nhiệm vụ nào.', { id: 'tasks.empty' })}</p>`
            : html`<div class="list" @ec-task-action=${this.onAction}>${tasks.map((t) => html`<ec-task-card .task=${t} .locale=${this.locale}></ec-task-card>`)}</div>`}
    </div>`;
  }
}

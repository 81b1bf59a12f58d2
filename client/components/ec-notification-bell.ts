import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Notification } from '../../shared/protocol/notifications.js';
import type { NotificationList } from '../services/types.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { formatStamp } from '../services/format.js';
import { navigate } from '../services/router.js';
import { sharedRealtime } from '../services/socket.js';
import { sharedStyles } from '../styles/shared.js';

/** Fallback poll; news normally arrives as the `notifications:new` push. */
const POLL_MS = 300_000;

/**
 * Notification bell: unread count from GET /api/notifications, refreshed when the server pushes
 * `notifications:new` on the app's socket, when the window regains focus or an
 * `ec-notifications-changed` event reaches window, and by a slow poll; and a list panel.
 */
@localized()
@customElement('ec-notification-bell')
export class EcNotificationBell extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        position: relative;
        display: inline-flex;
      }
      .bell {
        position: relative;
        background: transparent;
        color: #fff;
        border-color: rgb(255 255 255 / 35%);
        padding: 0 0.6rem;
      }
      .bell:hover:not(:disabled) {
        background: rgb(255 255 255 / 12%);
      }
      .count {
        position: absolute;
        top: -6px;
        right: -6px;
        min-width: 22px;
        height: 22px;
        padding: 0 5px;
        border-radius: 11px;
        background: var(--ec-accent);
        color: #fff;
        font-size: 0.75rem;
        display: grid;
        place-items: center;
        border: 2px solid var(--ec-primary-strong);
      }
      .panel {
        position: absolute;
        right: 0;
        top: calc(100% + 8px);
        width: min(380px, 92vw);
        max-height: 70vh;
        overflow: auto;
        z-index: 40;
        background: var(--ec-surface);
        color: var(--ec-text);
        border: 1px solid var(--ec-border);
        border-radius: var(--ec-radius);
        box-shadow: 0 8px 30px rgb(16 30 54 / 25%);
      }
      .head {
        display: flex;
        align-items: center;
        justify-content: space-between;
        padding: 0.5rem 0.75rem;
        border-bottom: 1px solid var(--ec-border);
        font-weight: 600;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li a {
        display: block;
        padding: 0.65rem 0.9rem;
        min-height: var(--ec-touch);
        text-decoration: none;
        color: var(--ec-text);
        border-bottom: 1px solid var(--ec-border);
      }
      li a:hover {
        background: var(--ec-surface-2);
      }
      li.unread a {
        background: var(--ec-primary-soft);
        font-weight: 600;
      }
      li small {
        display: block;
        color: var(--ec-muted);
        font-weight: 400;
      }
      @media (max-width: 700px) {
        .panel {
          position: fixed;
          left: 4vw;
          right: 4vw;
          top: 64px;
          width: auto;
        }
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  @state() private items: Notification[] = [];
  @state() private unread = 0;
  @state() private open = false;
  @state() private failed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => void) | undefined;

  #refresh = async () => {
    try {
      const r = await this.api.get<NotificationList>('/api/notifications');
      this.items = r.notifications;
      this.unread = r.unread;
      this.failed = false;
    } catch {
      this.failed = true;
    }
  };
  #onDocClick = (e: MouseEvent) => {
    if (this.open && !e.composedPath().includes(this)) this.open = false;
  };
  #onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && this.open) this.open = false;
  };

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#refresh();
    this.#timer = setInterval(() => void this.#refresh(), POLL_MS);
    this.#unsubscribe = sharedRealtime().on('notifications:new', () => void this.#refresh());
    window.addEventListener('focus', this.#refresh);
    window.addEventListener('ec-notifications-changed', this.#refresh);
    document.addEventListener('click', this.#onDocClick);
    document.addEventListener('keydown', this.#onKey);
  }
  override disconnectedCallback(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    window.removeEventListener('focus', this.#refresh);
    window.removeEventListener('ec-notifications-changed', this.#refresh);
    document.removeEventListener('click', this.#onDocClick);
    document.removeEventListener('keydown', this.#onKey);
    super.disconnectedCallback();
  }

  #text(n: Notification): string {
    const title = typeof n.data.title === 'string' ? n.data.title : '';
    switch (n.kind) {
      case 'meeting_published':
        return msg(str`Bạn được mời họp: ${title}`, { id: 'notifications.meetingPublished' });
      case 'meeting_updated':
        return msg(str`Cuộc họp đã thay đổi: ${title}`, { id: 'notifications.meetingUpdated' });
      case 'agenda_updated':
        return msg(str`Chương trình họp đã cập nhật: ${title}`, { id: 'notifications.agendaUpdated' });
      case 'task_assigned':
        return msg(str`Nhiệm vụ mới giao cho bạn: ${title}`, { id: 'notifications.taskAssigned' });
      case 'task_due_soon':
        return msg(str`Nhiệm vụ sắp đến hạn: ${title}`, { id: 'notifications.taskDueSoon' });
      case 'task_overdue':
        return msg(str`Nhiệm vụ đã quá hạn: ${title}`, { id: 'notifications.taskOverdue' });
      case 'task_done_reported':
        return msg(str`Nhiệm vụ được báo cáo hoàn thành, chờ xác nhận: ${title}`, { id: 'notifications.taskDoneReported' });
      case 'consultation_sent':
        return msg(str`Xin ý kiến bằng văn bản: ${title}`, { id: 'notifications.consultationSent' });
      case 'consultation_reminder':
        return msg(str`Nhắc trả lời xin ý kiến: ${title}`, { id: 'notifications.consultationReminder' });
      case 'consultation_closed':
        return msg(str`Đã có kết quả xin ý kiến: ${title}`, { id: 'notifications.consultationClosed' });
      case 'minutes_to_sign':
        return msg(str`Biên bản chờ bạn ký: ${title}`, { id: 'notifications.minutesToSign' });
      case 'minutes_published':
        return msg(str`Biên bản đã được công bố: ${title}`, { id: 'notifications.minutesPublished' });
      default:
        return typeof n.data.text === 'string' ? n.data.text : msg('Thông báo mới', { id: 'notifications.generic' });
    }
  }

  async #read(n: Notification, e: MouseEvent) {
    this.open = false;
    // "Reported done, awaiting confirmation" goes to whoever assigned the task: they confirm it on the
    // committee's board, not in their own task list (where it is not). The board needs the committee.
    if (n.kind === 'task_done_reported' && typeof n.data.taskId === 'number' && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      void this.api
        .get<{ committeeId: number }>(`/api/tasks/${n.data.taskId}`)
        .then((t) => navigate(`/committees/${t.committeeId}/tasks`))
        .catch(() => navigate(notificationHref(n)));
    }
    if (!n.readAt) {
      try {
        await this.api.post(`/api/notifications/${n.id}/read`);
      } catch {
        /* the list refresh below shows the real state */
      }
      void this.#refresh();
    }
  }

  async #readAll() {
    try {
      await this.api.post('/api/notifications/read-all');
    } finally {
      void this.#refresh();
    }
  }

  override render() {
    const label = msg(str`Thông báo (${this.unread} chưa đọc)`, { id: 'notifications.bellLabel' });
    return html`<button class="bell" aria-label=${label} title=${label} aria-expanded=${this.open} @click=${() => {
        this.open = !this.open;
        if (this.open) void this.#refresh();
      }}>
        <svg width="24" height="24" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
          <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" /><path d="M13.7 21a2 2 0 0 1-3.4 0" />
        </svg>
        ${this.unread ? html`<span class="count" data-testid="unread-count">${this.unread > 99 ? '99+' : this.unread}</span>` : nothing}
      </button>
      ${this.open
        ? html`<div class="panel" role="dialog" aria-label=${msg('Thông báo', { id: 'notifications.title' })}>
            <div class="head">
              <span>${msg('Thông báo', { id: 'notifications.title' })}</span>
              ${this.unread ? html`<button @click=${() => void this.#readAll()}>${msg('Đánh dấu đã đọc hết', { id: 'notifications.readAll' })}</button>` : nothing}
            </div>
            ${this.failed ? html`<p class="error" style="margin:0.75rem">${msg('Không tải được thông báo.', { id: 'notifications.loadFailed' })}</p>` : nothing}
            ${this.items.length === 0
              ? html`<p class="state">${msg('Chưa có thông báo nào.', { id: 'notifications.empty' })}</p>`
              : html`<ul>
                  ${this.items.map(
                    (n) => html`<li class=${n.readAt ? '' : 'unread'}>
                      <a href=${notificationHref(n)} @click=${(e: MouseEvent) => void this.#read(n, e)}
                        >${this.#text(n)}<small>${formatStamp(n.createdAt, this.locale)}</small></a
                      >
                    </li>`,
                  )}
                </ul>`}
          </div>`
        : nothing}`;
  }
}

/**
 * Where a notification leads: tasks and consultations to their lists, minutes to the meeting's minutes.
 * (A task reported done opens its committee's board instead: see `#read`; this is its fallback.)
 */
function notificationHref(n: Notification): string {
  if (n.kind === 'task_done_reported' && n.meetingId) return `/meetings/${n.meetingId}`;
  if (n.kind.startsWith('task_')) return '/tasks';
  if (n.kind.startsWith('consultation_')) return '/consultations';
  if (n.kind.startsWith('minutes_') && n.meetingId) return `/meetings/${n.meetingId}/minutes`;
  return n.meetingId ? `/meetings/${n.meetingId}` : '#';
}

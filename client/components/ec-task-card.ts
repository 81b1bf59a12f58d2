import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Task } from '../../shared/protocol/tasks.js';
import { formatDate } from '../services/format.js';
import { sharedStyles } from '../styles/shared.js';

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
      .meta {
        color: var(--ec-muted);
        font-size: 0.95rem;
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
    `,
  ];

  @property({ attribute: false }) task!: Task;
  @property() locale: Locale = 'vi';
  @state() private comment = '';
  @state() private percent = '';

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
      <p class="meta">
        ${msg(str`Chủ trì: ${owner}`, { id: 'tasks.owner' })}${t.coUnits.length ? html` · ${msg(str`Phối hợp: ${t.coUnits.join(', ')}`, { id: 'tasks.coUnits' })}` : nothing} ·
        ${msg(str`Hạn: ${formatDate(t.deadline, this.locale)}`, { id: 'tasks.deadline' })}
        ${t.meetingTitle ? html` · ${t.meetingTitle}` : nothing}
      </p>
      ${t.description ? html`<p>${t.description}</p>` : nothing}
      ${t.percent != null ? html`<progress max="100" value=${t.percent} aria-label=${msg('Tiến độ', { id: 'tasks.progress' })}></progress>` : nothing}
      ${t.can.report || t.can.markDone
        ? html`<form @submit=${(e: Event) => (e.preventDefault(), this.comment.trim() && this.emit('progress'))}>
            <label>
              ${msg('Báo cáo tiến độ', { id: 'tasks.report' })}
              <textarea rows="2" .value=${this.comment} @input=${(e: Event) => (this.comment = (e.target as HTMLTextAreaElement).value)} data-testid="progress-comment"></textarea>
            </label>
            <label>
              ${msg('Tỷ lệ hoàn thành (%)', { id: 'tasks.percent' })}
              <input type="number" min="0" max="100" inputmode="numeric" .value=${this.percent} @input=${(e: Event) => (this.percent = (e.target as HTMLInputElement).value)} />
            </label>
            <div class="actions">
              ${t.can.report ? html`<button type="submit" ?disabled=${!this.comment.trim()}>${msg('Gửi báo cáo', { id: 'tasks.send' })}</button>` : nothing}
              ${t.can.markDone ? html`<button type="button" class="secondary" @click=${() => this.emit('done')}>${msg('Báo cáo hoàn thành', { id: 'tasks.markDone' })}</button>` : nothing}
            </div>
          </form>`
        : nothing}
      ${t.can.confirm
        ? html`<div class="actions">
            <button @click=${() => this.emit('confirm')}>${msg('Xác nhận hoàn thành', { id: 'tasks.confirm' })}</button>
            <button class="secondary" @click=${() => this.emit('reopen')}>${msg('Trả lại', { id: 'tasks.reopen' })}</button>
          </div>`
        : nothing}
    </article>`;
  }
}

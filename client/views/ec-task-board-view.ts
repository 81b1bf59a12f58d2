import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Task } from '../../shared/protocol/tasks.js';
import '../components/ec-task-card.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { Loader } from '../services/loader.js';
import { sharedStyles } from '../styles/shared.js';
import { type TaskActionOutcome, renderTaskOutcome, runTaskAction } from './ec-my-tasks-view.js';

type Filter = 'open' | 'overdue' | 'done' | 'all';
type Grouping = 'none' | 'owner' | 'meeting';

/** Tasks grouped by a key, groups with the most overdue tasks first (ties: first seen). */
export function groupTasks(tasks: Task[], key: (t: Task) => string): { key: string; tasks: Task[]; overdue: number }[] {
  const groups = new Map<string, Task[]>();
  for (const t of tasks) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return [...groups]
    .map(([k, list]) => ({ key: k, tasks: list, overdue: list.filter((t) => t.overdue).length }))
    .sort((a, b) => b.overdue - a.overdue);
}

/** The follow-up board of a committee: open tasks, overdue first; filters; CSV and PDF export. */
@localized()
@customElement('ec-task-board-view')
export class EcTaskBoardView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .filters {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: end;
        margin-bottom: 1rem;
      }
      .filters button[aria-pressed='true'] {
        background: var(--ec-primary);
        color: #fff;
      }
      .list {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 0.75rem;
      }
      .group h2 {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: baseline;
        font-size: 1.1rem;
      }
      .group h2 .count {
        font-weight: 400;
        color: var(--ec-muted);
        font-size: 0.95rem;
      }
      .group h2 .late {
        color: var(--ec-danger, #c62828);
        font-size: 0.95rem;
      }
      a.button {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
        padding: 0 1rem;
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';
  #tasks = new Loader(this, async () => (await this.api.get<{ tasks: Task[] }>(`/api/committees/${this.params.id}/tasks`, this.filterQuery)).tasks);
  @state() private filter: Filter = 'open';
  @state() private grouping: Grouping = 'none';
  @state() private q = '';
  @state() private notice: TaskActionOutcome | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private get filterQuery() {
    return { status: this.filter, ...(this.q.trim() ? { q: this.q.trim() } : {}) };
  }

  /** Refreshes in place: the board (or the error) stays until the new result arrives. */
  private load() {
    return this.#tasks.load({ keepValue: true, keepError: true });
  }

  private labels(): [Filter, string][] {
    return [
      ['open', msg('Đang mở', { id: 'tasks.filter.open' })],
      ['overdue', msg('Quá hạn', { id: 'tasks.filter.overdue' })],
      ['done', msg('Hoàn thành', { id: 'tasks.filter.done' })],
      ['all', msg('Tất cả', { id: 'tasks.filter.all' })],
    ];
  }

  private groupings(): [Grouping, string][] {
    return [
      ['none', msg('Danh sách', { id: 'tasks.group.none' })],
      ['owner', msg('Theo người chủ trì', { id: 'tasks.group.owner' })],
      ['meeting', msg('Theo cuộc họp', { id: 'tasks.group.meeting' })],
    ];
  }

  private renderList(tasks: Task[]) {
    const cards = (list: Task[]) => list.map((t) => html`<ec-task-card .task=${t} .locale=${this.locale}></ec-task-card>`);
    if (this.grouping === 'none') return html`<div class="list">${cards(tasks)}</div>`;
    const key = this.grouping === 'owner' ? (t: Task) => (t.owner.kind === 'user' ? t.owner.name : t.owner.unit) : (t: Task) => t.meetingTitle ?? msg('Không thuộc cuộc họp', { id: 'tasks.group.noMeeting' });
    return groupTasks(tasks, key).map(
      (g, i) => html`<section class="group" aria-labelledby="group-${i}" data-testid="task-group">
        <h2 id="group-${i}">
          <span data-testid="group-name">${g.key}</span>
          <span class="count">${msg(str`Số nhiệm vụ: ${g.tasks.length}`, { id: 'tasks.group.count' })}</span>
          ${g.overdue ? html`<span class="late" data-testid="group-overdue">${msg(str`${g.overdue} quá hạn`, { id: 'tasks.group.overdue' })}</span>` : nothing}
        </h2>
        <div class="list">${cards(g.tasks)}</div>
      </section>`,
    );
  }

  override render() {
    const qs = new URLSearchParams(this.filterQuery as Record<string, string>).toString();
    const tasks = this.#tasks.value;
    return html`<div class="page">
      <h1>${msg('Theo dõi thực hiện nhiệm vụ', { id: 'tasks.board' })}</h1>
      <div class="filters" role="group" aria-label=${msg('Lọc', { id: 'tasks.filter' })}>
        ${this.labels().map(([f, l]) => html`<button class="secondary" aria-pressed=${this.filter === f ? 'true' : 'false'} @click=${() => ((this.filter = f), this.load())}>${l}</button>`)}
        <label>
          ${msg('Tìm', { id: 'tasks.search' })}
          <input type="search" .value=${this.q} @change=${(e: Event) => ((this.q = (e.target as HTMLInputElement).value), this.load())} />
        </label>
        <a class="btn" href="/api/committees/${this.params.id}/tasks.csv?${qs}" download>CSV</a>
        <a class="btn" href="/api/committees/${this.params.id}/tasks.pdf?${qs}" target="_blank" rel="noopener">PDF</a>
      </div>
      <div class="filters" role="group" aria-label=${msg('Nhóm', { id: 'tasks.group' })}>
        ${this.groupings().map(([g, l]) => html`<button class="secondary" data-testid="group-${g}" aria-pressed=${this.grouping === g ? 'true' : 'false'} @click=${() => (this.grouping = g)}>${l}</button>`)}
      </div>
      ${renderTaskOutcome(this.notice)}
      ${this.#tasks.error
        ? html`<p class="error" role="alert">
            ${msg('Không tải được bảng theo dõi.', { id: 'tasks.boardError' })}
            <button class="secondary" @click=${() => void this.load()}>${msg('Thử lại', { id: 'tasks.retry' })}</button>
          </p>`
        : !tasks
          ? html`<p class="state"><span class="spinner"></span> ${msg('Đang tải…', { id: 'tasks.loading' })}</p>`
          : tasks.length === 0
            ? html`<p class="muted">${msg('Không có nhiệm vụ nào.', { id: 'tasks.boardEmpty' })}</p>`
            : html`<div @ec-task-action=${async (e: CustomEvent) => ((this.notice = await runTaskAction(this.api, e.detail)), this.load())}>${this.renderList(tasks)}</div>`}
    </div>`;
  }
}

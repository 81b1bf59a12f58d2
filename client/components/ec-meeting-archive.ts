import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { ArchiveList, ArchiveView } from '../../shared/protocol/archive.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { sharedStyles } from '../styles/shared.js';

/** How often the state of an archive being built is asked for (ms). */
const POLL_MS = 500;

/**
 * The archival package of a closed meeting, for its secretary: build it (a job on the server), watch
 * its progress, download the zip. Renders nothing for anyone the server refuses (not the secretary).
 */
@localized()
@customElement('ec-meeting-archive')
export class EcMeetingArchive extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      h2 {
        margin-top: 0;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: center;
      }
      progress {
        width: min(100%, 24rem);
        height: 1.25rem;
      }
      .sum {
        font-family: ui-monospace, monospace;
        font-size: 0.85rem;
        overflow-wrap: anywhere;
        color: var(--ec-muted);
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  /** null: not loaded yet; 'hidden': the server says this is not for us. */
  @state() private allowed: boolean | null = null;
  @state() private archive: ArchiveView | null = null;
  @state() private error = '';
  @state() private starting = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #load() {
    try {
      const list = await this.api.get<ArchiveList>(`/api/meetings/${this.meetingId}/archives`);
      this.allowed = true;
      this.archive = list.archives.find((a) => a.state !== 'expired') ?? null;
      if (this.archive && (this.archive.state === 'queued' || this.archive.state === 'building')) this.#poll();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) this.allowed = false;
      else {
        this.allowed = true;
        this.error = msg('Không tải được thông tin lưu trữ.', { id: 'archive.loadFailed' });
      }
    }
  }

  async #start() {
    this.starting = true;
    this.error = '';
    try {
      this.archive = await this.api.post<ArchiveView>(`/api/meetings/${this.meetingId}/archives`);
      this.#poll();
    } catch (e) {
      this.error = e instanceof ApiError && e.code === 'invalid_state' ? msg('Chỉ lưu trữ được cuộc họp đã kết thúc.', { id: 'archive.notClosed' }) : msg('Không tạo được gói lưu trữ. Thử lại.', { id: 'archive.startFailed' });
    } finally {
      this.starting = false;
    }
  }

  #poll() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(async () => {
      this.#timer = null;
      if (!this.archive || !this.isConnected) return;
      try {
        this.archive = await this.api.get<ArchiveView>(`/api/archives/${this.archive.id}`);
      } catch {
        // A blip: ask again at the next tick.
      }
      if (this.archive && (this.archive.state === 'queued' || this.archive.state === 'building')) this.#poll();
    }, POLL_MS);
  }

  override render() {
    if (!this.allowed) return nothing;
    const a = this.archive;
    const working = this.starting || a?.state === 'queued' || a?.state === 'building';
    return html`<section aria-labelledby="archive-h" data-testid="meeting-archive">
      <h2 id="archive-h">${msg('Lưu trữ phiên họp', { id: 'archive.title' })}</h2>
      <p class="muted">
        ${msg('Một tệp nén gồm biên bản đã ký, tài liệu đã phát hành, kết quả biểu quyết (CSV và PDF), điểm danh, nhật ký và bảng mã kiểm tra SHA-256.', {
          id: 'archive.hint',
        })}
      </p>
      ${working
        ? html`<div class="row" role="status" aria-live="polite" data-testid="archive-progress">
            <progress
              max=${Math.max(1, a?.progress.total ?? 0)}
              .value=${a?.progress.done ?? 0}
              aria-label=${msg('Tiến độ đóng gói', { id: 'archive.progressLabel' })}
            ></progress>
            <span
              >${a && a.progress.total
                ? msg(str`Đang đóng gói: ${a.progress.done}/${a.progress.total} phần`, { id: 'archive.building' })
                : msg('Đang chờ đóng gói…', { id: 'archive.queued' })}</span
            >
          </div>`
        : nothing}
      ${a?.state === 'done'
        ? html`<div class="row">
              <a class="btn primary" href="/api/archives/${a.id}/file" download=${a.fileName} data-testid="archive-download"
                >${msg(str`Tải gói lưu trữ (${formatSize(a.size ?? 0)})`, { id: 'archive.download' })}</a
              >
              <button type="button" @click=${() => void this.#start()} data-testid="archive-rebuild">${msg('Tạo lại', { id: 'archive.rebuild' })}</button>
            </div>
            <p class="muted">${msg(str`Tạo lúc ${formatDateTime(a.finishedAt ?? a.requestedAt, this.locale)}`, { id: 'archive.madeAt' })}</p>
            <p class="sum" data-testid="archive-sha256">SHA-256: ${a.sha256}</p>`
        : nothing}
      ${a?.state === 'failed' ? html`<p class="error" role="alert">${msg('Đóng gói không thành công.', { id: 'archive.failed' })}</p>` : nothing}
      ${!working && (!a || a.state === 'failed')
        ? html`<button type="button" class="primary" @click=${() => void this.#start()} data-testid="archive-start">${msg('Tạo gói lưu trữ', { id: 'archive.start' })}</button>`
        : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
    </section>`;
  }
}

/** Bytes as KB/MB, for the download button. */
function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-meeting-archive': EcMeetingArchive;
  }
}

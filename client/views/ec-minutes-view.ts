import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Locale, Me } from '../../shared/protocol/auth.js';
import type { Agenda } from '../../shared/protocol/agenda.js';
import { MINUTES_GENERATED, type MinutesBlock, type MinutesState, type MinutesVersion } from '../../shared/protocol/minutes.js';
import '../components/ec-item-conclusions.js';
import '../components/ec-minutes-blocks.js';
import '../components/ec-minutes-editor.js';
import '../components/ec-sign-dialog.js';
import { ApiError, type Api } from '../services/api.js';
import { apiContext, localeContext, meContext } from '../services/context.js';
import { formatDateTime } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { sharedRealtime } from '../services/socket.js';
import { type YjsConnection, openYjsDoc } from '../services/yjs.js';
import { sharedStyles } from '../styles/shared.js';

type Version = MinutesState['versions'][number];

/**
 * The minutes of a meeting: generated sections (read-only, recomputed by the server from the
 * meeting's authoritative state) and the secretaries' free text, written together live; versions
 * with their signatures and acknowledgements; finalize (secretary), sign with PIN (chair,
 * secretary), acknowledge (participants, once published), PDF.
 */
@localized()
@customElement('ec-minutes-view')
export class EcMinutesView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .layout {
        display: grid;
        gap: 1rem;
      }
      .generated {
        border-left: 4px solid var(--ec-primary);
        background: var(--ec-surface-2);
      }
      .versions ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.75rem;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .actions a.button {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
        padding: 0 1rem;
      }
      .who {
        font-size: 0.95rem;
      }
      .tag {
        font-size: 0.85rem;
        color: var(--ec-muted);
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: meContext, subscribe: true }) private me: Me | null = null;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  #minutes = new Loader(this, () => this.api.get<MinutesState>(`/api/meetings/${this.meetingId}/minutes`), {
    // Whoever may read the text (the writers, the chair, everyone once a version is published) joins its live document.
    onValue: (m) => {
      const canRead = m.canEdit || m.signAs === 'chair' || m.versions.some((v) => v.publishedAt);
      if (canRead && !this.conn) this.connect(m.docName);
    },
  });
  @state() private notice = '';
  @state() private busy = false;
  @state() private generated: { id: string; blocks: MinutesBlock[] }[] = [];
  @state() private conn: YjsConnection | null = null;
  @state() private connStatus = '';
  @state() private signing: Version | null = null;
  @state() private signError = '';
  @state() private viewing: MinutesVersion | null = null;
  /** The agenda, loaded for the secretary and the chair, who record conclusions from here too. */
  #agenda = new Loader(this, () => this.api.get<Agenda>(`/api/meetings/${this.meetingId}/agenda`));

  private get meetingId() {
    return Number(this.params.id);
  }

  private get minutes(): MinutesState | null {
    return this.#minutes.value ?? null;
  }

  #unsubscribe: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // "To sign" / "published" notifications: the versions (and, once published, the text) change.
    this.#unsubscribe = sharedRealtime().on('notifications:new', (push) => {
      if (push.data.kind.startsWith('minutes_')) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.conn?.destroy();
    this.conn = null;
  }

  /** Refreshes in place (the page, or its error, stays until the new state arrives); then the agenda once, for those who record conclusions. */
  private async load() {
    await this.#minutes.load({ keepValue: true, keepError: true });
    const m = this.minutes;
    if (m && !this.#minutes.error && (m.canEdit || m.signAs === 'chair') && !this.#agenda.value) await this.#agenda.load();
  }

  private connect(name: string) {
    const conn = openYjsDoc(name, { api: this.api, meetingId: this.meetingId });
    const map = conn.doc.getMap(MINUTES_GENERATED);
    const read = () => (this.generated = (map.get('sections') as { id: string; blocks: MinutesBlock[] }[] | undefined) ?? []);
    map.observe(read);
    read();
    conn.addEventListener('change', () => (this.connStatus = conn.status + (conn.synced ? ':synced' : '')));
    this.conn = conn;
  }

  private async finalize() {
    this.busy = true;
    this.notice = '';
    try {
      const v = await this.api.post<MinutesVersion>(`/api/meetings/${this.meetingId}/minutes/finalize`);
      this.notice = msg(str`Đã chốt phiên bản ${v.version}.`, { id: 'minutes.finalized' });
      await this.load();
    } catch (e) {
      this.notice = e instanceof ApiError && e.code === 'already_finalized' ? msg('Nội dung không thay đổi so với phiên bản đã chốt.', { id: 'minutes.alreadyFinalized' }) : msg('Không chốt được biên bản.', { id: 'minutes.finalizeError' });
    } finally {
      this.busy = false;
    }
  }

  private async sign(pin: string) {
    const v = this.signing;
    if (!v) return;
    this.busy = true;
    this.signError = '';
    try {
      await this.api.post(`/api/meetings/${this.meetingId}/minutes/versions/${v.version}/sign`, { pin, contentHash: v.contentHash });
      this.signing = null;
      this.notice = msg('Đã ký số biên bản.', { id: 'minutes.signed' });
      await this.load();
    } catch (e) {
      const code = e instanceof ApiError ? e.code : '';
      const left = e instanceof ApiError ? ((e.details as { attemptsLeft?: number } | undefined)?.attemptsLeft ?? null) : null;
      this.signError =
        code === 'wrong_pin'
          ? left != null
            ? msg(str`Mã PIN không đúng. Còn ${left} lần thử.`, { id: 'minutes.wrongPinLeft' })
            : msg('Mã PIN không đúng.', { id: 'minutes.wrongPin' })
          : code === 'pin_locked'
            ? msg('Đã nhập sai quá số lần cho phép; chức năng ký tạm khóa.', { id: 'minutes.pinLocked' })
            : code === 'version_changed'
              ? msg('Biên bản đã thay đổi; vui lòng xem lại phiên bản mới nhất.', { id: 'minutes.versionChanged' })
              : msg('Không ký được biên bản.', { id: 'minutes.signError' });
      if (code === 'version_changed') await this.load();
    } finally {
      this.busy = false;
    }
  }

  private async ack(v: Version) {
    this.busy = true;
    try {
      await this.api.post(`/api/meetings/${this.meetingId}/minutes/versions/${v.version}/ack`);
      this.notice = msg('Đã xác nhận đã đọc biên bản.', { id: 'minutes.acked' });
      await this.load();
    } catch {
      this.notice = msg('Không xác nhận được.', { id: 'minutes.ackError' });
    } finally {
      this.busy = false;
    }
  }

  private async view(v: Version) {
    this.viewing = this.viewing?.version === v.version ? null : await this.api.get<MinutesVersion>(`/api/meetings/${this.meetingId}/minutes/versions/${v.version}`);
  }

  private statusLabel(v: Version) {
    if (v.status === 'superseded') return msg('Đã thay thế', { id: 'minutes.superseded' });
    if (v.status === 'signed') return msg('Đã ký, đã phát hành', { id: 'minutes.published' });
    return msg('Đã chốt, chờ ký', { id: 'minutes.awaiting' });
  }

  private renderVersion(v: Version, latest: boolean) {
    const m = this.minutes!;
    const mine = m.signAs && !v.signatures.some((s) => s.role === m.signAs);
    const roleLabel = (r: 'chair' | 'secretary') => (r === 'chair' ? msg('Chủ tọa', { id: 'minutes.roleChair' }) : msg('Thư ký', { id: 'minutes.roleSecretary' }));
    return html`<li class="card" data-testid="minutes-version-${v.version}">
      <div class="actions">
        <strong>${msg(str`Phiên bản ${v.version}`, { id: 'minutes.version' })} · ${v.number}</strong>
        <span class="badge">${this.statusLabel(v)}</span>
        <span class="tag">${formatDateTime(v.finalizedAt, this.locale)}</span>
      </div>
      <p class="who">
        ${msg('Chữ ký:', { id: 'minutes.signatures' })}
        ${v.signatures.length ? v.signatures.map((s) => html`<span data-testid="signature-${s.role}">${roleLabel(s.role)}: ${s.fullName} (${formatDateTime(s.signedAt, this.locale)}); </span>`) : msg('chưa có', { id: 'minutes.none' })}
      </p>
      ${v.publishedAt
        ? html`<p class="who" data-testid="acks">
            ${msg(str`Đã xác nhận đọc: ${v.acknowledgements.length}`, { id: 'minutes.ackCount' })}
            ${v.acknowledgements.length ? html` — ${v.acknowledgements.map((a) => a.fullName).join(', ')}` : nothing}
          </p>`
        : nothing}
      <div class="actions">
        <a class="btn" href="/api/meetings/${this.meetingId}/minutes/versions/${v.version}/pdf" target="_blank" rel="noopener">${msg('Xem PDF', { id: 'minutes.pdf' })}</a>
        <button class="secondary" @click=${() => this.view(v)}>${this.viewing?.version === v.version ? msg('Ẩn nội dung', { id: 'minutes.hide' }) : msg('Xem nội dung', { id: 'minutes.show' })}</button>
        ${latest && v.status === 'finalized' && mine
          ? html`<button data-testid="sign-open" @click=${() => ((this.signing = v), (this.signError = ''))}>${msg(str`Ký với tư cách ${roleLabel(m.signAs!)}`, { id: 'minutes.signAs' })}</button>`
          : nothing}
        ${v.publishedAt && latest && !v.acknowledgedByMe && !m.canEdit
          ? html`<button data-testid="ack" ?disabled=${this.busy} @click=${() => this.ack(v)}>${msg('Xác nhận đã đọc', { id: 'minutes.ack' })}</button>`
          : nothing}
        ${v.acknowledgedByMe ? html`<span class="badge closed">${msg('Bạn đã xác nhận', { id: 'minutes.youAcked' })}</span>` : nothing}
      </div>
      ${this.viewing?.version === v.version ? html`<ec-minutes-blocks .blocks=${this.viewing.content}></ec-minutes-blocks>` : nothing}
    </li>`;
  }

  override render() {
    const error = this.#minutes.error ?? this.#agenda.error;
    if (error)
      return html`<div class="page">
        <p class="error" role="alert">
          ${error.code === 'not_found' ? msg('Không tìm thấy cuộc họp.', { id: 'minutes.notFound' }) : msg('Không tải được biên bản. Vui lòng thử lại.', { id: 'minutes.loadError' })}
        </p>
      </div>`;
    const m = this.minutes;
    if (!m) return html`<div class="page"><p class="state"><span class="spinner"></span> ${msg('Đang tải biên bản…', { id: 'minutes.loading' })}</p></div>`;
    const c = this.conn;
    const latest = m.versions[0];
    return html`<div class="page layout">
      <div class="actions">
        <h1>${msg('Biên bản cuộc họp', { id: 'minutes.title' })}</h1>
        <a href="/meetings/${this.meetingId}">${msg('← Về cuộc họp', { id: 'minutes.back' })}</a>
      </div>
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
      ${c && c.status === 'offline' ? html`<p class="notice">${msg('Mất kết nối — nội dung sẽ đồng bộ khi có mạng trở lại.', { id: 'minutes.offline' })}</p>` : nothing}
      ${c && c.status === 'forbidden' ? html`<p class="error">${msg('Bạn không có quyền xem bản thảo biên bản.', { id: 'minutes.forbidden' })}</p>` : nothing}
      ${c
        ? html`<section class="card generated" aria-label=${msg('Phần tự động', { id: 'minutes.generated' })}>
              <h2>${msg('Phần tự động (cập nhật theo diễn biến cuộc họp)', { id: 'minutes.generatedTitle' })}</h2>
              ${this.generated.length
                ? this.generated.map((s) => html`<ec-minutes-blocks data-section=${s.id} .blocks=${s.blocks}></ec-minutes-blocks>`)
                : html`<p class="state"><span class="spinner"></span> ${msg('Đang đồng bộ…', { id: 'minutes.syncing' })}</p>`}
            </section>
            <section aria-label=${msg('Ghi chép của thư ký', { id: 'minutes.freeText' })}>
              <h2>${msg('Ý kiến thảo luận và ghi chép của thư ký', { id: 'minutes.freeTextTitle' })}</h2>
              <ec-minutes-editor .doc=${c.doc} .provider=${c.provider} .userName=${this.me?.fullName ?? ''} ?editable=${m.canEdit}></ec-minutes-editor>
            </section>`
        : html`<p class="muted">${msg('Biên bản chưa được phát hành.', { id: 'minutes.notPublished' })}</p>`}
      ${this.#agenda.value
        ? html`<details class="card" data-testid="minutes-conclusions">
            <summary><h2>${msg('Ghi kết luận và giao nhiệm vụ', { id: 'minutes.recordConclusions' })}</h2></summary>
            <ec-item-conclusions .meetingId=${this.meetingId} .items=${this.#agenda.value.items} editable></ec-item-conclusions>
          </details>`
        : nothing}
      ${m.canEdit
        ? html`<div class="actions">
            <button data-testid="finalize" ?disabled=${this.busy} @click=${this.finalize}>${msg('Chốt biên bản và tạo PDF', { id: 'minutes.finalize' })}</button>
            <span class="muted">${msg('Mọi thay đổi sau khi ký cần chốt phiên bản mới và ký lại.', { id: 'minutes.finalizeHint' })}</span>
          </div>`
        : nothing}
      <section class="versions">
        <h2>${msg('Các phiên bản', { id: 'minutes.versions' })}</h2>
        ${m.versions.length ? html`<ul>${m.versions.map((v) => this.renderVersion(v, v === latest))}</ul>` : html`<p class="muted">${msg('Chưa có phiên bản nào.', { id: 'minutes.noVersions' })}</p>`}
      </section>
      ${this.signing
        ? html`<ec-sign-dialog
            .roleLabel=${m.signAs === 'chair' ? msg('Chủ tọa', { id: 'minutes.roleChair' }) : msg('Thư ký', { id: 'minutes.roleSecretary' })}
            .versionLabel=${msg(str`phiên bản ${this.signing.version}`, { id: 'minutes.versionLower' })}
            .busy=${this.busy}
            .error=${this.signError}
            @ec-sign=${(e: CustomEvent<{ pin: string }>) => this.sign(e.detail.pin)}
            @ec-cancel=${() => (this.signing = null)}
          ></ec-sign-dialog>`
        : nothing}
    </div>`;
  }
}

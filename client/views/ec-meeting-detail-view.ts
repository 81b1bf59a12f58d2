import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Agenda } from '../../shared/protocol/agenda.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Meeting } from '../../shared/protocol/meetings.js';
import '../components/ec-agenda-tree.js';
import '../components/ec-item-conclusions.js';
import '../components/ec-item-notes-panel.js';
import '../components/ec-meeting-archive.js';
import type { Api } from '../services/api.js';
import { apiContext, localeContext } from '../services/context.js';
import { formatSpan } from '../services/format.js';
import { Loader } from '../services/loader.js';
import { modeLabel, quorumLabel, roleLabel, statusLabel } from '../services/labels.js';
import { sharedStyles } from '../styles/shared.js';

/** One meeting: facts, the agenda tree and the participants with their roles. */
@localized()
@customElement('ec-meeting-detail-view')
export class EcMeetingDetailView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .head {
        display: flex;
        gap: 1rem;
        align-items: flex-start;
        flex-wrap: wrap;
      }
      .head h1 {
        flex: 1 1 420px;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.35rem 1.25rem;
        margin: 0;
      }
      dt {
        color: var(--ec-muted);
      }
      dd {
        margin: 0;
      }
      .cols {
        display: grid;
        grid-template-columns: minmax(0, 1.7fr) minmax(0, 1fr);
        gap: 1.25rem;
        margin-top: 1.25rem;
        align-items: start;
      }
      .cols h2 {
        margin-top: 0;
      }
      .people {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .people li {
        display: flex;
        justify-content: space-between;
        gap: 0.5rem;
        padding: 0.55rem 0;
        border-bottom: 1px solid var(--ec-border);
      }
      .people li:last-child {
        border-bottom: 0;
      }
      .people small {
        display: block;
        color: var(--ec-muted);
      }
      .people small.vote {
        white-space: nowrap;
        color: var(--ec-success);
      }
      .back {
        display: inline-flex;
        align-items: center;
        min-height: var(--ec-touch);
        margin-bottom: 0.25rem;
        text-decoration: none;
      }
      .desc {
        white-space: pre-line;
        margin: 0.75rem 0 0;
      }
      @media (max-width: 900px) {
        .cols {
          grid-template-columns: 1fr;
        }
      }
      @media (max-width: 600px) {
        dl {
          grid-template-columns: 1fr;
          gap: 0 0;
        }
        dd {
          margin-bottom: 0.4rem;
        }
      }
    `,
  ];

  @property({ attribute: false }) params: Record<string, string> = {};
  @consume({ context: apiContext }) private api!: Api;
  @consume({ context: localeContext, subscribe: true }) private locale: Locale = 'vi';

  #data = new Loader(this, async () => {
    const id = this.params.id;
    const [meeting, agenda] = await Promise.all([this.api.get<Meeting>(`/api/meetings/${id}`), this.api.get<Agenda>(`/api/meetings/${id}/agenda`)]);
    return { meeting, agenda };
  });

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  #load() {
    return this.#data.load({ keepValue: true });
  }

  override render() {
    const error = this.#data.error;
    if (error)
      return html`<div class="page">
        ${error.status === 404 || error.code === 'invalid_payload'
          ? html`<h1>${msg('Không tìm thấy cuộc họp', { id: 'meetings.notFound' })}</h1>
              <p class="muted">${msg('Cuộc họp không tồn tại hoặc bạn không được mời.', { id: 'meetings.notFoundHint' })}</p>`
          : html`<p class="error" role="alert">${error.code === 'network' ? msg('Không kết nối được máy chủ.', { id: 'app.networkError' }) : msg('Không tải được cuộc họp.', { id: 'meetings.detailLoadFailed' })}</p>
              <button @click=${() => void this.#load()}>${msg('Thử lại', { id: 'app.retry' })}</button>`}
        <p><a class="btn" href="/meetings">${msg('Về danh sách cuộc họp', { id: 'app.backToMeetings' })}</a></p>
      </div>`;
    if (!this.#data.value) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
    const { meeting: m, agenda } = this.#data.value;
    return html`<div class="page">
      <a class="back" href="/meetings">← ${msg('Cuộc họp', { id: 'meetings.title' })}</a>
      <div class="head">
        <h1 data-testid="meeting-title">${m.title}</h1>
        <span class="badge ${m.status}" data-testid="meeting-status">${statusLabel(m.status)}</span>
        ${m.canManage && (m.status === 'draft' || m.status === 'published')
          ? html`<a class="btn primary" href="/meetings/${m.id}/edit" data-testid="edit-meeting">${msg('Chuẩn bị cuộc họp', { id: 'meetings.edit' })}</a>`
          : nothing}
        ${m.status !== 'draft' ? html`<a class="btn" href="/meetings/${m.id}/minutes" data-testid="minutes-link">${msg('Biên bản', { id: 'minutes.link' })}</a> <a class="btn" href="/committees/${m.committeeId}/tasks">${msg('Theo dõi nhiệm vụ', { id: 'tasks.boardLink' })}</a>` : nothing}
      </div>
      <nav class="head" aria-label=${msg('Phiên họp', { id: 'meetings.sessionNav' })} data-testid="meeting-nav">
        <a class="btn" href="/meetings/${m.id}/documents">${msg('Tài liệu họp', { id: 'meetings.link.documents' })}</a>
        ${m.status !== 'draft'
          ? html`<a class="btn primary" href="/meetings/${m.id}/live">${msg('Vào phòng họp', { id: 'meetings.link.live' })}</a>
              ${m.canManage || m.myRole === 'chair'
                ? html`<a class="btn" href="/meetings/${m.id}/console">${msg('Điều hành', { id: 'meetings.link.console' })}</a>`
                : nothing}
              <a class="btn" href="/meetings/${m.id}/display">${msg('Màn hình lớn', { id: 'meetings.link.display' })}</a>
              <a class="btn" href="/meetings/${m.id}/av">${msg('Âm thanh & hình ảnh', { id: 'meetings.link.av' })}</a>
              <a class="btn" href="/meetings/${m.id}/annotations">${msg('Ghi chú của tôi', { id: 'meetings.link.annotations' })}</a>`
          : nothing}
      </nav>
      <div class="card">
        <dl>
          <dt>${msg('Thời gian', { id: 'meetings.field.time' })}</dt>
          <dd>${formatSpan(m.startsAt, m.endsAt, this.locale)}</dd>
          <dt>${msg('Địa điểm', { id: 'meetings.field.place' })}</dt>
          <dd>${m.roomName ? `${m.roomName} · ` : ''}${modeLabel(m.mode)}</dd>
          <dt>${msg('Đơn vị chủ trì', { id: 'meetings.field.committee' })}</dt>
          <dd>${m.committeeName}</dd>
          <dt>${msg('Điều kiện hợp lệ', { id: 'meetings.field.quorum' })}</dt>
          <dd>${quorumLabel(m.quorumRule)}</dd>
          ${m.myRole ? html`<dt>${msg('Vai trò của bạn', { id: 'meetings.field.myRole' })}</dt><dd>${roleLabel(m.myRole)}</dd>` : nothing}
        </dl>
        ${m.description ? html`<p class="desc">${m.description}</p>` : nothing}
      </div>
      <div class="cols">
        <section class="card" aria-labelledby="agenda-h">
          <h2 id="agenda-h">${msg('Chương trình họp', { id: 'agenda.title' })}</h2>
          <ec-agenda-tree .items=${agenda.items}></ec-agenda-tree>
        </section>
        <section class="card" aria-labelledby="people-h">
          <h2 id="people-h">${msg('Thành phần tham dự', { id: 'meetings.participants' })} (${m.participants.length})</h2>
          ${m.participants.length
            ? html`<ul class="people" data-testid="participants">
                ${m.participants.map(
                  (p) => html`<li>
                    <span>${p.fullName}<small>${[p.title, p.unit].filter(Boolean).join(', ')}</small></span>
                    <span style="text-align:right"
                      ><span class="badge ${p.role === 'chair' ? 'live' : p.role === 'guest' ? 'draft' : ''}">${roleLabel(p.role)}</span>
                      ${p.canVote ? html`<small class="vote">✓ ${msg('Biểu quyết', { id: 'editor.canVote' })}</small>` : nothing}</span
                    >
                  </li>`,
                )}
              </ul>`
            : html`<p class="muted">${msg('Chưa có người tham dự.', { id: 'meetings.noParticipants' })}</p>`}
        </section>
      </div>
      ${m.status !== 'draft'
        ? html`<section class="card" style="margin-top:1.25rem" aria-labelledby="conclusions-h" data-testid="conclusions">
            <h2 id="conclusions-h" style="margin-top:0">${msg('Kết luận và giao nhiệm vụ', { id: 'conclusions.title' })}</h2>
            <ec-item-conclusions .meetingId=${m.id} .items=${agenda.items} ?editable=${m.canManage || m.myRole === 'chair'}></ec-item-conclusions>
          </section>`
        : nothing}
      ${m.status === 'closed' && m.canManage ? html`<div class="card" style="margin-top:1.25rem"><ec-meeting-archive .meetingId=${m.id}></ec-meeting-archive></div>` : nothing}
      <section class="card" style="margin-top:1.25rem" data-testid="item-notes"><ec-item-notes-panel .meetingId=${m.id} .items=${agenda.items} ?editable=${m.canManage}></ec-item-notes-panel></section>
    </div>`;
  }
}

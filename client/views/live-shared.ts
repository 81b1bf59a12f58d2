import { msg } from '@lit/localize';
import { css, html, nothing } from 'lit';
import type { AttendanceStatus, LiveSnapshot, PresenterState, SpeakerKind } from '../../shared/protocol/live.js';
import type { LiveSession } from '../services/live.js';

/** Labels and pieces shared by the live views (member, chair console, room display). */

export function kindLabel(k: SpeakerKind): string {
  return k === 'speech'
    ? msg('Phát biểu', { id: 'live.kind.speech' })
    : k === 'question'
      ? msg('Chất vấn', { id: 'live.kind.question' })
      : msg('Kiến nghị thủ tục', { id: 'live.kind.pointOfOrder' });
}

export function attendanceLabel(s: AttendanceStatus | null): string {
  switch (s) {
    case 'in_room':
      return msg('Có mặt tại phòng', { id: 'live.att.inRoom' });
    case 'remote':
      return msg('Dự trực tuyến', { id: 'live.att.remote' });
    case 'absent':
      return msg('Vắng mặt', { id: 'live.att.absent' });
    case 'proxy':
      return msg('Ủy quyền', { id: 'live.att.proxy' });
    default:
      return msg('Chưa điểm danh', { id: 'live.att.unknown' });
  }
}

/**
 * The presenter is a participant with no connection to the meeting now (their tablet dropped off):
 * followers stay on the last page shown; the chair may stop or take over from the console.
 */
export function presenterOffline(st: LiveSnapshot, p: PresenterState): boolean {
  return !!p && st.attendance.attendance.find((a) => a.userId === p.presenterId)?.online === false;
}

/** The "offline — reconnecting" banner, or nothing while online. */
export function connectionBanner(session: LiveSession | null) {
  if (!session || session.connection === 'online') return nothing;
  return html`<div class="offline" role="status" data-testid="offline">
    ${session.client.refused === 'unauthenticated'
      ? msg('Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.', { id: 'live.sessionExpired' })
      : msg('Mất kết nối — đang kết nối lại…', { id: 'live.offline' })}
  </div>`;
}

export const liveStyles = css`
  .offline {
    background: var(--ec-warning-soft, #fff4d6);
    color: var(--ec-warning, #7a5200);
    border: 1px solid currentColor;
    border-radius: 8px;
    padding: 0.6rem 1rem;
    margin-bottom: 0.75rem;
    font-weight: 600;
  }
  .floor {
    display: flex;
    align-items: center;
    gap: 1rem;
    flex-wrap: wrap;
  }
  .floor .who {
    font-size: 1.25rem;
    font-weight: 700;
  }
  .floor ec-live-timer {
    font-size: 2rem;
    margin-left: auto;
  }
  .current-item {
    font-size: 1.2rem;
    font-weight: 600;
  }
  .kind {
    display: inline-block;
    padding: 0.1rem 0.6rem;
    border-radius: 999px;
    background: var(--ec-primary-soft);
    color: var(--ec-primary-strong);
    font-size: 0.9rem;
    font-weight: 600;
  }
  .kind.point_of_order {
    background: var(--ec-danger-soft, #fde7e7);
    color: var(--ec-danger, #b3261e);
  }
  ol.queue,
  ul.plain {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.4rem;
  }
  ol.queue li,
  ul.plain li {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    flex-wrap: wrap;
    min-height: var(--ec-touch);
    padding: 0.25rem 0.5rem;
    border-radius: 8px;
    background: var(--ec-surface);
    border: 1px solid var(--ec-border);
  }
  .dot {
    width: 0.7rem;
    height: 0.7rem;
    border-radius: 50%;
    background: #b9c0cb;
    flex: none;
  }
  .dot.on {
    background: var(--ec-success, #1d6b35);
  }
  .grid2 {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    gap: 1rem;
    align-items: start;
  }
  @media (max-width: 760px) {
    .grid2 {
      grid-template-columns: minmax(0, 1fr);
    }
  }
  .stack {
    display: grid;
    gap: 1rem;
  }
  .card h2:first-child {
    margin-top: 0;
  }
`;

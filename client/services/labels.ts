import { msg } from '@lit/localize';
import type { MeetingRole } from '../../shared/protocol/committees.js';
import type { MeetingMode, MeetingStatus, QuorumRule } from '../../shared/protocol/meetings.js';

/** Localized labels for the shared enums. Call at render time (msg() reads the current locale). */
export function statusLabel(s: MeetingStatus): string {
  switch (s) {
    case 'draft':
      return msg('Bản nháp', { id: 'meetings.status.draft' });
    case 'published':
      return msg('Đã công bố', { id: 'meetings.status.published' });
    case 'live':
      return msg('Đang họp', { id: 'meetings.status.live' });
    case 'paused':
      return msg('Tạm dừng', { id: 'meetings.status.paused' });
    case 'closed':
      return msg('Đã kết thúc', { id: 'meetings.status.closed' });
  }
}

export function roleLabel(r: MeetingRole): string {
  switch (r) {
    case 'chair':
      return msg('Chủ tọa', { id: 'meetings.role.chair' });
    case 'secretary':
      return msg('Thư ký', { id: 'meetings.role.secretary' });
    case 'member':
      return msg('Thành viên', { id: 'meetings.role.member' });
    case 'guest':
      return msg('Khách mời', { id: 'meetings.role.guest' });
  }
}

export function modeLabel(m: MeetingMode): string {
  switch (m) {
    case 'in_person':
      return msg('Trực tiếp', { id: 'meetings.mode.inPerson' });
    case 'hybrid':
      return msg('Kết hợp', { id: 'meetings.mode.hybrid' });
    case 'online':
      return msg('Trực tuyến', { id: 'meetings.mode.online' });
  }
}

export function quorumLabel(q: QuorumRule): string {
  switch (q.kind) {
    case 'majority':
      return msg('Quá bán (hơn 1/2 thành viên có quyền biểu quyết)', { id: 'meetings.quorum.majority' });
    case 'two_thirds':
      return msg('Ít nhất 2/3 thành viên có quyền biểu quyết', { id: 'meetings.quorum.twoThirds' });
    case 'count':
      return msg('Số thành viên tối thiểu', { id: 'meetings.quorum.count' }) + `: ${q.count}`;
  }
}

export const MEETING_ROLES: MeetingRole[] = ['chair', 'secretary', 'member', 'guest'];
export const MEETING_MODES: MeetingMode[] = ['in_person', 'hybrid', 'online'];

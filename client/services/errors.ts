import { msg, str } from '@lit/localize';
import { LIMITS } from '../../shared/limits.js';
import { ApiError } from './api.js';
import { CommandError } from './socket.js';

/**
 * What the user was doing when a request or command failed. The same code reads differently in
 * each (a refused `forbidden` while recording a conclusion names who may; while voting it does
 * not), so the text is picked by code AND context, from one place.
 */
export type ErrorContext =
  | 'command'
  | 'vote'
  | 'delegation'
  | 'admin'
  | 'conclusions'
  | 'agenda'
  | 'meeting-editor'
  | 'consultation'
  | 'consultation-answer';

/**
 * The stable code of a failure: the server's code of an `ApiError` or `CommandError` (or the
 * client-side `network`, `offline`, `connection_lost`, `timeout`), the string itself when it is
 * already a code, else `fallback`.
 */
export function errorCode(e: unknown, fallback = 'internal'): string {
  if (e instanceof ApiError || e instanceof CommandError) return e.code;
  if (typeof e === 'string') return e;
  return fallback;
}

type Texts = Readonly<Record<string, (e: unknown) => string>>;

/** Why the server refused a proxy (the codes of shared/rules/proxies.ts), the same for the live views and votes. */
const PROXY: Texts = {
  proxy_to_self: () => msg('Không thể tự ủy quyền cho chính mình.', { id: 'proxy.err.self' }),
  proxy_giver_not_voter: () => msg('Người này không có quyền biểu quyết để ủy quyền.', { id: 'proxy.err.giverNotVoter' }),
  proxy_giver_present: () => msg('Thành viên đang có mặt: chỉ chính họ mới ủy quyền được khi rời phiên họp.', { id: 'proxy.err.giverPresent' }),
  proxy_reason_required: () => msg('Hãy nhập lý do (giấy ủy quyền).', { id: 'proxy.err.reason' }),
  proxy_holder_room_station: () => msg('Tài khoản thiết bị phòng họp không nhận ủy quyền.', { id: 'proxy.err.roomStation' }),
  proxy_holder_is_recorder: () => msg('Người ghi nhận không thể tự nhận ủy quyền.', { id: 'proxy.err.recorder' }),
  proxy_holder_not_voter: () => msg('Chỉ ủy quyền biểu quyết cho thành viên có quyền biểu quyết.', { id: 'proxy.err.holderNotVoter' }),
  proxy_chain: () =>
    msg('Không ủy quyền tiếp được: người nhận đã ủy quyền phiếu của mình, hoặc người ủy quyền đang giữ phiếu của người khác.', { id: 'proxy.err.chain' }),
  proxy_limit_reached: () => msg('Người này đã nhận đủ số ủy quyền tối đa theo quy định của ban.', { id: 'proxy.err.limit' }),
};

const liveOffline = () => msg('Mất kết nối: thao tác chưa được gửi. Hãy thử lại khi có kết nối.', { id: 'live.err.offline' });
const voteOffline = () => msg('Mất kết nối: phiếu chưa được gửi. Hãy thử lại khi có kết nối.', { id: 'votes.err.offline' });
const notSaved = () => msg('Không kết nối được máy chủ. Thay đổi chưa được lưu.', { id: 'agenda.network' });
const editorForbidden = () => msg('Bạn không có quyền chuẩn bị cuộc họp này.', { id: 'editor.forbidden' });
const consultNetwork = () => msg('Mất kết nối. Vui lòng thử lại.', { id: 'consult.err.network' });

/** A live-meeting command (speakers, attendance, opening, presenting). */
const COMMAND: Texts = {
  ...PROXY,
  offline: liveOffline,
  connection_lost: liveOffline,
  forbidden: () => msg('Bạn không có quyền thực hiện thao tác này.', { id: 'live.err.forbidden' }),
  no_quorum: () => msg('Chưa đủ túc số. Nhập lý do để vẫn khai mạc.', { id: 'live.err.noQuorum' }),
  not_checked_in: () => msg('Hãy điểm danh trước khi đăng ký phát biểu.', { id: 'live.err.notCheckedIn' }),
  invalid_state: () => msg('Thao tác không phù hợp với trạng thái hiện tại của phiên họp.', { id: 'live.err.invalidState' }),
  rate_limited: () => msg('Thao tác quá nhanh, vui lòng thử lại.', { id: 'live.err.rateLimited' }),
};

/** A vote command (cast, open, close, casting vote), and why a member cannot vote. */
const VOTE: Texts = {
  offline: voteOffline,
  connection_lost: voteOffline,
  absent: () => msg('Bạn cần điểm danh trước khi biểu quyết.', { id: 'votes.err.absent' }),
  not_eligible: () => msg('Bạn không có quyền biểu quyết trong phiên họp này.', { id: 'votes.err.notEligible' }),
  vote_delegated: () => msg('Bạn đã ủy quyền biểu quyết cho người khác.', { id: 'votes.err.delegated' }),
  already_voted: () => msg('Phiếu của bạn đã được ghi nhận.', { id: 'votes.err.alreadyVoted' }),
  vote_closed: () => msg('Biểu quyết đã kết thúc.', { id: 'votes.err.closed' }),
  vote_not_open: () => msg('Biểu quyết chưa bắt đầu.', { id: 'votes.err.notOpen' }),
  too_many_choices: () => msg('Bạn chọn quá số lượng cho phép.', { id: 'votes.err.tooMany' }),
  vote_annulled: () => msg('Biểu quyết này đã bị hủy.', { id: 'votes.err.annulled' }),
  no_quorum: () => msg('Chưa đủ túc số: nhập lý do để vẫn mở biểu quyết.', { id: 'votes.err.noQuorum' }),
  meeting_not_live: () => msg('Hãy khai mạc phiên họp trước khi mở biểu quyết.', { id: 'votes.err.notLive' }),
  casting_vote_required: () => msg('Kết quả hòa: chủ tọa cần chọn phương án quyết định.', { id: 'votes.err.casting' }),
  forbidden: () => msg('Bạn không có quyền thực hiện thao tác này.', { id: 'votes.err.forbidden' }),
  invalid_payload: () => msg('Thông tin chưa hợp lệ, vui lòng kiểm tra lại.', { id: 'votes.err.invalid' }),
};

/** For each context: the texts of the codes it words, and the text of any other code. */
const CONTEXTS: Record<ErrorContext, { texts: Texts; other: () => string }> = {
  command: { texts: COMMAND, other: () => msg('Không thực hiện được thao tác.', { id: 'live.err.generic' }) },
  vote: { texts: VOTE, other: () => msg('Không thực hiện được thao tác.', { id: 'votes.err.generic' }) },
  delegation: {
    texts: {
      ...VOTE,
      ...PROXY,
      invalid_delegation: () => msg('Không ủy quyền được cho người này (có thể họ đã ủy quyền cho người khác).', { id: 'votes.deleg.invalid' }),
      meeting_closed: () => msg('Phiên họp đã kết thúc.', { id: 'votes.deleg.closed' }),
    },
    other: () => msg('Không thực hiện được thao tác.', { id: 'votes.err.generic' }),
  },
  admin: {
    texts: {
      conflict: () => msg('Tên đăng nhập đã có người dùng.', { id: 'admin.conflict' }),
      email_taken: () => msg('Địa chỉ thư điện tử này đã được dùng cho tài khoản khác.', { id: 'admin.users.emailTaken' }),
      invalid_payload: (e) => {
        const detail = e instanceof ApiError ? e.message : '';
        return (
          msg('Thông tin chưa hợp lệ. Kiểm tra các ô bắt buộc (tên đăng nhập: chữ thường, số, dấu chấm, gạch; mật khẩu ít nhất 8 ký tự).', { id: 'admin.invalid' }) +
          (detail ? ` (${detail})` : '')
        );
      },
      network: notSaved,
    },
    other: () => msg('Không lưu được thay đổi.', { id: 'agenda.saveFailed' }),
  },
  conclusions: {
    texts: {
      deadline_in_past: () => msg('Thời hạn phải sau thời điểm hiện tại.', { id: 'conclusions.err.deadline' }),
      unknown_owner: () => msg('Người hoặc đơn vị chủ trì không có trong danh bạ.', { id: 'conclusions.err.owner' }),
      forbidden: () => msg('Chỉ thư ký hoặc chủ tọa được ghi kết luận và giao nhiệm vụ.', { id: 'conclusions.err.forbidden' }),
      invalid_payload: () => msg('Dữ liệu chưa hợp lệ: kiểm tra nội dung và các trường bắt buộc.', { id: 'conclusions.err.invalid' }),
      network: () => msg('Không kết nối được máy chủ.', { id: 'app.networkError' }),
    },
    other: () => msg('Không lưu được. Vui lòng thử lại.', { id: 'conclusions.err.failed' }),
  },
  agenda: {
    texts: {
      version_conflict: () =>
        msg('Chương trình họp vừa được người khác thay đổi. Đã tải lại bản mới nhất — vui lòng thao tác lại.', { id: 'agenda.conflict' }),
      invalid_move: () =>
        msg(str`Không thể chuyển mục tới vị trí đó (tối đa ${LIMITS.agendaDepth} cấp, không đặt một mục vào trong chính nó).`, { id: 'agenda.invalidMove' }),
      network: notSaved,
      invalid_payload: () => msg('Dữ liệu chưa hợp lệ. Kiểm tra lại tiêu đề và thời lượng.', { id: 'agenda.invalid' }),
      invalid_state: () => msg('Không thể sửa chương trình của cuộc họp ở trạng thái này.', { id: 'agenda.invalidState' }),
    },
    other: () => msg('Không lưu được thay đổi.', { id: 'agenda.saveFailed' }),
  },
  'meeting-editor': {
    texts: {
      version_conflict: () =>
        msg('Cuộc họp vừa được người khác thay đổi. Đã tải lại bản mới nhất — vui lòng kiểm tra và lưu lại.', { id: 'editor.conflict' }),
      invalid_payload: () =>
        msg('Thông tin chưa hợp lệ: kiểm tra tiêu đề, thời gian (kết thúc sau bắt đầu) và thành phần.', { id: 'editor.invalid' }),
      network: notSaved,
      forbidden: editorForbidden,
      not_found: editorForbidden,
    },
    other: () => msg('Không lưu được cuộc họp.', { id: 'editor.saveFailed' }),
  },
  consultation: {
    texts: {
      document_confidential: () =>
        msg('Tài liệu mật chỉ gửi được cho những người đã có quyền xem tài liệu đó. Hãy bỏ tài liệu mật ra.', { id: 'consult.err.confidential' }),
      document_restricted: () =>
        msg('Tài liệu chỉ dành cho người được chỉ định chỉ gửi được cho những người có tên trong danh sách xem. Hãy bỏ tài liệu đó ra hoặc bớt người nhận.', {
          id: 'consult.err.restricted',
        }),
      document_not_published: () => msg('Hãy công bố tài liệu trước khi gửi.', { id: 'consult.err.unpublished' }),
      network: consultNetwork,
    },
    other: () => msg('Chưa gửi được. Vui lòng kiểm tra lại thông tin.', { id: 'consult.err.generic' }),
  },
  'consultation-answer': {
    texts: {
      consultation_closed: () => msg('Đã hết hạn trả lời; ý kiến chưa được ghi nhận.', { id: 'consult.err.answerClosed' }),
      network: consultNetwork,
    },
    other: () => msg('Chưa ghi nhận được ý kiến. Vui lòng thử lại.', { id: 'consult.err.answer' }),
  },
};

/**
 * The one text the user reads for a failure: `error` is an `ApiError`, a `CommandError` or a code
 * (one of shared/protocol/errors.ts, or a client-side one: `network`, `offline`, `connection_lost`);
 * the wording is that of `context`, with a generic sentence of that context for any other code.
 * Localized at call time (Vietnamese default, English through msg()), so call it while rendering.
 */
export function errorText(error: unknown, context: ErrorContext, fallbackCode = 'internal'): string {
  const { texts, other } = CONTEXTS[context];
  const code = errorCode(error, fallbackCode);
  return Object.hasOwn(texts, code) ? texts[code](error) : other();
}

/**
 * The closed list of error codes: every `{ error: { code } }` of a REST response, every failed socket
 * acknowledgement and every Socket.IO `connect_error` carries one of these. Clients switch on codes,
 * never on messages. The server's funnels (server/http/errors.ts `toErrorBody`, the socket command
 * wrapper in server/realtime/hub.ts) send `internal` instead of anything outside this list, and
 * `AppError` only accepts these at compile time. docs/PROTOCOL.md ("Error codes") lists them all
 * (test/unit/error-codes.test.ts compares the two), and /api/openapi.json has them as the `code` enum.
 *
 * To add a code: add it here, in the group of its domain, and to the table in docs/PROTOCOL.md.
 */
export const ERROR_CODES = [
  // Input and transport (every route and command)
  'invalid_json',
  'invalid_payload',
  'unsupported_media_type',
  'payload_too_large',
  'unknown_event',
  'rate_limited',
  'busy',
  'internal',
  // Who you are and what you may do
  'unauthenticated',
  'csrf',
  'protocol_mismatch',
  'forbidden',
  'not_found',
  'invalid_credentials',
  'account_disabled',
  'device_revoked',
  'weak_password',
  'password_change_required',
  'mfa_required',
  'mfa_enrolment_required',
  'invalid_mfa_code',
  // State and concurrency
  'conflict',
  'version_conflict',
  'version_changed',
  'invalid_state',
  'invalid_move',
  // Several server nodes (#18): the meeting is run by another node; retry (HAProxy sends the retry to its owner)
  'not_owner',
  // Users and committees
  'email_taken',
  'unknown_owner',
  'unknown_unit',
  // Live meeting
  'no_quorum',
  'not_checked_in',
  'meeting_closed',
  'meeting_not_live',
  // Votes
  'not_eligible',
  'absent',
  'vote_delegated',
  'not_proxy',
  'vote_not_open',
  'vote_closed',
  'vote_not_closed',
  'unknown_option',
  'duplicate_choice',
  'too_many_choices',
  'receipt_required',
  'already_voted',
  'casting_vote_required',
  'invalid_casting_vote',
  'invalid_delegation',
  'vote_annulled',
  // Proxies (shared/rules/proxies.ts: one rule set for attendance:set_proxy and vote:delegate)
  'proxy_to_self',
  'proxy_giver_not_voter',
  'proxy_giver_present',
  'proxy_reason_required',
  'proxy_holder_room_station',
  'proxy_holder_is_recorder',
  'proxy_holder_not_voter',
  'proxy_chain',
  'proxy_limit_reached',
  // Consultations
  'consultation_open',
  'consultation_closed',
  'deadline_in_past',
  'document_not_published',
  'document_confidential',
  'document_restricted',
  // Documents and files
  'not_a_pdf',
  'invalid_pdf',
  'pdf_encrypted',
  'pdf_too_complex',
  'watermark_failed',
  'download_forbidden',
  'upload_incomplete',
  'range_not_satisfiable',
  'too_many_files',
  'unsupported_file_type',
  'invalid_file',
  // Minutes and signing
  'already_finalized',
  'already_signed',
  'no_certificate',
  'invalid_certificate',
  'certificate_mismatch',
  'signing_unavailable',
  'wrong_pin',
  'pin_locked',
  // A/V
  'sfu_disabled',
  'limit_exceeded',
  'not_joined',
  'receive_only',
  'cannot_consume',
  'invalid_rtp_parameters',
] as const;

/** One of the closed list of error codes. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `code` is in the closed list (funnels replace anything else by `internal`). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN.has(code);
}

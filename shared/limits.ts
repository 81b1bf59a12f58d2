/** Maximum sizes shared by the server's validation and the client's forms. */
export const LIMITS = {
  username: 64,
  password: { min: 12, max: 256 },
  name: 200,
  title: 300,
  unit: 200,
  description: 20_000,
  reason: 1_000,
  /** JSON request bodies larger than this are refused with 413 before parsing. */
  jsonBodyBytes: 256 * 1024,
  agendaItemsPerMeeting: 500,
  agendaDepth: 3,
  participantsPerMeeting: 1_000,
  durationMinutes: 24 * 60,
  /**
   * Attachments of one task progress report: at most `maxFiles` files of at most `maxFileBytes` each.
   * Types are decided by content (PDF, PNG, JPEG, DOCX, XLSX, UTF-8 plain text); `accept` is only the
   * file picker's hint.
   */
  taskAttachments: {
    maxFiles: 5,
    maxFileBytes: 20 * 1024 * 1024,
    accept: '.pdf,.png,.jpg,.jpeg,.docx,.xlsx,.txt,application/pdf,image/png,image/jpeg,text/plain',
  },
  /** Yjs hub: largest single WebSocket frame, and the largest a collaborative document may grow. */
  yjs: { messageBytes: 2 * 1024 * 1024, docBytes: 16 * 1024 * 1024, docNameLength: 200 },
} as const;

import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: credentials, cookies, ballots, e-mail addresses, download file names. */
export const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  // Download names (task attachments, documents) may say what a confidential file is about.
  'res.headers["content-disposition"]',
  'password',
  '*.password',
  'pin',
  '*.pin',
  'choice',
  '*.choice',
  'choices',
  '*.choices',
  'email',
  '*.email',
  'smtpUrl',
  '*.smtpUrl',
];

/** Structured JSON logger; one per process, children per request/socket. */
export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'e-cabinet' } }, destination);
}

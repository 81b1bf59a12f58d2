import path from 'node:path';
import { z } from 'zod';

/** Secrets that ship in the repository; production refuses to start with them. */
export const DEFAULT_SECRET = 'dev-only-secret-change-me';

const Env = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  ECABINET_DATA_DIR: z.string().default('./data'),
  ECABINET_SECRET: z.string().min(16).default(DEFAULT_SECRET),
  /** Extra origins allowed to make cookie-authenticated writes, comma-separated (reverse proxies). */
  ECABINET_ORIGINS: z.string().default(''),
  ECABINET_DEMO_PASSWORD: z.string().min(8).default('ecabinet-demo'),
  ECABINET_SESSION_HOURS: z.coerce.number().positive().default(12),
  ECABINET_SEED: z.enum(['auto', 'never']).default('auto'),
  /** Largest PDF upload in bytes (documents). */
  ECABINET_DOCUMENT_MAX_BYTES: z.coerce.number().int().positive().default(100 * 1024 * 1024),
  /** SMTP server for e-mail reminders, e.g. smtp://user:pass@mail.example.gov.vn:587 (smtps:// for TLS on connect). Unset = no e-mail. */
  SMTP_URL: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || /^smtps?:\/\/[^/]/.test(v), 'SMTP_URL must be an smtp:// or smtps:// URL'),
  /** Sender of e-mails: an address or `Name <address>`. */
  MAIL_FROM: z.string().trim().default(''),
  /** The address users open E-Cabinet at; links in e-mails start with it. Default http://localhost:<PORT>. */
  APP_URL: z.string().trim().default(''),
  /** How long a job claim holds before another runner may take the job over (crash recovery). */
  ECABINET_JOB_LEASE_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * Roles that must use a second factor (TOTP), comma-separated among admin, secretary, chair, or
   * `none`. Default: all three in production, none elsewhere (demo and development databases).
   */
  ECABINET_MFA_REQUIRED_ROLES: z
    .string()
    .trim()
    .optional()
    .refine((v) => v === undefined || v === 'none' || v === '' || v.split(',').every((r) => ['admin', 'secretary', 'chair'].includes(r.trim())), 'ECABINET_MFA_REQUIRED_ROLES: admin, secretary, chair (comma-separated) or none'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  secret: string;
  allowedOrigins: string[];
  demoPassword: string;
  sessionHours: number;
  seed: boolean;
  logLevel: string;
  /** Login throttling: failures per account per 15 min, attempts per IP per minute. */
  loginLimits: { perAccount: number; perIp: number };
  /** Where the built web client lives; served when present. */
  clientDir: string;
  /** Largest JSON request body. */
  jsonBodyLimit: number;
  /** Documents: largest PDF upload (bytes), and the limits of the PDF inspection worker. */
  documents: { maxBytes: number; pdfTimeoutMs: number; pdfMaxHeapMb: number };
  /**
   * E-mail (server/mail). `smtpUrl` null = mail disabled: no e-mail job is ever enqueued.
   * `smtpUrl` may hold a password: never log it.
   */
  mail: { smtpUrl: string | null; from: string; appUrl: string };
  /** Durable jobs (server/jobs): lease of a claim. */
  jobs: { leaseMs: number };
  /** Roles that must enrol and use a TOTP second factor (server/auth). */
  mfaRequiredRoles: ('admin' | 'secretary' | 'chair')[];
}

/**
 * Reads configuration from the environment.
 * @throws Error in production when a default secret or the demo password is still in place.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const e = Env.parse(env);
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.ECABINET_DATA_DIR),
    secret: e.ECABINET_SECRET,
    allowedOrigins: e.ECABINET_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    demoPassword: e.ECABINET_DEMO_PASSWORD,
    sessionHours: e.ECABINET_SESSION_HOURS,
    seed: e.NODE_ENV !== 'production' && e.ECABINET_SEED === 'auto',
    logLevel: e.LOG_LEVEL,
    loginLimits: { perAccount: 5, perIp: 30 },
    clientDir: path.resolve('dist/client'),
    jsonBodyLimit: 256 * 1024,
    documents: { maxBytes: e.ECABINET_DOCUMENT_MAX_BYTES, pdfTimeoutMs: 60_000, pdfMaxHeapMb: 512 },
    mail: mailConfig(e.SMTP_URL, e.MAIL_FROM, e.APP_URL, e.PORT),
    jobs: { leaseMs: e.ECABINET_JOB_LEASE_MS },
    mfaRequiredRoles: mfaRoles(e.ECABINET_MFA_REQUIRED_ROLES, e.NODE_ENV),
    ...overrides,
  };
  if (config.env === 'production' && config.secret === DEFAULT_SECRET) {
    throw new Error('Refusing to start in production with the default ECABINET_SECRET; set a long random value.');
  }
  return config;
}

function mfaRoles(v: string | undefined, env: string): Config['mfaRequiredRoles'] {
  if (v === undefined) return env === 'production' ? ['admin', 'secretary', 'chair'] : [];
  if (v === 'none' || v === '') return [];
  return [...new Set(v.split(',').map((r) => r.trim() as 'admin' | 'secretary' | 'chair'))];
}

/** E-mail settings: the sender defaults to no-reply at the app's host, links to the app's URL. */
function mailConfig(smtpUrl: string, from: string, appUrl: string, port: number): Config['mail'] {
  const app = (appUrl || `http://localhost:${port}`).replace(/\/+$/, '');
  let host = 'localhost';
  try {
    host = new URL(app).hostname || host;
  } catch {
    throw new Error('APP_URL must be an absolute URL, e.g. https://hop.example.gov.vn');
  }
  return { smtpUrl: smtpUrl || null, from: from || `E-Cabinet <no-reply@${host}>`, appUrl: app };
}

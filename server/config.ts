import path from 'node:path';
import { z } from 'zod';
import { TRUST_PROXY_DEFAULT, compileTrustProxy } from './http/trust-proxy.js';

/** Secrets that ship in the repository; production refuses to start with them. */
export const DEFAULT_SECRET = 'dev-only-secret-change-me';

/**
 * The one environment schema: every variable E-Cabinet reads, its default and its meaning
 * (`.describe()`). docs/CONFIG.md is generated from it (`npm run config:doc`; a unit test fails when
 * the two differ).
 */
export const Env = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('`production` refuses unsafe defaults and never seeds demo data.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port (0 = any free port).'),
  HOST: z.string().default('0.0.0.0').describe('Address to listen on.'),
  ECABINET_DATA_DIR: z.string().default('./data').describe('The data folder: the SQLite database `ecabinet.sqlite` and the uploaded files under `files/`. Back up this folder with `npm run backup`.'),
  DATABASE_URL: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || /^postgres(?:ql)?:\/\/[^/]/.test(v), 'DATABASE_URL must be a postgres:// or postgresql:// URL')
    .describe('PostgreSQL instead of the embedded SQLite, e.g. `postgres://ecabinet:…@db.example.gov.vn:5432/ecabinet` (docs/DEPLOY.md). Migrations are applied on start. Empty = SQLite in the data folder. Uploaded files stay in the data folder either way. May hold a password: never logged.'),
  ECABINET_NODE_ID: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || /^[a-z0-9][a-z0-9_-]{0,31}$/.test(v), 'ECABINET_NODE_ID: 1–32 lower-case letters, digits, - or _')
    .describe('Several nodes (docs/DEPLOY.md): this node\'s name, unique among the nodes sharing one PostgreSQL (`DATABASE_URL` required), e.g. `n1`. Empty = one process, the default.'),
  REDIS_URL: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || /^rediss?:\/\/[^/]/.test(v), 'REDIS_URL must be a redis:// or rediss:// URL')
    .describe('Several nodes: the Redis that carries pushes to a user\'s sockets on every node and the shared sign-in limiter, e.g. `redis://:…@redis.example.gov.vn:6379`. Nothing authoritative is kept there. May hold a password: never logged.'),
  ECABINET_MEETING_LEASE_MS: z.coerce.number().int().min(500).max(120_000).default(5000).describe('Several nodes: how long a node\'s ownership of a meeting holds without renewal (ms); a dead owner\'s meetings move to another node after it.'),
  ECABINET_DB_POOL: z.coerce.number().int().min(1).max(200).default(10).describe('PostgreSQL: connections in the pool of one server.'),
  ECABINET_SECRET: z.string().min(16).default(DEFAULT_SECRET).describe('Server secret (at least 16 characters): seals signing keys, TOTP second-factor secrets, and secret ballots while their vote is open (docs/VOTING.md). Production refuses the default. Keep it safe and apart from the backups: a restored folder needs the same secret, a backup must not carry it.'),
  ECABINET_ORIGINS: z.string().default('').describe('Extra origins allowed to make cookie-authenticated writes, comma-separated (reverse proxies).'),
  ECABINET_DEMO_PASSWORD: z.string().min(8).default('ecabinet-demo').describe('Password of the demo users seeded into an empty database (never in production).'),
  ECABINET_SESSION_HOURS: z.coerce.number().positive().default(12).describe('How long a sign-in lasts, in hours.'),
  ECABINET_SEED: z.enum(['auto', 'admin', 'never']).default('auto').describe('`auto` seeds a demo committee and meeting into an empty database outside production; `admin` only the account `admin` (the tests: each builds its own committee and meeting); `never` nothing.'),
  ECABINET_DOCUMENT_MAX_BYTES: z.coerce.number().int().positive().default(100 * 1024 * 1024).describe('Largest PDF upload in bytes (documents).'),
  SMTP_URL: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || /^smtps?:\/\/[^/]/.test(v), 'SMTP_URL must be an smtp:// or smtps:// URL')
    .describe('SMTP server for e-mail reminders, e.g. `smtp://user:pass@mail.example.gov.vn:587` (`smtps://` for TLS on connect). Empty = no e-mail.'),
  MAIL_FROM: z.string().trim().default('').describe('Sender of e-mails: an address or `Name <address>`. Default `E-Cabinet <no-reply@<host of APP_URL>>`.'),
  APP_URL: z.string().trim().default('').describe('The address users open E-Cabinet at; links in e-mails start with it. Default `http://localhost:<PORT>`.'),
  ECABINET_JOB_LEASE_MS: z.coerce.number().int().min(100).default(60_000).describe('How long a job claim holds (ms) before another runner may take the job over (crash recovery).'),
  ECABINET_BACKUP_DIR: z.string().default('').describe('Folder for scheduled backups (`ecabinet-<UTC time>` folders). Empty = no scheduled backups.'),
  ECABINET_BACKUP_INTERVAL_HOURS: z.coerce.number().min(0).max(24 * 31).default(24).describe('Hours between scheduled backups when `ECABINET_BACKUP_DIR` is set (0 = off). The first runs one interval after start.'),
  ECABINET_BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(7).describe('How many scheduled backups to keep; older ones are removed after each new one.'),
  ECABINET_METRICS_TOKEN: z
    .string()
    .default('')
    .refine((v) => v === '' || v.length >= 16, 'ECABINET_METRICS_TOKEN must be at least 16 characters')
    .describe('Bearer token for `/metrics` (`Authorization: Bearer <token>`, at least 16 characters); when set, every scrape must carry it. Empty = `/metrics` answers only direct loopback clients (no `X-Forwarded-For`/`Forwarded` header: a reverse proxy on the same host is not trusted) and refuses everyone else with 403.'),
  ECABINET_TRUST_PROXY: z
    .string()
    .trim()
    .default(TRUST_PROXY_DEFAULT)
    .describe("Which peers are reverse proxies whose `X-Forwarded-For` names the client (the sign-in limiter's address, a session's \"opened from\", the connection caps of Socket.IO and Yjs): a comma-separated list of addresses, CIDRs and `loopback`/`linklocal`/`uniquelocal` (e.g. `10.0.1.5,10.0.1.6`: the HAProxy hosts), a hop count (`1`), or `off` (the peer is the client). A header from any other peer is ignored. Default `loopback`: a proxy on the same host (docs/SECURITY.md)."),
  ECABINET_READY_MIN_FREE_MB: z.coerce.number().int().min(0).default(512).describe('`/readyz` reports not ready when the data folder\'s disk has less free space than this (MiB).'),
  /**
   * Roles that must use a second factor (TOTP), comma-separated among admin, secretary, chair, or
   * `none`. Default: all three in production, none elsewhere (demo and development databases).
   */
  ECABINET_MFA_REQUIRED_ROLES: z
    .string()
    .trim()
    .optional()
    .refine((v) => v === undefined || v === 'none' || v === '' || v.split(',').every((r) => ['admin', 'secretary', 'chair'].includes(r.trim())), 'ECABINET_MFA_REQUIRED_ROLES: admin, secretary, chair (comma-separated) or none')
    .describe('Roles that must use a second factor (TOTP), comma-separated among `admin`, `secretary`, `chair`, or `none`. Default: all three in production, none elsewhere.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (JSON lines on stdout, with request ids).'),
  ECABINET_ORG_NAME: z.string().optional().describe('Issuing body printed on minutes (default `UBND Thành phố Hà Nội`, a demo value).'),
  ECABINET_ORG_PLACE: z.string().optional().describe('Place printed on minutes (default `Hà Nội`).'),
  ECABINET_SEEDS_DIR: z.string().optional().describe('Articles the demo seed draws agenda items from (default `../shared/testdata/seeds`; built-in titles when absent).'),
});

/** Audio/video (server/sfu/sfu.config.ts reads these). */
export const SfuEnv = z.object({
  ECABINET_SFU: z.enum(['auto', 'off']).default('auto').describe('`off` disables audio/video; everything else runs.'),
  MEDIASOUP_WORKER_BIN: z.string().optional().describe("The mediasoup 3.8.4 worker binary (default: Debian's `/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker` when installed). Without one, A/V is disabled."),
  ECABINET_SFU_WORKERS: z.coerce.number().int().min(1).max(64).optional().describe('mediasoup workers (default: the number of cores).'),
  ECABINET_RTC_LISTEN_IP: z.string().optional().describe('Where WebRTC transports listen (default `0.0.0.0`, `127.0.0.1` in tests).'),
  ECABINET_RTC_ANNOUNCED_IP: z.string().optional().describe("The address announced to clients (default: this machine's first LAN IPv4 address). Set it on a LAN or behind NAT."),
  ECABINET_RTC_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(40000).describe('Lowest RTC port (UDP/TCP).'),
  ECABINET_RTC_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(49999).describe('Highest RTC port.'),
  ECABINET_RTC_TCP: z.enum(['on', 'off']).default('on').describe('Allow WebRTC over TCP (firewalls without UDP).'),
});


export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL (issue #17): its URL (may hold a password: never log it) and pool size; null = SQLite in `dataDir`. */
  database: { url: string | null; poolSize: number };
  /**
   * Several nodes (issue #18): `nodeId` null = one process (the default); set, the node shares PostgreSQL,
   * `redisUrl` (may hold a password: never log it) and the data folder's file store with the other nodes,
   * and owns meetings under a lease of `leaseMs`.
   */
  cluster: { nodeId: string | null; redisUrl: string | null; leaseMs: number };
  secret: string;
  allowedOrigins: string[];
  demoPassword: string;
  sessionHours: number;
  /** What an empty database is seeded with outside production: the demo committee and meeting, only the admin account, or nothing. */
  seed: 'demo' | 'admin' | 'none';
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
  /** Scheduled backups (server/backup): `dir` null = off. */
  backup: { dir: string | null; intervalHours: number; keep: number };
  /** /metrics: bearer token required from every scraper; null = direct loopback clients only. */
  metrics: { token: string | null };
  /** /readyz: least free space on the data folder's disk. */
  ready: { minFreeBytes: number };
  /** `ECABINET_TRUST_PROXY`: the peers whose X-Forwarded-For is believed (server/http/trust-proxy.ts). */
  trustProxy: string;
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
    database: { url: e.DATABASE_URL || null, poolSize: e.ECABINET_DB_POOL },
    cluster: { nodeId: e.ECABINET_NODE_ID || null, redisUrl: e.REDIS_URL || null, leaseMs: e.ECABINET_MEETING_LEASE_MS },
    secret: e.ECABINET_SECRET,
    allowedOrigins: e.ECABINET_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    demoPassword: e.ECABINET_DEMO_PASSWORD,
    sessionHours: e.ECABINET_SESSION_HOURS,
    seed: e.NODE_ENV === 'production' || e.ECABINET_SEED === 'never' ? 'none' : e.ECABINET_SEED === 'admin' ? 'admin' : 'demo',
    logLevel: e.LOG_LEVEL,
    loginLimits: { perAccount: 5, perIp: 30 },
    clientDir: path.resolve('dist/client'),
    jsonBodyLimit: 256 * 1024,
    documents: { maxBytes: e.ECABINET_DOCUMENT_MAX_BYTES, pdfTimeoutMs: 60_000, pdfMaxHeapMb: 512 },
    mail: mailConfig(e.SMTP_URL, e.MAIL_FROM, e.APP_URL, e.PORT),
    jobs: { leaseMs: e.ECABINET_JOB_LEASE_MS },
    mfaRequiredRoles: mfaRoles(e.ECABINET_MFA_REQUIRED_ROLES, e.NODE_ENV),
    backup: { dir: e.ECABINET_BACKUP_DIR ? path.resolve(e.ECABINET_BACKUP_DIR) : null, intervalHours: e.ECABINET_BACKUP_INTERVAL_HOURS, keep: e.ECABINET_BACKUP_KEEP },
    metrics: { token: e.ECABINET_METRICS_TOKEN || null },
    ready: { minFreeBytes: e.ECABINET_READY_MIN_FREE_MB * 1024 * 1024 },
    trustProxy: e.ECABINET_TRUST_PROXY,
    ...overrides,
  };
  compileTrustProxy(config.trustProxy);
  if (config.cluster.nodeId && !config.database.url) {
    throw new Error('ECABINET_NODE_ID is set but DATABASE_URL is not: the nodes of a cluster share one PostgreSQL (docs/DEPLOY.md).');
  }
  if (config.env === 'production') {
    const unsafe: string[] = [];
    if (config.secret === DEFAULT_SECRET) unsafe.push('ECABINET_SECRET is the default from the repository; set a long random value');
    if (config.backup.dir && path.resolve(config.backup.dir).startsWith(path.resolve(config.dataDir) + path.sep)) {
      unsafe.push('ECABINET_BACKUP_DIR is inside ECABINET_DATA_DIR; keep backups on another disk or folder');
    }
    if (unsafe.length) throw new Error(`Refusing to start in production: ${unsafe.join('; ')}.`);
  }
  return config;
}

function mfaRoles(v: string | undefined, env: string): Config['mfaRequiredRoles'] {
  if (v === undefined) return env === 'production' ? ['admin', 'secretary', 'chair'] : [];
  if (v === 'none' || v === '') return [];
  return [...new Set(v.split(',').map((r) => r.trim() as 'admin' | 'secretary' | 'chair'))];
}

/** docs/CONFIG.md, generated from `Env` (every variable, its default, its meaning). */
export function configDoc(): string {
  const rows = Object.entries({ ...Env.shape, ...SfuEnv.shape }).map(([name, schema]) => {
    const def = (schema as z.ZodType).parse(undefined);
    const shown = def === undefined ? '—' : def === '' ? '(empty)' : `\`${String(def)}\``;
    return `| \`${name}\` | ${shown} | ${(schema as z.ZodType).description ?? ''} |`;
  });
  return [
    '# Configuration',
    '',
    'E-Cabinet reads its configuration from environment variables only. This page is generated from the schema in',
    '`server/config.ts` by `npm run config:doc`; a unit test fails when they differ.',
    '',
    'With `NODE_ENV=production` the server refuses to start with an unsafe default and names it: the repository\'s',
    '`ECABINET_SECRET`, or a backup folder inside the data folder. Production never seeds demo data.',
    '',
    '| variable | default | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
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

/**
 * The PostgreSQL backup and restore procedure of docs/DEPLOY.md, run for real (issue #17). Started by
 * scripts/pg-backup-check.sh, which finds Debian's PostgreSQL binaries (PG_BIN):
 *
 *   bash scripts/pg-backup-check.sh                # backup, then restore, in a temp folder (deleted after)
 *   bash scripts/pg-backup-check.sh backup DIR     # cluster A + server + real data → DIR
 *   bash scripts/pg-backup-check.sh restore DIR    # DIR → fresh clusters + server + smoke test
 *
 * backup: a cluster set up as DEPLOY.md says (TLS only, scram passwords, the server's own non-superuser
 * role owning its database, a read-only role for pg_dump, a replication role for base backups, WAL
 * archiving), the real server on it (demo seed), data made through the HTTP and Socket.IO API (a
 * document upload, a conclusion, a closed vote, finalized and signed minutes); then `pg_dump -Fc`, a base
 * backup (`pg_basebackup -Fp -X stream`), more data (a second document, later removed), and the file store
 * copied last. DIR gets ecabinet.dump, base/, wal/, files/ and check.json (what the smoke test expects;
 * not part of a real backup).
 *
 * restore: the dump into a fresh cluster (pg_restore into a new database owned by the server's role), and the
 * base backup started as its own cluster replaying the WAL archive up to a point in time (before the
 * second document was removed); each with a new data folder holding a copy of files/. On each, the server
 * starts and the smoke test runs: sign-ins, the meeting, the document's bytes, the vote's result, the signed
 * minutes' bytes, `npm run audit:verify --expect-head`. Any mismatch: exit 1, naming it.
 *
 * ECABINET_SECRET: the same in both steps (a restored database needs the secret that sealed its keys); a
 * fixed check-only value when unset.
 */
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { io } from 'socket.io-client';
import { verifyStoredAuditChain } from '../server/audit/audit.repo.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/log.js';
import { type RunningServer, startServer } from '../server/server.js';
import { PROTOCOL_VERSION, SOCKET_PATH } from '../shared/protocol/realtime.js';
import { freePort } from './free-port.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = process.env.PG_BIN ?? '';
const SECRET = process.env.ECABINET_SECRET || 'pg-backup-check: not a production secret';
const DEMO_PASSWORD = 'ecabinet-demo';
const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

/** The roles of DEPLOY.md's "Roles and least privilege", with the passwords this check gives them. */
const ROLES = {
  app: { name: 'ecabinet', password: 'app-Pw-1' },
  dump: { name: 'ecabinet_backup', password: 'dump-Pw-2' },
  replication: { name: 'ecabinet_replication', password: 'repl-Pw-3' },
};

/** What the smoke test must find after a restore (written by backup into check.json). */
interface Expected {
  meeting: { id: number; title: string };
  document: { id: number; title: string; sha256: string };
  vote: { id: number; counts: number[]; outcome: string };
  minutes: { version: number; sha256: string };
  /** The audit head just before pg_dump: `npm run audit:verify -- --expect-head` on the restored dump. */
  dumpHead: string;
  /** Uploaded after the base backup, removed after `pitr.targetTime`. */
  later: { id: number; title: string; sha256: string };
  /** The point in time the base backup is recovered to, and the audit head then. */
  pitr: { targetTime: string; head: string };
}

const t0 = Date.now();
const elapsed = () => `[${((Date.now() - t0) / 1000).toFixed(1)} s]`;
const step = (what: string) => console.log(`\n== ${what}  ${elapsed()}`);
const show = (cmd: string, args: string[]) => console.log(`$ ${[path.basename(cmd), ...args].join(' ')}`);

class CheckFailed extends Error {}
function expect(ok: boolean, what: string): void {
  if (!ok) throw new CheckFailed(what);
  console.log(`ok: ${what}`);
}

/** Runs a PostgreSQL server-side tool as the cluster's owner (initdb refuses root: `postgres` then). */
async function asOwner(tool: string, args: string[]): Promise<string> {
  const cmd = path.join(BIN, tool);
  show(cmd, args);
  const r = asRoot ? await run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : await run(cmd, args);
  return r.stdout;
}

/** Runs a client tool (psql, pg_dump, pg_restore, pg_basebackup) as this user, passwords from `pgpass`. */
async function client(tool: string, args: string[], pgpass: string): Promise<string> {
  show(tool, args);
  try {
    const r = await run(path.join(BIN, tool), args, { env: { ...process.env, PGPASSFILE: pgpass, PGCONNECT_TIMEOUT: '10' }, maxBuffer: 64 << 20 });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new CheckFailed(`${tool} failed: ${(e.stderr || e.message).trim()}`);
  }
}


/** A cluster this check started: its folder, port and Unix socket folder; stopped and deleted by `stop`. */
interface Cluster {
  dir: string;
  data: string;
  port: number;
  /** Superuser over the Unix socket in `dir` (local trust: administration on the machine only). */
  admin(sql: string): Promise<string>;
  /** A role's URL: TLS with the certificate checked (verify-full); the password in it unless `pgpass` (the tools read ~/.pgpass). */
  url(role: { name: string; password: string }, db?: string, pgpass?: 'pgpass'): string;
  stop(): Promise<void>;
}

/** A folder the cluster's owner can write into. */
function ownedDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  if (asRoot) fs.chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  return dir;
}
function uidOf(user: string): number {
  return Number(fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[2]);
}
function gidOf(user: string): number {
  return Number(fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[3]);
}
function chownTree(dir: string): void {
  if (!asRoot) return;
  const [u, g] = [uidOf('postgres'), gidOf('postgres')];
  fs.chownSync(dir, u, g);
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) fs.lchownSync(path.join(e.parentPath, e.name), u, g);
}

/**
 * Starts a cluster on `data` (an initdb'd or restored data folder) on a free port: TCP on 127.0.0.1 only,
 * its Unix socket in `dir`. `-w` returns once it accepts connections; a recovering cluster accepts
 * read-only ones before it is done, so callers wait for the end of recovery themselves.
 */
async function startCluster(dir: string, data: string, ca: string): Promise<Cluster> {
  const port = await freePort();
  await asOwner('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']).catch((err) => {
    const log = fs.existsSync(path.join(dir, 'server.log')) ? fs.readFileSync(path.join(dir, 'server.log'), 'utf8') : '';
    throw new CheckFailed(`pg_ctl start ${data} failed: ${(err as Error).message}\n${log}`);
  });
  const pgpass = path.join(dir, 'admin.pgpass');
  fs.writeFileSync(pgpass, '', { mode: 0o600 });
  return {
    dir,
    data,
    port,
    admin: (sql) => client('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], pgpass),
    url: (role, db = 'ecabinet', pgpass) =>
      `postgres://${role.name}${pgpass ? '' : `:${encodeURIComponent(role.password)}`}@127.0.0.1:${port}/${db}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`,
    async stop() {
      if (fs.existsSync(path.join(data, 'postmaster.pid'))) await asOwner('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A self-signed certificate for 127.0.0.1/localhost, the CA clients check it against (sslrootcert). */
async function makeCertificate(dir: string): Promise<{ crt: string; key: string }> {
  const crt = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', crt]);
  fs.chmodSync(key, 0o600);
  return { crt, key };
}

/**
 * A new cluster set up as DEPLOY.md says: TLS on (its certificate in the data folder, so a base backup
 * carries it), pg_hba admitting the three roles over TLS with scram passwords only (plain TCP refused), the
 * roles, and the empty database `ecabinet` owned by the server's role. `archive` turns on WAL archiving into
 * that folder.
 */
async function newCluster(name: string, ca: { crt: string; key: string }, archive?: string): Promise<Cluster> {
  const dir = ownedDir(`ec-pgcheck-${name}-`);
  const data = path.join(dir, 'data');
  await asOwner('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
  fs.copyFileSync(ca.crt, path.join(data, 'server.crt'));
  fs.copyFileSync(ca.key, path.join(data, 'server.key'));
  fs.chmodSync(path.join(data, 'server.key'), 0o600);
  fs.writeFileSync(
    path.join(data, 'pg_hba.conf'),
    [
      'local   all          postgres                      trust',
      `hostssl ecabinet     ${ROLES.app.name}      127.0.0.1/32  scram-sha-256`,
      `hostssl ecabinet     ${ROLES.dump.name}     127.0.0.1/32  scram-sha-256`,
      `hostssl replication  ${ROLES.replication.name} 127.0.0.1/32  scram-sha-256`,
      '',
    ].join('\n'),
  );
  const conf = ['ssl = on', 'fsync = off'];
  if (archive) conf.push('archive_mode = on', `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`);
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `\n# pg-backup-check\n${conf.join('\n')}\n`);
  chownTree(dir);
  const c = await startCluster(dir, data, ca.crt).catch((err) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const pw = (r: { password: string }) => `'${r.password}'`;
  await c.admin(`CREATE ROLE ${ROLES.app.name} LOGIN PASSWORD ${pw(ROLES.app)}`);
  await c.admin(`CREATE ROLE ${ROLES.dump.name} LOGIN PASSWORD ${pw(ROLES.dump)} IN ROLE pg_read_all_data`);
  await c.admin(`CREATE ROLE ${ROLES.replication.name} LOGIN REPLICATION PASSWORD ${pw(ROLES.replication)}`);
  await c.admin(`CREATE DATABASE ecabinet OWNER ${ROLES.app.name}`);
  return c;
}

/** The real server (server/server.ts, as `npm start` runs it) on a database URL and a data folder. */
async function startEcabinet(url: string, dataDir: string, seed: 'auto' | 'never'): Promise<RunningServer> {
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: url,
    ECABINET_DATA_DIR: dataDir,
    ECABINET_SECRET: SECRET,
    ECABINET_SEED: seed,
    ECABINET_DEMO_PASSWORD: DEMO_PASSWORD,
    ECABINET_SFU: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  return startServer(config, createLogger(config.logLevel));
}

/** A signed-in HTTP client with the session cookie and the same-origin header a browser sends. */
class Session {
  cookie = '';
  constructor(readonly base: string) {}
  static async login(base: string, username: string): Promise<Session> {
    const s = new Session(base);
    const r = await s.req('POST', '/api/auth/login', { username, password: DEMO_PASSWORD });
    if (r.status !== 200) throw new CheckFailed(`sign-in of ${username}: ${r.status} ${r.text.slice(0, 200)}`);
    return s;
  }
  async req(method: string, url: string, body?: unknown): Promise<{ status: number; json: any; text: string; bytes: Buffer }> {
    const headers: Record<string, string> = { origin: this.base };
    if (this.cookie) headers.cookie = this.cookie;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(this.base + url, { method, headers, body: payload });
    } catch (err) {
      // A response cut off midway (a stored file missing under its headers) is an answer too: status 0.
      return { status: 0, json: undefined, text: `no complete response: ${(err as Error).message}`, bytes: Buffer.alloc(0) };
    }
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      return { status: 0, json: undefined, text: `body cut off after ${res.status}: ${(err as Error).message}`, bytes: Buffer.alloc(0) };
    }
    const text = bytes.toString('utf8');
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, bytes };
  }
  async ok(method: string, url: string, body?: unknown): Promise<any> {
    const r = await this.req(method, url, body);
    if (r.status >= 300) throw new CheckFailed(`${method} ${url}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  }
}

/** A tablet's Socket.IO connection, for the live commands (attendance, opening, ballots). */
async function tablet(base: string, s: Session): Promise<{ cmd(event: string, payload: unknown): Promise<any>; close(): void }> {
  const socket = io(base, { path: SOCKET_PATH, transports: ['websocket'], extraHeaders: { cookie: s.cookie }, auth: { protocolVersion: PROTOCOL_VERSION }, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
  return {
    async cmd(event, payload) {
      const ack = await socket.timeout(10_000).emitWithAck(event, payload);
      if (!ack?.ok) throw new CheckFailed(`${event}: ${JSON.stringify(ack)}`);
      return ack.data;
    },
    close: () => socket.close(),
  };
}

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** A small PDF made here (no test data needed); `label` makes each one's bytes different. */
async function makePdf(label: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.setCreationDate(new Date());
  for (let i = 1; i <= 2; i++) doc.addPage([595, 842]).drawText(`${label}, page ${i}: ${crypto.randomUUID()}`, { x: 50, y: 780, size: 12, font });
  return doc.save();
}

async function uploadPdf(sec: Session, meetingId: number, itemId: number, title: string): Promise<{ id: number; sha256: string }> {
  const bytes = await makePdf(title);
  const fd = new FormData();
  fd.append('title', title);
  fd.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), `${title}.pdf`);
  const doc = await sec.ok('POST', `/api/meetings/${meetingId}/agenda/items/${itemId}/documents`, fd);
  return { id: doc.id, sha256: sha256(bytes) };
}

/** The audit chain's head as `npm run audit:verify -- --expect-head` takes it. */
async function auditHead(server: RunningServer): Promise<string> {
  const r = await verifyStoredAuditChain(server.store);
  if (!r.ok || !r.head) throw new CheckFailed(`audit chain of the source database: ${JSON.stringify(r.problems)}`);
  return `${r.head.id}:${r.head.hash}`;
}

async function backup(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length) throw new CheckFailed(`${dir} is not empty`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-pgcheck-work-'));
  // The cluster's owner writes the WAL archive (archive_command): a folder of its own, copied into DIR at the end.
  fs.chmodSync(work, 0o755);
  const wal = path.join(work, 'wal');
  fs.mkdirSync(wal);
  if (asRoot) fs.chownSync(wal, uidOf('postgres'), gidOf('postgres'));
  const cert = await makeCertificate(work);
  const pgpass = path.join(work, 'pgpass');
  fs.writeFileSync(pgpass, Object.values(ROLES).map((r) => `127.0.0.1:*:*:${r.name}:${r.password}`).join('\n') + '\n', { mode: 0o600 });

  let cluster: Cluster | undefined;
  let server: RunningServer | undefined;
  const sockets: { close(): void }[] = [];
  try {
    step('cluster A: TLS, scram, roles ecabinet / ecabinet_backup / ecabinet_replication, WAL archiving');
    cluster = await newCluster('a', cert, wal);
    const plain = `postgres://${ROLES.app.name}:${ROLES.app.password}@127.0.0.1:${cluster.port}/ecabinet?sslmode=disable`;
    const refused = await client('psql', [plain, '-XAtc', 'select 1'], pgpass).then(
      () => false,
      () => true,
    );
    expect(refused, 'a connection without TLS is refused (hostssl only)');

    step('server on A (DATABASE_URL, demo seed), data through the API');
    const dataDir = path.join(work, 'data');
    server = await startEcabinet(cluster.url(ROLES.app), dataDir, 'auto');
    console.log(`server started ${elapsed()}`);
    const base = server.url;
    const secretary = await Session.login(base, 'secretary');
    const chair = await Session.login(base, 'chair');
    const { meetings } = await secretary.ok('GET', '/api/meetings');
    const meeting = meetings[0] as { id: number; title: string };
    const agenda = await secretary.ok('GET', `/api/meetings/${meeting.id}/agenda`);
    const itemId = (agenda.items as { id: number }[])[1].id;
    const document = { ...(await uploadPdf(secretary, meeting.id, itemId, 'Bao cao chuyen doi so quy IV')), title: 'Bao cao chuyen doi so quy IV' };
    await secretary.ok('PUT', `/api/meetings/${meeting.id}/agenda/items/${itemId}/conclusion`, { text: 'Thống nhất lộ trình chuyển đổi số; giao Sở Thông tin và Truyền thông chủ trì.' });

    // Quorum: the chair and seven of the twelve members check in (7 of 13 voting members is a majority).
    const chairTablet = await tablet(base, chair);
    sockets.push(chairTablet);
    await chairTablet.cmd('attendance:check_in', { meetingId: meeting.id, mode: 'in_room' });
    const voters = [];
    for (let i = 1; i <= 7; i++) {
      const t = await tablet(base, await Session.login(base, `member${i}`));
      sockets.push(t);
      await t.cmd('attendance:check_in', { meetingId: meeting.id, mode: i % 2 ? 'in_room' : 'remote' });
      voters.push(t);
    }
    await chairTablet.cmd('meeting:open', { meetingId: meeting.id });
    const created = await chairTablet.cmd('vote:create', { meetingId: meeting.id, vote: { title: 'Thông qua lộ trình chuyển đổi số', kind: 'motion', agendaItemId: itemId } });
    const voteId: number = created.vote.id;
    console.log(`document, conclusion, quorum, meeting opened ${elapsed()}`);
    await chairTablet.cmd('vote:open', { voteId });
    const choices = [[0], [0], [1], [0], [], [0], [1]];
    for (const [i, t] of voters.entries()) await t.cmd('vote:cast', { voteId, choices: choices[i] });
    const closed = await chairTablet.cmd('vote:close', { voteId });
    const vote = { id: voteId, counts: closed.vote.result.counts as number[], outcome: closed.vote.result.outcome as string };
    console.log(`vote ${voteId}: ${vote.outcome}, counts ${JSON.stringify(vote.counts)}`);
    for (const s of sockets.splice(0)) s.close();
    console.log(`vote closed ${elapsed()}`);

    const v1 = await secretary.ok('POST', `/api/meetings/${meeting.id}/minutes/finalize`);
    await chair.ok('POST', `/api/meetings/${meeting.id}/minutes/versions/${v1.version}/sign`, { pin: '123456', contentHash: v1.contentHash });
    await secretary.ok('POST', `/api/meetings/${meeting.id}/minutes/versions/${v1.version}/sign`, { pin: '123456', contentHash: v1.contentHash });
    const minutesPdf = await secretary.req('GET', `/api/meetings/${meeting.id}/minutes/versions/${v1.version}/pdf`);
    expect(minutesPdf.status === 200, `minutes version ${v1.version} finalized and signed by the chair and the secretary`);
    const minutes = { version: v1.version as number, sha256: sha256(minutesPdf.bytes) };

    step('logical backup: pg_dump --format=custom as ecabinet_backup (pg_read_all_data)');
    const dumpHead = await auditHead(server);
    await client('pg_dump', ['--format=custom', '--file', path.join(dir, 'ecabinet.dump'), cluster.url(ROLES.dump, 'ecabinet', 'pgpass')], pgpass);
    step('file store, copied after the dump into the backup folder (adds files, never deletes)');
    await copyFiles(dataDir, dir);

    step('base backup: pg_basebackup as ecabinet_replication, WAL streamed into it');
    await client('pg_basebackup', ['--dbname', cluster.url(ROLES.replication, 'replication', 'pgpass'), '-D', path.join(dir, 'base'), '-Fp', '-X', 'stream', '--checkpoint=fast'], pgpass);

    step('after the base backup: a second document; the point in time; then it is removed');
    const laterTitle = 'Phu luc sau ban sao luu co so';
    const later = { ...(await uploadPdf(secretary, meeting.id, itemId, laterTitle)), title: laterTitle };
    const pitrHead = await auditHead(server);
    const targetTime = (await cluster.admin('select clock_timestamp()')).trim();
    await secretary.ok('DELETE', `/api/documents/${later.id}`);

    step('WAL archived up to now (archive_timeout does this in production)');
    const segment = (await cluster.admin('select pg_walfile_name(pg_switch_wal())')).trim();
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(path.join(wal, segment))) {
      if (Date.now() > deadline) throw new CheckFailed(`WAL segment ${segment} was not archived within 30 s: ${(await cluster.admin('select last_failed_wal from pg_stat_archiver')).trim()}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    await server.close();
    server = undefined;
    await run('cp', ['-r', wal, path.join(dir, 'wal')]);
    step('file store, copied again after the last database backup');
    await copyFiles(dataDir, dir);

    const expected: Expected = { meeting: { id: meeting.id, title: meeting.title }, document, vote, minutes, dumpHead, later, pitr: { targetTime, head: pitrHead } };
    fs.writeFileSync(path.join(dir, 'check.json'), JSON.stringify(expected, null, 1) + '\n');
    console.log(`\nbackup in ${dir}: ecabinet.dump, base/, wal/, files/ (check.json: what the restore must show)`);
  } finally {
    for (const s of sockets) s.close();
    await server?.close().catch(() => {});
    await cluster?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** DEPLOY.md's copy of the file store into the backup's `files/`: adds what is new, deletes nothing. */
async function copyFiles(dataDir: string, backupDir: string): Promise<void> {
  const [from, to] = [`${path.join(dataDir, 'files')}/.`, `${path.join(backupDir, 'files')}/`];
  fs.mkdirSync(to, { recursive: true });
  show('cp', ['-a', from, to]);
  await run('cp', ['-a', from, to]);
}

/** The data folder of a restored server: a copy of the backup's files/ (none when the backup lacks it). */
async function restoreFiles(from: string, dataDir: string): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(path.join(from, 'files'))) {
    console.log(`(the backup has no files/: the data folder starts empty)`);
    return;
  }
  show('cp', ['-a', path.join(from, 'files'), path.join(dataDir, 'files')]);
  await run('cp', ['-a', path.join(from, 'files'), path.join(dataDir, 'files')]);
}

/**
 * The smoke test on a restored server: sign-ins, the meeting, the document's bytes, the vote's result, the
 * signed minutes, the later document present or not, and the audit chain (`npm run audit:verify`).
 */
async function smoke(server: RunningServer, url: string, x: Expected, opts: { head: string; later: boolean }): Promise<void> {
  const base = server.url;
  const secretary = await Session.login(base, 'secretary');
  await Session.login(base, 'chair');
  const member = await Session.login(base, 'member3');
  console.log('ok: sign-in of secretary, chair and member3 with their passwords');
  const m = await member.ok('GET', `/api/meetings/${x.meeting.id}`);
  expect(m.title === x.meeting.title, `meeting ${x.meeting.id} "${x.meeting.title}"`);
  const file = await member.req('GET', `/api/documents/${x.document.id}/file`);
  expect(
    file.status === 200 && sha256(file.bytes) === x.document.sha256,
    `document ${x.document.id}: the uploaded bytes (GET /api/documents/${x.document.id}/file: ${file.status === 200 ? `sha256 ${sha256(file.bytes).slice(0, 12)}…, uploaded ${x.document.sha256.slice(0, 12)}…` : `${file.status} ${file.text.slice(0, 120)}`})`,
  );
  const v = await member.ok('GET', `/api/votes/${x.vote.id}`);
  expect(
    v.result?.outcome === x.vote.outcome && JSON.stringify(v.result?.counts) === JSON.stringify(x.vote.counts),
    `vote ${x.vote.id}: ${x.vote.outcome}, counts ${JSON.stringify(x.vote.counts)} (restored: ${v.result?.outcome}, ${JSON.stringify(v.result?.counts)})`,
  );
  const pdf = await secretary.req('GET', `/api/meetings/${x.meeting.id}/minutes/versions/${x.minutes.version}/pdf`);
  expect(pdf.status === 200 && sha256(pdf.bytes) === x.minutes.sha256, `signed minutes version ${x.minutes.version}: the same PDF bytes`);
  const later = await member.req('GET', `/api/documents/${x.later.id}/file`);
  if (opts.later) {
    const d = await member.ok('GET', `/api/documents/${x.later.id}`);
    expect(later.status === 200 && sha256(later.bytes) === x.later.sha256 && !d.removedAt, `document ${x.later.id} (uploaded after the base backup, removed after the target time): present with its bytes`);
  } else expect(later.status === 404, `document ${x.later.id} (uploaded after the dump) absent (${later.status})`);

  // What `npm run audit:verify -- --expect-head <head>` runs, without npm's own start-up.
  console.log(`$ DATABASE_URL=… npm run audit:verify -- --expect-head ${opts.head}`);
  const verify = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', '--expect-head', opts.head], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url } }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
  console.log(verify.out.trim());
  expect(verify.code === 0, `npm run audit:verify: intact, head ${opts.head.split(':')[0]} still in the chain`);
}

async function restore(dir: string): Promise<void> {
  const x = JSON.parse(fs.readFileSync(path.join(dir, 'check.json'), 'utf8')) as Expected;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-pgcheck-restore-'));
  const cert = await makeCertificate(work);
  const pgpass = path.join(work, 'pgpass');
  fs.writeFileSync(pgpass, Object.values(ROLES).map((r) => `127.0.0.1:*:*:${r.name}:${r.password}`).join('\n') + '\n', { mode: 0o600 });
  let cluster: Cluster | undefined;
  let server: RunningServer | undefined;
  const leftovers: string[] = [];
  try {
    step('restore the dump: a fresh cluster B, an empty database owned by ecabinet, pg_restore as ecabinet');
    cluster = await newCluster('b', cert);
    const urlB = cluster.url(ROLES.app);
    await client('pg_restore', ['--exit-on-error', '--single-transaction', '--no-owner', '--dbname', urlB, path.join(dir, 'ecabinet.dump')], pgpass);
    await restoreFiles(dir, path.join(work, 'data-b'));
    server = await startEcabinet(urlB, path.join(work, 'data-b'), 'never');
    await smoke(server, urlB, x, { head: x.dumpHead, later: false });
    await server.close();
    server = undefined;
    await cluster.stop();
    cluster = undefined;

    step(`restore the base backup: its own cluster C, WAL replayed from the archive up to ${x.pitr.targetTime}`);
    await client('pg_verifybackup', [path.join(dir, 'base')], pgpass);
    const cdir = ownedDir('ec-pgcheck-c-');
    leftovers.push(cdir);
    const data = path.join(cdir, 'data');
    await run('cp', ['-a', path.join(dir, 'base'), data]);
    show('cp', ['-a', path.join(dir, 'base'), data]);
    fs.chmodSync(data, 0o700);
    // The archive as the cluster's owner can read it (in production: the archive's mount, read-only).
    await run('cp', ['-r', path.join(dir, 'wal'), path.join(cdir, 'wal')]);
    // The copy must not archive into the source's archive: its new timeline would mix with the original's.
    fs.appendFileSync(
      path.join(data, 'postgresql.conf'),
      `\n# restored copy\narchive_mode = off\nrestore_command = 'cp ${path.join(cdir, 'wal')}/%f %p'\nrecovery_target_time = '${x.pitr.targetTime}'\nrecovery_target_action = 'promote'\n`,
    );
    fs.writeFileSync(path.join(data, 'recovery.signal'), '');
    chownTree(cdir);
    cluster = await startCluster(cdir, data, path.join(data, 'server.crt'));
    const deadline = Date.now() + 60_000;
    while ((await cluster.admin('select pg_is_in_recovery()')).trim() !== 'f') {
      if (Date.now() > deadline) throw new CheckFailed('cluster C still in recovery after 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log((await cluster.admin("select 'recovered to ' || pg_last_xact_replay_timestamp()")).trim());
    const urlC = cluster.url(ROLES.app);
    await restoreFiles(dir, path.join(work, 'data-c'));
    server = await startEcabinet(urlC, path.join(work, 'data-c'), 'never');
    await smoke(server, urlC, x, { head: x.pitr.head, later: true });
  } finally {
    await server?.close().catch(() => {});
    await cluster?.stop();
    for (const d of [work, ...leftovers]) fs.rmSync(d, { recursive: true, force: true });
  }
}

const [mode = 'all', dirArg] = process.argv.slice(2);
try {
  if (!BIN || !fs.existsSync(path.join(BIN, 'pg_dump'))) throw new CheckFailed('PG_BIN is not a PostgreSQL bin folder: run through scripts/pg-backup-check.sh');
  if (mode === 'backup' && dirArg) await backup(path.resolve(dirArg));
  else if (mode === 'restore' && dirArg) await restore(path.resolve(dirArg));
  else if (mode === 'all') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-pgcheck-backup-'));
    try {
      await backup(dir);
      await restore(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } else {
    console.error('usage: pg-backup-check.sh [backup DIR | restore DIR]');
    process.exit(2);
  }
  console.log(`\npg-backup-check ${mode}: passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(0);
} catch (err) {
  console.error(`\npg-backup-check ${mode}: FAILED: ${err instanceof CheckFailed ? err.message : (err as Error).stack}`);
  process.exit(1);
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream';
import type { Request } from 'express';
import busboy from 'busboy';
import type { Store } from '../db/store.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../log.js';
import { referencedShas } from './files.repo.js';

/** A received, hashed, not yet committed upload. */
export interface ReceivedFile {
  /**
   * `<files>/tmp/<sha256>.<uuid>[.<node>+<pid>].pending`: the name carries the hash so startup recovery can
   * finish a commit, and with several nodes the node and process writing it, so no other one touches it.
   */
  tmpPath: string;
  sha256: string;
  size: number;
  /** Display name only, sanitized; never used to build a path. */
  fileName: string;
  /** What the sniffer decided from the content (a MIME type); never the client's declared type. */
  contentType: string;
}

/**
 * Decides a file's type from its bytes while it streams. One instance per file part.
 * `update` sees every chunk in order and may refuse at once (the rest is never read);
 * `finish` runs once the whole file is on disk and returns the MIME type, or throws an AppError.
 */
export interface Sniffer {
  update(chunk: Buffer): AppError | void;
  finish(file: { path: string; size: number }): string | Promise<string>;
}

export interface ReceiveOptions {
  /** Per file; a larger file is refused with 413 `payload_too_large` while streaming. */
  maxFileBytes: number;
  maxFiles: number;
  /** At least this many file parts (default 1). */
  minFiles?: number;
  /** Name of the file parts (default `file`). */
  fileField?: string;
  sniffer: () => Sniffer;
  /** Fallback display name when the client sent none. */
  defaultFileName: string;
  /** Refusals whose wording depends on the route. */
  errors: { tooManyFiles: () => AppError; noFile: () => AppError; wrongPart: () => AppError };
}

const SHA = /^[0-9a-f]{64}$/;

/** SQL queries (one column `sha256`) naming the stored files still in use, from every domain that stores files. */
const REFERENCES: string[] = ['select sha256 from document_versions'];

/**
 * Declares a table whose rows refer to stored files, so startup recovery keeps them
 * (call at module load, before the first `recover()`): `registerFileReferences('select sha256 from task_attachments')`.
 */
export function registerFileReferences(query: string): void {
  if (!REFERENCES.includes(query)) REFERENCES.push(query);
}

/**
 * The file store as the domains use it (issue #18: every node of a cluster uses the same one). The one
 * implementation, `StoredFiles`, is a folder on local disk; several nodes share it as one mounted folder
 * (NFS or the like: docs/DEPLOY.md), which is why readers get a path (`pathFor`) they stream or hand to
 * the PDF workers.
 */
export interface FileStorage {
  /** Where the bytes of a stored file live. */
  pathFor(sha256: string): string;
  /** Streams a multipart upload to pending files (see `StoredFiles.receiveFiles`). */
  receiveFiles(req: Request, opts: ReceiveOptions): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }>;
  /** Moves a pending upload into place once its rows committed. */
  commit(f: Pick<ReceivedFile, 'tmpPath' | 'sha256'>): void;
  /** Forgets a pending upload that was refused. */
  discard(f: { tmpPath: string } | null | undefined): void;
  /** Start-up recovery of what a crash of this node left behind. */
  recover(store: Store, log: Logger): Promise<void>;
}

/**
 * Who writes a temporary file: the node (ECABINET_NODE_ID) and its process. Null node = one process, the
 * default installation, where every temporary file is this server's own.
 */
export interface FileOwner {
  nodeId: string | null;
  pid: number;
}

/**
 * `<uuid>[.<node>+<pid>].part`, `<sha>.<uuid>[.<node>+<pid>].pending`, and `<sha>.<uuid>.<node>+<pid>.orphan`
 * (an unreferenced stored file set aside by a recovery); untagged names come from one-process servers.
 */
const TMP_NAME = /^(?:([0-9a-f]{64})\.)?([\w-]+)(?:\.([a-z0-9_-]+)\+(\d+))?\.(part|pending|orphan)$/;

/** This process as the owner of the temporary files it writes. */
export function fileOwner(config: { cluster: { nodeId: string | null } }): FileOwner {
  return { nodeId: config.cluster.nodeId, pid: process.pid };
}

/**
 * How old another node's temporary file must be before a recovery takes it for abandoned (that node is
 * gone for good and never came back to clean up). An upload in progress writes its `.part` file as it
 * streams and a pending file is committed or discarded within its request, so a day is far past any
 * request; a node that restarts cleans its own at once.
 */
export const FOREIGN_TMP_MAX_AGE_MS = 24 * 3600_000;

/**
 * Content-addressed file storage under `<dataDir>/files/<sha[0..2]>/<sha>`, shared by every domain
 * that stores uploads (meeting documents, task attachments), and by every node of a cluster.
 *
 * Write protocol (crash safety): bytes stream to `tmp/<uuid>.part` while hashing; once complete the
 * file is renamed to `tmp/<sha>.<uuid>.pending`; the database rows are written in one transaction;
 * only then is the pending file renamed into place. A crash before the commit leaves only a pending
 * file (deleted at startup); a crash between commit and rename leaves a row whose file is pending
 * (renamed into place at startup). Identical uploads share one file. With several nodes
 * (`owner.nodeId` set) temporary names carry `.<node>+<pid>` and a node's recovery handles only its
 * own node's files of other (dead) processes, and another node's only past `FOREIGN_TMP_MAX_AGE_MS`.
 */
export class StoredFiles implements FileStorage {
  readonly root: string;
  readonly tmp: string;
  private readonly tag: string;

  constructor(
    dataDir: string,
    private readonly owner: FileOwner = { nodeId: null, pid: process.pid },
  ) {
    this.root = path.join(dataDir, 'files');
    this.tmp = path.join(this.root, 'tmp');
    this.tag = owner.nodeId ? `.${owner.nodeId}+${owner.pid}` : '';
    fs.mkdirSync(this.tmp, { recursive: true });
  }

  /** A new temporary path: `.part` while streaming, `.pending` (named after its hash) once complete. */
  tmpPathFor(kind: 'part'): string;
  tmpPathFor(kind: 'pending', sha256: string): string;
  tmpPathFor(kind: 'part' | 'pending', sha256?: string): string {
    const name = `${crypto.randomUUID()}${this.tag}.${kind}`;
    return path.join(this.tmp, kind === 'pending' ? `${sha256}.${name}` : name);
  }

  /** Where the bytes of `sha256` live. */
  pathFor(sha256: string): string {
    if (!SHA.test(sha256)) throw new Error('bad sha256');
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  /** Moves a committed upload into place (after its rows committed). Identical content may already be there. */
  commit(f: Pick<ReceivedFile, 'tmpPath' | 'sha256'>): void {
    const dest = this.pathFor(f.sha256);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (fs.existsSync(dest)) fs.rmSync(f.tmpPath, { force: true });
    else fs.renameSync(f.tmpPath, dest);
  }

  /** Forgets an upload that was refused. */
  discard(f: { tmpPath: string } | null | undefined): void {
    if (f) fs.rmSync(f.tmpPath, { force: true });
  }

  /**
   * Whether a recovery of this process may finish or remove the temporary file `name`: every one in a
   * one-process installation; with several nodes, this node's files of an earlier (dead) process and
   * untagged ones (from before the node ids), and another node's only once it is past
   * `FOREIGN_TMP_MAX_AGE_MS` — never an upload another node or process is still writing or committing.
   */
  private mayRecover(full: string, m: RegExpExecArray | null): boolean {
    if (!this.owner.nodeId) return true;
    const [node, pid] = [m?.[3], m?.[4]];
    if (node === undefined) return true;
    if (node === this.owner.nodeId) return Number(pid) !== this.owner.pid;
    try {
      return Date.now() - fs.statSync(full).mtimeMs > FOREIGN_TMP_MAX_AGE_MS;
    } catch {
      return false; // gone meanwhile: its owner committed or discarded it
    }
  }

  /**
   * Startup recovery: finishes commits interrupted between the transaction and the rename, removes
   * partial and uncommitted uploads (only those `mayRecover` allows), and removes stored files no row
   * (of any registered table) refers to. The folders are listed BEFORE the references are read: a file
   * another node moves into place after its rows committed is either referenced by then or not listed.
   * With several nodes an unreferenced file is set aside and looked up again before it is removed: an
   * identical upload committed meanwhile on another node (which found the file in place and kept it)
   * puts it back.
   */
  async recover(store: Store, log: Logger): Promise<void> {
    const tmpNames = fs.readdirSync(this.tmp);
    const stored: { dir: string; name: string }[] = [];
    for (const dir of fs.readdirSync(this.root)) {
      if (dir === 'tmp' || !/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of fs.readdirSync(path.join(this.root, dir))) stored.push({ dir, name });
    }
    const referenced = await referencedShas(store, REFERENCES.join(' union '));
    let finished = 0;
    let removed = 0;
    let kept = 0;
    for (const name of tmpNames) {
      const full = path.join(this.tmp, name);
      const m = TMP_NAME.exec(name);
      if (!this.mayRecover(full, m)) {
        kept++;
        continue;
      }
      // A pending upload whose rows committed, or a stored file set aside by a recovery that died before
      // it looked again: in place if a row refers to it.
      const sha = m && m[5] !== 'part' ? m[1] : undefined;
      if (sha && referenced.has(sha) && !fs.existsSync(this.pathFor(sha))) {
        this.commit({ tmpPath: full, sha256: sha });
        finished++;
      } else {
        fs.rmSync(full, { force: true });
        removed++;
      }
    }
    for (const { dir, name } of stored) {
      if (referenced.has(name)) continue;
      const full = path.join(this.root, dir, name);
      if (!this.owner.nodeId) {
        fs.rmSync(full, { force: true });
        removed++;
        continue;
      }
      const aside = path.join(this.tmp, `${name}.${crypto.randomUUID()}${this.tag}.orphan`);
      try {
        fs.renameSync(full, aside);
      } catch {
        continue; // removed by another node's recovery meanwhile
      }
      if (SHA.test(name) && (await referencedShas(store, `select sha256 from (${REFERENCES.join(' union ')}) r where sha256 = '${name}'`)).has(name)) {
        fs.renameSync(aside, full);
      } else {
        fs.rmSync(aside, { force: true });
        removed++;
      }
    }
    if (finished || removed || kept) log.info({ finished, removed, kept }, 'file store recovered');
  }

  /**
   * Streams a multipart upload (text fields, then 1..`maxFiles` file parts) to pending files.
   * Refuses before reading everything: a declared size over the limits or a file over
   * `maxFileBytes` (413 payload_too_large), too many files, content the sniffer refuses, a
   * connection cut midway (400 upload_incomplete), malformed multipart (400 invalid_payload).
   * Nothing is left on disk when it throws; on success the caller must `commit` or `discard` every file.
   */
  receiveFiles(req: Request, opts: ReceiveOptions): Promise<{ fields: Record<string, string>; files: ReceivedFile[] }> {
    const fileField = opts.fileField ?? 'file';
    const minFiles = opts.minFiles ?? 1;
    const declared = Number(req.get('content-length'));
    if (Number.isFinite(declared) && declared > opts.maxFiles * opts.maxFileBytes + 64 * 1024) {
      discardRest(req);
      return Promise.reject(refused(req, tooLarge(opts.maxFileBytes)));
    }
    // The client may already be gone (its 'close' fired before we listened): never wait for a body that will not come.
    if (req.destroyed || req.readableAborted || (req.socket?.destroyed && !req.complete)) {
      return Promise.reject(refused(req, new AppError('upload_incomplete', 'The upload was interrupted', 400)));
    }
    if (!req.is('multipart/form-data')) {
      discardRest(req);
      return Promise.reject(refused(req, new AppError('unsupported_media_type', `Send the file as multipart/form-data with a "${fileField}" part`, 415)));
    }
    return new Promise((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: req.headers,
          limits: { files: opts.maxFiles, fileSize: opts.maxFileBytes, fields: 10, fieldSize: 20_000, parts: opts.maxFiles + 11 },
          defParamCharset: 'utf8',
        });
      } catch {
        return reject(refused(req, new AppError('invalid_payload', 'Malformed multipart request', 400)));
      }
      const rawFields: Record<string, string> = {};
      const outs: fs.WriteStream[] = [];
      /** Every path written so far (.part and .pending): all removed on failure. */
      const paths: string[] = [];
      const pending: Promise<(ReceivedFile & { partPath: string }) | null>[] = [];
      let failed = false;
      let resolved = false;

      /**
       * Refuses the upload. The promise rejects only once every write stream has closed and every file
       * it wrote is unlinked, so when the route answers (or logs that the client left), nothing of the
       * upload is on disk — on every runtime, whatever the order in which the file opened and the
       * request closed. A stream destroyed while its file is still being opened closes after the open,
       * so the unlink that follows its 'close' always finds (and removes) the file.
       */
      const fail = (err: AppError) => {
        if (failed || resolved) return;
        failed = true;
        // Stop parsing; the answer goes out once the files are gone while the rest of the body is read and discarded (up to a cap).
        req.unpipe(bb);
        discardRest(req);
        void Promise.all(outs.map(closeStream)).then(() => {
          for (const p of paths) {
            try {
              fs.rmSync(p, { force: true });
            } catch (e) {
              req.log?.error({ err: e, path: p }, 'could not remove a refused upload');
            }
          }
          reject(refused(req, err));
        });
      };

      req.on('aborted', () => fail(new AppError('upload_incomplete', 'The upload was interrupted', 400)));
      req.on('close', () => {
        if (!req.complete) fail(new AppError('upload_incomplete', 'The upload was interrupted', 400));
      });
      bb.on('field', (name, value) => {
        rawFields[name] = value;
      });
      bb.on('filesLimit', () => fail(opts.errors.tooManyFiles()));
      bb.on('partsLimit', () => fail(new AppError('invalid_payload', 'Too many parts in the multipart request', 400)));
      bb.on('fieldsLimit', () => fail(new AppError('invalid_payload', 'Too many form fields', 400)));
      bb.on('file', (name, stream, info) => {
        if (failed) return void stream.resume();
        if (name !== fileField) {
          stream.resume();
          return fail(opts.errors.wrongPart());
        }
        const partPath = this.tmpPathFor('part');
        paths.push(partPath);
        const hash = crypto.createHash('sha256');
        const sniffer = opts.sniffer();
        let size = 0;
        const out = fs.createWriteStream(partPath, { flags: 'wx' });
        outs.push(out);
        stream.on('data', (chunk: Buffer) => {
          if (failed) return;
          size += chunk.length;
          hash.update(chunk);
          const refusal = sniffer.update(chunk);
          if (refusal) fail(refusal);
        });
        stream.on('limit', () => fail(tooLarge(opts.maxFileBytes)));
        // busboy errors the open file stream on a truncated body ("Unexpected end of form").
        stream.on('error', () => fail(new AppError('invalid_payload', 'Malformed multipart request', 400)));
        // One callback for both sides, once the file is closed: an error on either destroys the other.
        const written = new Promise<boolean>((done) =>
          pipeline(stream, out, (err) => {
            if (err) fail(new AppError('internal', 'Could not store the upload', 500));
            done(!err);
          }),
        );
        pending.push(
          (async () => {
            // After a failure, `fail` owns the removal of the file (once its stream has closed).
            if (!(await written) || failed) return null;
            let contentType: string;
            try {
              contentType = await sniffer.finish({ path: partPath, size });
            } catch (err) {
              // Refuse at once (other parts may still be streaming); never a dangling rejection.
              fail(err instanceof AppError ? err : new AppError('upload_incomplete', 'The upload could not be read', 400));
              return null;
            }
            const sha256 = hash.digest('hex');
            const tmpPath = this.tmpPathFor('pending', sha256);
            return { tmpPath, sha256, size, fileName: cleanFileName(info.filename, opts.defaultFileName), contentType, partPath };
          })(),
        );
      });
      bb.on('error', () => fail(new AppError('invalid_payload', 'Malformed multipart request', 400)));
      bb.on('close', async () => {
        if (failed) return;
        if (pending.length < minFiles) return fail(opts.errors.noFile());
        const results = await Promise.all(pending);
        if (failed) return;
        if (results.some((r) => !r)) return fail(new AppError('upload_incomplete', 'The upload was interrupted', 400));
        const files: ReceivedFile[] = [];
        for (const r of results as (ReceivedFile & { partPath: string })[]) {
          paths.push(r.tmpPath);
          fs.renameSync(r.partPath, r.tmpPath);
          files.push({ tmpPath: r.tmpPath, sha256: r.sha256, size: r.size, fileName: r.fileName, contentType: r.contentType });
        }
        resolved = true;
        resolve({ fields: rawFields, files });
      });
      req.pipe(bb);
    });
  }
}

/** Destroys a write stream and resolves once it has closed (at once if it already has). */
function closeStream(out: fs.WriteStream): Promise<void> {
  return new Promise((done) => {
    if (out.closed) return done();
    out.once('close', () => done());
    out.destroy();
  });
}

/**
 * Logs a refused upload (`upload refused`, with its error code and the request id) once nothing of it is
 * left on disk; returns the error. Operators see interrupted and refused uploads; tests wait for this line.
 */
function refused(req: Request, err: AppError): AppError {
  req.log?.info({ code: err.code, status: err.status }, 'upload refused');
  return err;
}

/** How much of a refused request body the server still reads (see `discardRest`). */
export const DRAIN_LIMITS = { bytes: 16 * 1024 * 1024, ms: 15_000 };

/**
 * Reads and discards the rest of a request body the server refused partway (413, 415, 400) while
 * the refusal is answered at once, on a connection kept open. HTTP clients that write the whole
 * body before they read the answer (fetch in Node 22+ / undici 7+, browsers) otherwise see EPIPE or
 * a reset instead of "file too large" when the server closes without reading. A client that stops
 * sending once it has the answer is not waited for: past `DRAIN_LIMITS.bytes` more bytes or
 * `DRAIN_LIMITS.ms`, the connection is destroyed (nobody uploads gigabytes into a refusal).
 */
export function discardRest(req: Request, limits = DRAIN_LIMITS): void {
  if (req.complete || req.destroyed || req.readableAborted) return;
  let read = 0;
  const giveUp = () => {
    cleanup();
    req.socket?.destroy();
  };
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > limits.bytes) giveUp();
  };
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', cleanup);
    req.off('close', cleanup);
  };
  const timer = setTimeout(giveUp, limits.ms);
  timer.unref();
  req.on('data', onData);
  req.once('end', cleanup);
  req.once('close', cleanup);
  req.resume();
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `The file is larger than the limit of ${Math.floor(maxBytes / (1024 * 1024))} MB`, 413, { maxBytes });
}

/** The last path segment, NFC, without control characters, at most 255 characters. Display only. */
export function cleanFileName(name: string | undefined, fallback = 'document.pdf'): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .trim()
    .slice(0, 255);
  return clean && clean !== '.' && clean !== '..' ? clean : fallback;
}

/**
 * `Content-Disposition` for a download: an ASCII fallback `filename` (diacritics folded, other
 * characters replaced) and the exact name as RFC 5987 `filename*` (UTF-8, percent-encoded).
 */
export function contentDisposition(type: 'attachment' | 'inline', fileName: string): string {
  const ascii =
    fileName
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd')
      .replace(/Đ/g, 'D')
      .replace(/[^\x20-\x7e]|["\\%;]/g, '_') || 'file';
  const star = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${star}`;
}

import crypto from 'node:crypto';
import { deriveKey } from '../crypto/keys.js';
import type { Store } from '../db/store.js';
import { AppError } from '../http/errors.js';
import { discardSealed, publishSealed, sealedBallots, sealedExists } from './votes.repo.js';

/**
 * The secret ballot box (docs/VOTING.md, "Secret ballots"). While a secret vote is open its ballots
 * are stored sealed: AES-256-GCM under a key derived (HKDF-SHA-256) from the server secret
 * (`ECABINET_SECRET`, never written to the database) and the vote id, so a copy of the database files
 * taken during the vote — its WAL frames, page layout and free space included — holds only ciphertext
 * next to the "has voted" rows, and a restart after a crash can still open it. Every sealed ballot of
 * a vote has the same length (receipt key + a fixed-size bitmap of the choices), so not even an
 * abstention shows. At the close, {@link BallotBox.publish} opens them, writes them in a random order
 * into `vote_secret_ballots` (receipt key and choices: what the receipts list publishes) and deletes
 * the sealed rows with `secure_delete` on, so their bytes are zeroed rather than left in free pages;
 * the caller then empties the WAL (eraseWal, server/db/wal-erase.ts). What remains after the close is a set of ballots
 * in random order that shares nothing with the participation rows: no order, no id, no time.
 * On PostgreSQL the published rows' ctid, WAL positions and statement log follow the shuffled order too;
 * eraseWal vacuums the deleted sealed rows, but the cluster's WAL keeps them (ciphertext) until recycled
 * (docs/VOTING.md, "Secret ballots on PostgreSQL").
 */
export class BallotBox {
  private readonly keys = new Map<number, { enc: Buffer; tag: Buffer }>();
  /** Random IVs drawn in bulk: one `randomBytes` call per ballot measured ~20 µs on a busy machine, GCM itself ~10. */
  private ivPool = Buffer.alloc(0);
  private ivAt = 0;

  /** @param secret the server secret (config.secret); ballots sealed under one secret open only under it. */
  constructor(
    private readonly store: Store,
    private readonly secret: string,
  ) {}

  /**
   * Seals a ballot for the ballot batch (server/votes/votes.repo.ts `writeBallots` stores it). The row's
   * key (`tag`) is a keyed hash of the receipt key, so a retry with the same receipt finds it
   * ({@link has}) while the key means nothing without the secret.
   */
  seal(voteId: number, options: number, receiptKey: Buffer, choices: number[]): { tag: Buffer; sealed: Buffer } {
    const k = this.keysOf(voteId);
    const tag = this.tagOf(k, receiptKey);
    const plain = Buffer.concat([receiptKey, bitmap(options, choices)]);
    const iv = this.nextIv();
    const c = crypto.createCipheriv('aes-256-gcm', k.enc, iv);
    c.setAAD(aad(voteId, tag));
    const sealed = Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
    return { tag, sealed };
  }

  /** Whether a ballot with this receipt key is in the (still sealed) box. */
  has(voteId: number, receiptKey: Buffer): Promise<boolean> {
    return sealedExists(this.store, voteId, this.tagOf(this.keysOf(voteId), receiptKey));
  }

  /**
   * At the close, inside the closing transaction: opens every sealed ballot of the vote, writes them in
   * a random order into `vote_secret_ballots`, and deletes the sealed rows with `secure_delete` on.
   * @returns how many ballots were published.
   * @throws AppError `internal` (500) if a ballot does not open (the server secret changed
   * since the vote was opened): nothing is written and the vote stays open.
   */
  async publish(voteId: number, options: number): Promise<number> {
    const k = this.keysOf(voteId);
    const rows = await sealedBallots(this.store, voteId);
    const ballots = rows.map((r) => {
      const iv = r.sealed.subarray(0, 12);
      const body = r.sealed.subarray(12, r.sealed.length - 16);
      const d = crypto.createDecipheriv('aes-256-gcm', k.enc, iv);
      d.setAAD(aad(voteId, r.tag));
      d.setAuthTag(r.sealed.subarray(r.sealed.length - 16));
      let plain: Buffer;
      try {
        plain = Buffer.concat([d.update(body), d.final()]);
      } catch {
        throw new AppError('internal', 'A sealed ballot does not open with this server secret (was ECABINET_SECRET changed during the vote?)', 500);
      }
      return { receiptKey: plain.subarray(0, 32), choices: unbitmap(options, plain.subarray(32)) };
    });
    // Fisher–Yates with a CSPRNG: the published order owes nothing to the order of arrival.
    for (let i = ballots.length - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [ballots[i], ballots[j]] = [ballots[j], ballots[i]];
    }
    await publishSealed(this.store, voteId, ballots);
    this.keys.delete(voteId);
    return ballots.length;
  }

  /**
   * An annulled open vote: its sealed ballots are deleted unopened, with `secure_delete` on (their bytes
   * zeroed, not left in free pages). Inside the annulling transaction. @returns how many were deleted.
   */
  async discard(voteId: number): Promise<number> {
    try {
      return await discardSealed(this.store, voteId);
    } finally {
      this.keys.delete(voteId);
    }
  }

  private nextIv(): Buffer {
    // A fresh pool each time (never refilled in place): IVs handed out earlier stay as they were.
    if (this.ivAt + 12 > this.ivPool.length) {
      this.ivPool = crypto.randomBytes(12 * 256);
      this.ivAt = 0;
    }
    return this.ivPool.subarray(this.ivAt, (this.ivAt += 12));
  }

  private keysOf(voteId: number): { enc: Buffer; tag: Buffer } {
    let k = this.keys.get(voteId);
    if (!k) {
      const okm = deriveKey(this.secret, 'e-cabinet secret ballot box v1', `vote ${voteId}`, 64);
      k = { enc: okm.subarray(0, 32), tag: okm.subarray(32) };
      this.keys.set(voteId, k);
    }
    return k;
  }

  private tagOf(k: { tag: Buffer }, receiptKey: Buffer): Buffer {
    return crypto.createHmac('sha256', k.tag).update(receiptKey).digest().subarray(0, 16);
  }
}

function aad(voteId: number, tag: Buffer): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(voteId));
  return Buffer.concat([b, tag]);
}

/** Choices as a bitmap of `options` bits: the same length for every ballot of a vote. */
function bitmap(options: number, choices: number[]): Buffer {
  const b = Buffer.alloc(Math.max(1, Math.ceil(options / 8)));
  for (const c of choices) b[c >> 3] |= 1 << (c & 7);
  return b;
}

function unbitmap(options: number, b: Buffer): number[] {
  const out: number[] = [];
  for (let c = 0; c < options; c++) if (b[c >> 3] & (1 << (c & 7))) out.push(c);
  return out;
}

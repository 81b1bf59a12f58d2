import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../http/errors.js';

/**
 * Lockout steps of one (account, source) pair: the n-th lockout within a day lasts `LOCKOUT_STEPS_S[n-1]`
 * seconds (the last step repeats). Progressive, so a person who mistyped five times waits a minute,
 * a script guessing from one address is slowed to a handful of guesses per hour.
 */
export const LOCKOUT_STEPS_S = [60, 5 * 60, 15 * 60, 60 * 60] as const;

/** Window in which an (account, source) pair's failed sign-ins are counted. */
const FAILURE_WINDOW_S = 15 * 60;

/** A sign-in attempt that was counted before its password is checked; report how it ended. */
export interface LoginAttempt {
  /** The password was right: the pair's failures and lockouts are forgotten. */
  succeeded(): void;
  /** The password was wrong (or the user unknown/disabled): a lockout starts once the pair reached the limit. */
  failed(): void;
}

/**
 * Sign-in throttling that holds under concurrency and cannot be turned against the real user.
 *
 * - Every attempt is counted **before** the password is evaluated, in the same synchronous step that
 *   checks the limits (rate-limiter-flexible's memory store increments synchronously), so 30 parallel
 *   wrong passwords evaluate at most `perAccount` of them; the rest are refused `rate_limited` unchecked.
 * - The failure counter and the lockout are keyed by **account and source address** together: a storm
 *   of wrong passwords for `chair` from address A locks out A only; chair signs in from B as usual.
 * - Lockouts are progressive per pair (`LOCKOUT_STEPS_S`), not a hard lock of the account.
 * - Each source address also has a ceiling on attempts per minute over all accounts (`perIp`), which
 *   bounds password spraying from one address.
 *
 * State is in memory: one process (the default deployment). A restart forgets it (documented in
 * docs/SECURITY.md, V2.2). In cluster mode with Redis (`redis` gives the hub's connection) the counters are in
 * Redis, so attempts made through different nodes count together (Redis' INCR is atomic: the "at most
 * `perAccount` evaluated" bound holds across nodes too). While Redis is unreachable each node counts in its own
 * memory (rate-limiter-flexible's insurance limiter) — a login never waits on Redis nor fails because of it.
 */
export class LoginThrottle {
  private readonly memory: Limiters;
  private shared: Limiters | null = null;

  /**
   * `name` keeps the Redis keys of two throttles apart (sign-in, and the secondary checks of auth.routes.ts);
   * `redis` is asked on each attempt until it gives a connection (the hub's, which exists once the server started).
   */
  constructor(
    private readonly limits: { perAccount: number; perIp: number },
    private readonly opts: { name?: string; redis?: () => Redis | null } = {},
  ) {
    this.memory = {
      perSource: new RateLimiterMemory({ keyPrefix: 'login-ip', points: limits.perIp, duration: 60 }),
      pairs: new RateLimiterMemory({ keyPrefix: 'login-pair', points: limits.perAccount, duration: FAILURE_WINDOW_S }),
      lockouts: new RateLimiterMemory({ keyPrefix: 'login-lockouts', points: 1_000_000, duration: 24 * 3600 }),
    };
  }

  private limiters(): Limiters {
    if (this.shared) return this.shared;
    const client = this.opts.redis?.();
    if (!client) return this.memory;
    const prefix = `ecabinet:${this.opts.name ?? 'login'}`;
    const inRedis = (m: RateLimiterAbstract, suffix: string) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${prefix}-${suffix}`,
        points: m.points,
        duration: m.duration,
        insuranceLimiter: m,
        // Not connected: straight to the memory limiter, without a round trip that would fail anyway.
        rejectIfRedisNotReady: true,
      });
    this.shared = { perSource: inRedis(this.memory.perSource, 'ip'), pairs: inRedis(this.memory.pairs, 'pair'), lockouts: inRedis(this.memory.lockouts, 'lockouts') };
    return this.shared;
  }

  /**
   * Counts an attempt of `account` from `source` and returns its handle, or throws `rate_limited`
   * (429, `details.retryAfterSeconds`) without evaluating anything.
   */
  async begin(account: string, source: string): Promise<LoginAttempt> {
    const key = `${account}\n${source}`;
    const { perSource, pairs, lockouts } = this.limiters();
    try {
      await perSource.consume(source);
    } catch (r) {
      throw tooMany(r);
    }
    let reserved: RateLimiterRes;
    try {
      reserved = await pairs.consume(key);
    } catch (r) {
      throw tooMany(r);
    }
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        void pairs.delete(key).catch(ignore);
        void lockouts.delete(key).catch(ignore);
      },
      failed: () => {
        if (settled) return;
        settled = true;
        // The attempt is already counted; the one that used the last point starts the lockout.
        if (reserved.consumedPoints < this.limits.perAccount) return;
        void lockouts
          .penalty(key)
          .then((n) => {
            const step = LOCKOUT_STEPS_S[Math.min(n.consumedPoints, LOCKOUT_STEPS_S.length) - 1];
            return pairs.block(key, step);
          })
          .catch(ignore);
      },
    };
  }
}

type Limiters = { perSource: RateLimiterAbstract; pairs: RateLimiterAbstract; lockouts: RateLimiterAbstract };

/** A bookkeeping write that failed (Redis went away between the check and it) loses one count, never the request. */
const ignore = () => {};

function tooMany(r: unknown): AppError {
  const ms = (r as { msBeforeNext?: number })?.msBeforeNext ?? 60_000;
  if (r instanceof Error) throw r; // a bug, not a limit
  return new AppError('rate_limited', 'Too many sign-in attempts; try again later', 429, { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });
}

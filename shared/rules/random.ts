/**
 * A small seeded pseudo-random generator (mulberry32) for reproducible tests and benchmarks:
 * property tests against brute-force references, random edit sequences, benchmark data. Not for
 * anything secret (tokens, ballots): it is fast and evenly spread, not unpredictable.
 *
 * Returns a function that yields floats in [0, 1); the same seed always yields the same sequence.
 */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

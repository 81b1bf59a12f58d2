import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, t=2): memory-hard, ~30 ms here. */
export const hashPassword = (password: string) => hash(password);

/** Constant-time verification; a malformed stored hash counts as a mismatch. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A valid hash of a random secret, verified against when the username is unknown (no timing oracle). */
export const DUMMY_HASH = await hash(crypto.randomUUID());

import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import { LIMITS } from '../../shared/limits.js';
import { AppError } from '../http/errors.js';

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});

/** Words no password of ours may be built on (the product, the demo). */
const PRODUCT_WORDS = ['ecabinet', 'e-cabinet', 'cabinet', 'ecabinet-demo', 'phonghop', 'bancd', 'banchidao'];

/**
 * The password policy (ASVS 2.1): at least `LIMITS.password.min` (12) characters, at most 256, any
 * characters (spaces and Vietnamese letters welcome, nothing stripped), not guessable — zxcvbn score
 * of at least 3 with the common-password and English dictionaries plus the user's own name and
 * username and the product's words. Only new passwords are checked (existing ones still sign in).
 * @throws AppError weak_password (422) with `details.reasons`
 */
export function assertStrongPassword(password: string, who: { username?: string; fullName?: string } = {}): void {
  const reasons: string[] = [];
  if ([...password].length < LIMITS.password.min) reasons.push(`shorter than ${LIMITS.password.min} characters`);
  if (password.length > LIMITS.password.max) reasons.push(`longer than ${LIMITS.password.max} characters`);
  const personal = [who.username, ...(who.fullName ?? '').split(/\s+/)].filter((w): w is string => !!w && w.length >= 3);
  const lower = password.toLowerCase();
  if (who.username && lower.includes(who.username.toLowerCase())) reasons.push('contains the username');
  if (!reasons.length) {
    const r = zxcvbn.check(password.slice(0, 100), [...personal, ...PRODUCT_WORDS]);
    if (r.score < 3) reasons.push(r.feedback.warning ? `too easy to guess: ${r.feedback.warning}` : 'too easy to guess');
  }
  if (reasons.length) throw new AppError('weak_password', `Choose a stronger password: ${reasons.join('; ')}`, 422, { reasons });
}

import { configureLocalization } from '@lit/localize';
import type { Locale } from '../../shared/protocol/auth.js';

/**
 * Runtime localization: Vietnamese is the source language (the text written in `msg()` calls),
 * English is loaded on demand from client/i18n/en/index.ts. Elements that render `msg()` must be
 * decorated with `@localized()` so they re-render when the locale changes.
 */
export const { getLocale, setLocale } = configureLocalization({
  sourceLocale: 'vi',
  targetLocales: ['en'],
  loadLocale: () => import('./en/index.js'),
});

/** Switches the interface language and keeps `<html lang>` in step. */
export async function applyLocale(locale: Locale): Promise<void> {
  if (getLocale() !== locale) await setLocale(locale);
  document.documentElement.lang = locale;
}

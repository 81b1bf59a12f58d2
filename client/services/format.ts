import type { Locale } from '../../shared/protocol/auth.js';

/** Every date in the UI is shown in Vietnam's time zone, whatever the device says. */
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const INTL_LOCALE: Record<Locale, string> = { vi: 'vi-VN', en: 'en-GB' };
/** Asia/Ho_Chi_Minh has no daylight saving: a fixed +07:00 offset. */
const OFFSET_MS = 7 * 3600_000;

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(locale: Locale, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.DateTimeFormat(INTL_LOCALE[locale], { timeZone: TIME_ZONE, ...opts })));
  return f;
}

/** "Thứ Hai, 01/12/2026 08:00" / "Monday, 01/12/2026, 08:00". */
export function formatDateTime(iso: string, locale: Locale): string {
  return fmt(locale, { weekday: 'long', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}
/** "01/12/2026". */
export function formatDate(iso: string, locale: Locale): string {
  return fmt(locale, { day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(iso));
}
/** "08:00". */
export function formatTime(iso: string, locale: Locale): string {
  return fmt(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}
/** "08:00 – 11:30, Thứ Hai, 01/12/2026": a meeting's time span. */
export function formatSpan(startIso: string, endIso: string, locale: Locale): string {
  return `${formatTime(startIso, locale)} – ${formatTime(endIso, locale)}, ${fmt(locale, { weekday: 'long', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(startIso))}`;
}
/** Short stamp for notifications: "23/11 09:14" (vi-VN alone would print "23-11"). */
export function formatStamp(iso: string, locale: Locale): string {
  const parts = fmt(locale, { day: '2-digit', month: '2-digit' }).formatToParts(new Date(iso));
  const part = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${part('day')}/${part('month')} ${formatTime(iso, locale)}`;
}

/** ISO instant → value of an `<input type="datetime-local">` in Vietnam time ("2026-12-01T08:00"). */
export function toLocalInput(iso: string): string {
  return new Date(Date.parse(iso) + OFFSET_MS).toISOString().slice(0, 16);
}
/** `<input type="datetime-local">` value (Vietnam time) → ISO with offset, as the API wants. */
export function fromLocalInput(value: string): string {
  return `${value.length === 16 ? value + ':00' : value}+07:00`;
}

// Dates, numbers and money through Intl, per the UI language. Values arrive as the API
// writes them: decimals and money amounts as strings (never rounded through a float
// here: Intl formats the string's digits when the runtime supports it), dates as
// `YYYY-MM-DD`, instants as RFC 3339 UTC, durations as ISO 8601 (`P1DT2H30M`).
import { localeOf } from './i18n';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(lang: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${lang}|${JSON.stringify(options)}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(localeOf(lang), options);
    cache.set(key, f);
  }
  return f;
}

function dateFormat(lang: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${lang}|${JSON.stringify(options)}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(localeOf(lang), options);
    cache.set(key, f);
  }
  return f;
}

// Intl.NumberFormat.format accepts decimal strings exactly (ES2023); the cast keeps older
// lib typings happy.
type Numeric = number | string;
const fmt = (f: Intl.NumberFormat, v: Numeric) => f.format(v as unknown as number);

export function formatInteger(lang: string, value: Numeric): string {
  return fmt(numberFormat(lang, { maximumFractionDigits: 0 }), value);
}

export function formatDecimal(lang: string, value: Numeric, scale?: number): string {
  return fmt(numberFormat(lang, { minimumFractionDigits: 0, maximumFractionDigits: scale ?? 20 }), value);
}

export function formatMoney(lang: string, amount: Numeric, currency: string): string {
  try {
    return fmt(numberFormat(lang, { style: 'currency', currency, currencyDisplay: 'symbol' }), amount);
  } catch {
    return `${formatDecimal(lang, amount)} ${currency}`;
  }
}

/** Percentage points: 12.5 is 12.5 %. */
export function formatPercent(lang: string, points: Numeric): string {
  const n = typeof points === 'string' ? Number(points) : points;
  return numberFormat(lang, { style: 'percent', maximumFractionDigits: 4 }).format(n / 100);
}

export function formatDate(lang: string, iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  if (!y || !m || !d) return iso;
  return dateFormat(lang, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

export function formatDateTime(lang: string, iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return dateFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(t);
}

export interface DurationParts {
  negative: boolean;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** `P1DT2H30M` → parts; null when it is not such a duration. */
export function parseDuration(iso: string): DurationParts | null {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m) return null;
  return { negative: !!m[1], days: +(m[2] ?? 0), hours: +(m[3] ?? 0), minutes: +(m[4] ?? 0), seconds: +(m[5] ?? 0) };
}

export function durationToIso(p: Omit<DurationParts, 'negative'>): string {
  let out = 'P';
  if (p.days) out += `${p.days}D`;
  if (p.hours || p.minutes || p.seconds || !p.days) {
    out += 'T';
    if (p.hours) out += `${p.hours}H`;
    if (p.minutes) out += `${p.minutes}M`;
    if (p.seconds || (!p.hours && !p.minutes)) out += `${p.seconds}S`;
  }
  return out;
}

export function formatDuration(lang: string, iso: string): string {
  const p = parseDuration(iso);
  if (!p) return iso;
  const units: [number, Intl.NumberFormatOptions['unit']][] = [
    [p.days, 'day'],
    [p.hours, 'hour'],
    [p.minutes, 'minute'],
    [p.seconds, 'second'],
  ];
  const parts = units
    .filter(([n]) => n > 0)
    .map(([n, unit]) => numberFormat(lang, { style: 'unit', unit, unitDisplay: 'short' }).format(n));
  const text = parts.length ? parts.join(' ') : numberFormat(lang, { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(0);
  return p.negative ? `-${text}` : text;
}

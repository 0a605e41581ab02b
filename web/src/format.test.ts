import { describe, expect, it } from 'vitest';
import {
  durationToIso,
  formatDate,
  formatDecimal,
  formatDuration,
  formatMoney,
  formatPercent,
  parseDuration,
} from './format';

describe('durations', () => {
  it.each([
    ['PT0S', { days: 0, hours: 0, minutes: 0, seconds: 0 }],
    ['PT1H30M', { days: 0, hours: 1, minutes: 30, seconds: 0 }],
    ['P2D', { days: 2, hours: 0, minutes: 0, seconds: 0 }],
    ['P1DT2H30M', { days: 1, hours: 2, minutes: 30, seconds: 0 }],
    ['PT45S', { days: 0, hours: 0, minutes: 0, seconds: 45 }],
  ])('%s round-trips as the server writes it', (iso, parts) => {
    expect(parseDuration(iso)).toEqual({ negative: false, ...parts });
    expect(durationToIso(parts)).toBe(iso);
  });

  it('refuses what is not a duration', () => {
    expect(parseDuration('1 hour')).toBeNull();
    expect(parseDuration('P1Y')).toBeNull();
  });

  it('reads per language', () => {
    expect(formatDuration('en', 'P1DT2H30M')).toMatch(/1 day.*2 hr.*30 min/);
    expect(formatDuration('zh', 'PT1H30M')).toMatch(/1小时.*30分钟/);
  });
});

describe('numbers, money and dates', () => {
  it('keeps every digit of a decimal string', () => {
    expect(formatDecimal('en', '12345678901234567.891', 3)).toBe('12,345,678,901,234,567.891');
  });

  it('formats money with its currency per language', () => {
    expect(formatMoney('en', '1234.5', 'CNY')).toBe('CN¥1,234.50');
    expect(formatMoney('zh', '1234.5', 'CNY')).toBe('¥1,234.50');
    expect(formatMoney('en', '1000', 'JPY')).toBe('¥1,000');
  });

  it('formats percentage points', () => {
    expect(formatPercent('en', '12.5')).toBe('12.5%');
  });

  it('formats a date without shifting it by the time zone', () => {
    expect(formatDate('en', '2026-03-14')).toBe('Mar 14, 2026');
    expect(formatDate('zh', '2026-03-14')).toBe('2026年3月14日');
  });
});

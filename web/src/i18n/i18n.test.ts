import { describe, expect, it } from 'vitest';
import en from './en';
import { detectLang } from './index';
import zh from './zh';

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaf(obj: object, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], obj);
}

describe('messages', () => {
  it('every key exists in both languages', () => {
    expect(keys(zh).sort()).toEqual(keys(en).sort());
  });

  it('no message is empty, and both use the same placeholders', () => {
    for (const key of keys(en)) {
      const [e, z] = [leaf(en, key), leaf(zh, key)] as string[];
      expect(e.trim(), key).not.toBe('');
      expect(z.trim(), key).not.toBe('');
      const vars = (s: string) => [...s.matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort();
      expect(vars(z), key).toEqual(vars(e));
    }
  });

  it('Chinese messages are translated, not copied', () => {
    const words = (k: string) => String(leaf(en, k)).replace(/{{\w+}}/g, '');
    const same = keys(en).filter((k) => leaf(en, k) === leaf(zh, k) && /[a-z]{3}/.test(words(k)));
    // Brand and language names are the same in both.
    expect(same.sort()).toEqual(['app.name', 'delivery.kinds.slack', 'lang.en']);
  });
});

describe('detectLang', () => {
  it.each([
    [null, ['en-US', 'zh-CN'], 'en'],
    [null, ['zh-TW'], 'zh'],
    [null, ['fr-FR', 'en-GB'], 'en'],
    [null, ['fr-FR'], 'zh'],
    ['en', ['zh-CN'], 'en'],
    ['zh', ['en-US'], 'zh'],
    ['xx', ['en-US'], 'en'],
  ] as const)('stored %s, browser %j → %s', (stored, browser, expected) => {
    expect(detectLang(stored, browser)).toBe(expected);
  });
});

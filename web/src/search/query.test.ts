import { describe, expect, it } from 'vitest';
import { hitPath, isFocusShortcut, searchPath } from './query';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('search helpers', () => {
  it('builds the results path', () => {
    expect(searchPath(' 交货延迟 原因 ')).toBe('/search?q=%E4%BA%A4%E8%B4%A7%E5%BB%B6%E8%BF%9F%20%E5%8E%9F%E5%9B%A0');
  });
  it('takes "/" only outside text fields, Ctrl+K anywhere', () => {
    const input = { tagName: 'INPUT' } as Element;
    const body = { tagName: 'BODY' } as Element;
    expect(isFocusShortcut(key('/'), body)).toBe(true);
    expect(isFocusShortcut(key('/'), input)).toBe(false);
    expect(isFocusShortcut(key('k', { ctrlKey: true }), input)).toBe(true);
    expect(isFocusShortcut(key('K', { metaKey: true }), body)).toBe(true);
    expect(isFocusShortcut(key('k'), body)).toBe(false);
  });
  it('links records to their page and messages to their record timeline', () => {
    expect(hitPath({ kind: 'record', type: 'order', id: '1' })).toBe('/r/order/1');
    expect(hitPath({ kind: 'message', type: 'order', id: 'm', record: { type: 'order', id: '1' } })).toBe('/r/order/1?tab=timeline');
    expect(hitPath({ kind: 'message', type: 'channel', id: 'm' })).toBeUndefined();
  });
});

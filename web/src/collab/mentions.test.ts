import { describe, expect, it } from 'vitest';
import { mentionedIds, mergePeople } from './mentions';

const people = [
  { id: 'a', name: 'Li Wei' },
  { id: 'b', name: 'Li Weiming' },
  { id: 'c', name: '王芳' },
  { id: 'd', name: 'Bob' },
];

describe('mentionedIds', () => {
  it('finds names with spaces, in order of first mention, once each', () => {
    expect(mentionedIds('@Bob please ask @Li Wei, and @Bob again', people)).toEqual(['d', 'a']);
  });
  it('prefers the longest name at a position', () => {
    expect(mentionedIds('cc @Li Weiming', people)).toEqual(['b']);
    expect(mentionedIds('@Li Weiming and @Li Wei', people)).toEqual(['b', 'a']);
  });
  it('needs a word start and a boundary after the name', () => {
    expect(mentionedIds('mail bob@Bob.example', people)).toEqual([]);
    expect(mentionedIds('@Bobby hi', people)).toEqual([]);
    expect(mentionedIds('(@Bob)', people)).toEqual(['d']);
  });
  it('handles Chinese names followed by Chinese text', () => {
    expect(mentionedIds('请@王芳确认', people)).toEqual([]);
    expect(mentionedIds('请 @王芳确认', people)).toEqual(['c']);
    expect(mentionedIds('@王芳，请看', people)).toEqual(['c']);
  });
  it('drops a mention whose text was deleted', () => {
    expect(mentionedIds('nobody here', people)).toEqual([]);
  });
});

describe('mergePeople', () => {
  it('dedupes by id and sorts by name', () => {
    expect(mergePeople([{ id: 'x', name: 'Zed' }], [{ id: 'x', name: 'Other' }, { id: 'y', name: 'Amy' }, { id: 'z', name: '' }])).toEqual([
      { id: 'y', name: 'Amy' },
      { id: 'x', name: 'Zed' },
    ]);
  });
});

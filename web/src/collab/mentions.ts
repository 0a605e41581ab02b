// `@name` mentions in a message body. The composer offers people by name; what is sent is
// the ids of the people whose `@name` is still in the text when it is posted (deleting the
// text drops the mention).

export interface Person {
  id: string;
  name: string;
}

/** Ids of the people mentioned as `@name` in `body`, each once, in order of first mention. */
export function mentionedIds(body: string, people: Person[]): string[] {
  // Longest names first, so `@Li Weiming` is not taken for `@Li Wei`.
  const sorted = [...people].filter((p) => p.name.trim()).sort((a, b) => b.name.length - a.name.length);
  const found: { id: string; at: number }[] = [];
  const taken = new Set<number>();
  for (const p of sorted) {
    const needle = `@${p.name}`;
    let from = 0;
    for (;;) {
      const at = body.indexOf(needle, from);
      if (at < 0) break;
      from = at + needle.length;
      const before = at === 0 ? '' : body[at - 1];
      const after = body[at + needle.length] ?? '';
      // Starts a word, ends at a boundary (space, punctuation, end), not inside a longer mention.
      if (before && !/[\s(（,，:：;；]/.test(before)) continue;
      if (after && /[\p{L}\p{N}_.@-]/u.test(after) && !/[\p{Script=Han}]/u.test(after)) continue;
      if (taken.has(at)) continue;
      taken.add(at);
      found.push({ id: p.id, at });
      break;
    }
  }
  const out: string[] = [];
  for (const f of found.sort((a, b) => a.at - b.at)) if (!out.includes(f.id)) out.push(f.id);
  return out;
}

/** Merges people lists by id, the first name for an id winning; sorted by name. */
export function mergePeople(...lists: Person[][]): Person[] {
  const byId = new Map<string, Person>();
  for (const list of lists) for (const p of list) if (p.name && !byId.has(p.id)) byId.set(p.id, p);
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// Pure helpers of the search UI (unit-tested).

/** The results page for `q`. */
export function searchPath(q: string): string {
  return `/search?q=${encodeURIComponent(q.trim())}`;
}

/** Does this key press ask for the search box: "/" outside a text field, or Ctrl+K / ⌘K? */
export function isFocusShortcut(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>, active: Element | null): boolean {
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') return true;
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return false;
  const tag = active?.tagName;
  const editable = tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (active as HTMLElement | null)?.isContentEditable === true;
  return !editable;
}

/** Where a hit leads: a record's page; a message's record, on its timeline. */
export function hitPath(hit: { kind: string; type: string; id: string; record?: { type: string; id: string } | null }): string | undefined {
  if (hit.kind === 'record') return `/r/${hit.type}/${hit.id}`;
  if (hit.record) return `/r/${hit.record.type}/${hit.record.id}?tab=timeline`;
  return undefined;
}

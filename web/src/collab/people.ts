// People one may @-mention. Administrators list principals; members read the org chart
// (every unit's members; `/org/units` is open to members, not guests). Guests have no
// directory: they can mention the people already in the thread whose names they know.
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { useSession } from '../auth/session';
import { mergePeople, type Person } from './mentions';

let cache: Promise<Person[]> | null = null;
let cacheKey = '';

async function loadDirectory(isAdmin: boolean, isGuest: boolean): Promise<Person[]> {
  if (isGuest) return [];
  if (isAdmin) {
    const { data } = await api.GET('/api/v1/admin/principals', { params: { query: { status: 'active' } } });
    return (data?.items ?? []).filter((p) => p.kind !== 'service').map((p) => ({ id: p.id, name: p.display_name }));
  }
  const { data } = await api.GET('/api/v1/org/units');
  const ids: string[] = [];
  const walk = (nodes: { id: string; children?: unknown[] }[]) => {
    for (const n of nodes) {
      ids.push(n.id);
      walk((n.children ?? []) as { id: string; children?: unknown[] }[]);
    }
  };
  walk((data?.items ?? []) as { id: string; children?: unknown[] }[]);
  // A bounded walk: enough for a company's chart, not a crawl.
  const details = await Promise.all(
    ids.slice(0, 100).map((id) => api.GET('/api/v1/org/units/{id}', { params: { path: { id } } }).then(({ data: d }) => d)),
  );
  return details.flatMap((d) =>
    (d?.members ?? []).filter((m) => m.status !== 'disabled' && m.display_name).map((m) => ({ id: m.principal, name: m.display_name as string })),
  );
}

/** The mentionable directory (loaded once per session), plus oneself. */
export function usePeople(): Person[] {
  const { principal, isAdmin, isGuest } = useSession();
  const [people, setPeople] = useState<Person[]>([]);
  useEffect(() => {
    if (!principal) return;
    const key = `${principal.id}/${isAdmin}/${isGuest}`;
    if (!cache || cacheKey !== key) {
      cacheKey = key;
      cache = loadDirectory(isAdmin, isGuest).catch(() => []);
    }
    let live = true;
    void cache.then((list) => live && setPeople(mergePeople(list, [{ id: principal.id, name: principal.display_name }])));
    return () => {
      live = false;
    };
  }, [principal, isAdmin, isGuest]);
  return people;
}

// Principals and org units by name. Names need reads not everyone has: administrators
// read principals, members read the org chart; everyone else sees a short id.
import { Typography } from 'antd';
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { useSession } from '../auth/session';

const names = new Map<string, Promise<string | null>>();
const known = new Map<string, string>();

function cached(key: string, load: () => Promise<string | null>): Promise<string | null> {
  let p = names.get(key);
  if (!p) {
    p = load()
      .then((name) => {
        if (name) known.set(key, name);
        return name;
      })
      .catch(() => null);
    names.set(key, p);
  }
  return p;
}

function useName(key: string, allowed: boolean, load: () => Promise<string | null>): string | null {
  const [name, setName] = useState<string | null>(() => known.get(key) ?? null);
  useEffect(() => {
    let live = true;
    if (allowed && !known.has(key)) void cached(key, load).then((n) => live && setName(n));
    return () => {
      live = false;
    };
    // `load` is rebuilt each render; the key says what it loads, so it is not a dependency.
  }, [key, allowed]);
  return name;
}

function ShortId({ id }: { id: string }) {
  return (
    <Typography.Text code title={id}>
      {id.slice(0, 8)}
    </Typography.Text>
  );
}

export function PrincipalName({ id }: { id: string }) {
  const { principal, isAdmin } = useSession();
  const own = principal?.id === id ? principal.display_name : null;
  const name = useName(`principal/${id}`, isAdmin && !own, () =>
    api
      .GET('/api/v1/admin/principals/{id}', { params: { path: { id } } })
      .then(({ data }) => data?.display_name ?? null),
  );
  const text = own ?? name;
  return text ? <span title={id}>{text}</span> : <ShortId id={id} />;
}

export function UnitName({ id }: { id: string }) {
  const { isGuest } = useSession();
  const name = useName(`unit/${id}`, !isGuest, () =>
    api.GET('/api/v1/org/units/{id}', { params: { path: { id } } }).then(({ data }) => data?.name ?? null),
  );
  return name ? <span title={id}>{name}</span> : <ShortId id={id} />;
}

import { useCallback, useEffect, useState } from 'react';
import { api, type Schemas } from '../api/client';
import { useLive } from '../live/useLive';

export type InboxCounts = Schemas['InboxCounts'];

/** `/inbox/counts`, refetched on every live `inbox` event (and on resync). */
export function useInboxCounts(): InboxCounts | null {
  const [counts, setCounts] = useState<InboxCounts | null>(null);
  const load = useCallback(async () => {
    const { data } = await api.GET('/api/v1/inbox/counts');
    if (data) setCounts(data);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  useLive('inbox', () => void load());
  return counts;
}

import { useEffect, useRef } from 'react';
import { live, type LiveSignal } from './client';

/** Calls `onSignal` for every event on `topic` (and on `resync`) while mounted. */
export function useLive(topic: string | null, onSignal: (s: LiveSignal) => void) {
  const ref = useRef(onSignal);
  ref.current = onSignal;
  useEffect(() => {
    if (!topic) return;
    return live().subscribe(topic, (s) => ref.current(s));
  }, [topic]);
}

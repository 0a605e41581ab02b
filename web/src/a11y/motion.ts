// Whether the user asked the system for less motion (`prefers-reduced-motion: reduce`).
// The app then turns Ant Design's animations off: dialogs, menus and messages appear and
// go at once (WCAG 2.3.3), and nothing moves under a pointer while it clicks.
import { useEffect, useState } from 'react';

const QUERY = '(prefers-reduced-motion: reduce)';

function reduced(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia(QUERY).matches;
}

export function usePrefersReducedMotion(): boolean {
  const [value, setValue] = useState(reduced);
  useEffect(() => {
    if (typeof window.matchMedia !== 'function') return;
    const media = window.matchMedia(QUERY);
    const changed = () => setValue(media.matches);
    media.addEventListener('change', changed);
    return () => media.removeEventListener('change', changed);
  }, []);
  return value;
}

import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, setCsrfToken, type Principal } from '../api/client';
import { onSignedOutElsewhere, stopLive } from '../live/client';

export interface SessionState {
  /** undefined while the first check runs; null when signed out. */
  principal: Principal | null | undefined;
  isGuest: boolean;
  isAdmin: boolean;
  signedIn: (principal: Principal, csrf: string) => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [principal, setPrincipal] = useState<Principal | null | undefined>(undefined);

  useEffect(() => {
    void api.GET('/api/v1/auth/session').then(({ data }) => {
      setCsrfToken(data?.csrf_token);
      setPrincipal(data?.principal ?? null);
    }, () => setPrincipal(null));
  }, []);

  // Signed out elsewhere (session ended from another device, by an administrator, or the
  // account disabled): the live connection says so, and the app returns to sign-in.
  useEffect(() => {
    onSignedOutElsewhere(() => {
      stopLive();
      setCsrfToken(null);
      setPrincipal(null);
    });
    return () => onSignedOutElsewhere(null);
  }, []);

  const signedIn = useCallback((p: Principal, csrf: string) => {
    setCsrfToken(csrf);
    setPrincipal(p);
  }, []);

  const signOut = useCallback(async () => {
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    stopLive();
    setCsrfToken(null);
    setPrincipal(null);
  }, []);

  const isGuest = principal?.kind === 'guest';
  // The built-in `admin` role; the server checks every admin request on its own.
  const isAdmin = !isGuest && !!principal?.roles.includes('admin');
  return (
    <SessionContext.Provider value={{ principal, isGuest, isAdmin, signedIn, signOut }}>{children}</SessionContext.Provider>
  );
}

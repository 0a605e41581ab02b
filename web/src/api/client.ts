// The one HTTP client: openapi-fetch over the types generated from `web/openapi.json`
// (`npm run gen:api`), so a request or answer the server no longer has fails `tsc`.
// Browser sessions authenticate by the HttpOnly `weft_session` cookie; changes send the
// session's CSRF token as `X-CSRF-Token`.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type Principal = Schemas['PrincipalView'];
export type SessionInfo = Schemas['SessionInfo'];
export type LoginResponse = Schemas['LoginResponse'];
export type TimelineEntry = Schemas['TimelineEntry'];
/** A record as the API writes it: system keys plus the type's fields. */
export type RecordJson = Record<string, unknown> & { id: string; version: number; state?: string | null };

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null | undefined) {
  csrfToken = token ?? null;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrfToken) {
      request.headers.set('X-CSRF-Token', csrfToken);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** A problem document from any error answer (or a stand-in for a network failure). */
export function asProblem(error: unknown, status?: number): Problem {
  if (error && typeof error === 'object' && 'code' in error && 'status' in error) return error as Problem;
  return {
    type: 'about:blank',
    title: 'error',
    status: status ?? 0,
    code: 'internal',
    detail: typeof error === 'string' ? error : 'network error',
  } as Problem;
}

/** `"3"` or `W/"3"` → 3. */
export function versionOf(etag: string | null): number | undefined {
  if (!etag) return undefined;
  const n = Number(etag.replace(/^W\//, '').replaceAll('"', ''));
  return Number.isFinite(n) ? n : undefined;
}

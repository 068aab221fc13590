import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * Reads `IAM_CORS_ORIGINS`: the browser origins (RFC 6454 serializations, `https://app.example.com`,
 * `http://localhost:3000`) whose scripts may call the API. Comma-separated, compared exactly; unset or
 * empty: none. Throws on an entry that is not an http(s) origin as a browser sends it (no path, no trailing
 * slash, no wildcard, default port omitted), because such an entry could never match and would fail silently.
 */
export function parseCorsOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    let origin: string | undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      origin = undefined;
    }
    if (origin !== value)
      throw new Error(
        `IAM_CORS_ORIGINS: "${value}" is not an origin as browsers send it (scheme://host[:port], http or https, no path or trailing slash${origin ? `; did you mean "${origin}"?` : ''})`,
      );
    return value;
  });
}

/** Request headers a browser script may send to the API (beyond the CORS-safelisted ones). */
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'X-Request-ID',
];
/** Response headers a browser script may read (beyond the safelisted Cache-Control, Content-Type, ...). */
const EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'WWW-Authenticate',
  'Allow',
  'Idempotent-Replayed',
  'Arbor-Position',
  'X-Request-ID',
];
/** How long (seconds) a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE = 600;

/**
 * CORS (Fetch standard) for `/api/v1`: requests from one of `origins` get `Access-Control-Allow-Origin`
 * naming that origin, every response `Vary: Origin` (it depends on the Origin header), and a preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) 204 with the allowed methods and headers. Requests from
 * other origins get no CORS headers, so browsers withhold the answer. No credentials mode: the API takes
 * bearer tokens, never cookies. `undefined` when no origin is configured: nothing to do, nothing to pay.
 */
export function apiCors(origins: readonly string[]): RequestHandler | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: [...origins],
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE,
    // Every OPTIONS then reaches the routes, which answer 204 with `Allow` on a path that exists and 404
    // elsewhere (cors alone would answer 204 to any path).
    preflightContinue: true,
  });
}

/**
 * CORS for public documents (discovery metadata, JWKS): any origin may read them (`*`), as RFC 8414 and
 * OpenID Connect clients in browsers need; they carry no credentials, so `*` gives nothing away.
 */
export const publicCors: RequestHandler = cors({ origin: '*', methods: ['GET', 'HEAD'], maxAge: PREFLIGHT_MAX_AGE });

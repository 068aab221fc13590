import { randomUUID } from 'node:crypto';
import type { RequestOrigin } from '@arbor/application';
import type { Request } from 'express';

/** A request id a caller may choose (`X-Request-ID`): 1-200 visible ASCII characters. */
export const WELL_FORMED_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** The longest `User-Agent` recorded, in UTF-16 code units; longer ones are cut there. */
export const MAX_USER_AGENT = 500;

/**
 * What a write's events record of its request (issue 14, complete audit data): the caller's `X-Request-ID` when
 * well-formed, else a generated UUID; the client's address as express resolves it under `trust proxy`
 * (IAM_TRUSTED_PROXIES, see parseTrustedProxies: the socket's peer unless a trusted proxy names the client); the
 * `User-Agent`, cut at MAX_USER_AGENT. Never the `Authorization` header: the command service records the token's
 * identifiers from the principal it verified.
 */
export function requestOriginOf(raw: Pick<Request, 'headers' | 'ip'>): RequestOrigin {
  const given = raw.headers['x-request-id'];
  const origin: RequestOrigin = {
    requestId: typeof given === 'string' && WELL_FORMED_REQUEST_ID.test(given) ? given : randomUUID(),
  };
  if (typeof raw.ip === 'string' && raw.ip !== '') origin.sourceAddress = raw.ip;
  const userAgent = raw.headers['user-agent'];
  if (typeof userAgent === 'string' && userAgent !== '') origin.userAgent = userAgent.slice(0, MAX_USER_AGENT);
  return origin;
}

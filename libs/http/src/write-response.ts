import type { ServerResponse } from 'node:http';
import type { HttpProblem } from './http-problem';
import { PROBLEM_CONTENT_TYPE, problemBody } from './http-problem';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Encoded JSON of frozen bodies, by identity. A body frozen all the way down (a cached read: see
 * `VersionedCache` and `deepFreeze`) cannot change, so it is encoded once however many responses carry it;
 * the entry goes with the object. Invariant relied on: nothing hands out a body that is frozen at the top
 * but mutable inside.
 */
const frozenJson = new WeakMap<object, Buffer>();

/** The JSON bytes of a body as `writeResponse` sends them (encoded once per frozen body). */
export const jsonOf = (body: unknown): string | Buffer => {
  if (typeof body !== 'object' || body === null || !Object.isFrozen(body)) return JSON.stringify(body);
  let encoded = frozenJson.get(body);
  if (encoded === undefined) frozenJson.set(body, (encoded = Buffer.from(JSON.stringify(body))));
  return encoded;
};

/**
 * Writes a response straight to Node's response object: no ETag hashing or content sniffing as `res.send`
 * would do, and the body is serialized exactly once (once per frozen body, see `frozenJson`).
 */
export const writeResponse = (
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType: string | undefined,
  headers: Record<string, string> | undefined,
): void => {
  res.statusCode = status;
  if (headers !== undefined) for (const name of Object.keys(headers)) res.setHeader(name, headers[name]);
  if (body === undefined || !mayHaveBody(status)) {
    res.end();
    return;
  }
  const type = contentType === undefined ? JSON_CONTENT_TYPE : withJsonCharset(contentType);
  const payload = isJsonType(type) || !(typeof body === 'string' || Buffer.isBuffer(body)) ? jsonOf(body) : body;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
  res.end(payload);
};

export const sendProblem = (res: ServerResponse, problem: HttpProblem): void =>
  writeResponse(res, problem.status, problemBody(problem), PROBLEM_CONTENT_TYPE, problem.headers);

/** RFC 9110: 1xx, 204 and 304 responses never carry content. */
export const mayHaveBody = (status: number): boolean => status >= 200 && status !== 204 && status !== 304;

/** `application/json` and any `+json` structured suffix (`application/problem+json`), ignoring parameters. */
export const isJsonType = (contentType: string): boolean => {
  const semi = contentType.indexOf(';');
  const media = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return media === 'application/json' || media.endsWith('+json');
};

const withJsonCharset = (contentType: string): string =>
  contentType === 'application/json' ? JSON_CONTENT_TYPE : contentType;

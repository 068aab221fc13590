import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where another Arbor process's internal API answers: the command service's, or the embedded writer's. */
export interface InternalTarget {
  /** Its base URL (`http://command-service:8081`); only the host and port are used when `socketPath` is set. */
  baseUrl: string | URL;
  /** A Unix domain socket to reach it through instead of the URL's host and port (the embedded writer's). */
  socketPath?: string;
  /** Sent as `x-arbor-internal-token` (IAM_INTERNAL_TOKEN, or the writer's random one); none when absent. */
  token?: string;
  /** Kept-alive connections to reuse; Node's global agent when absent. */
  agent?: HttpAgent;
}

/** An internal API's answer: its status and its body as UTF-8 text. */
export interface InternalAnswer {
  status: number;
  text: string;
}

/**
 * One request to an internal API (`/internal/v1/...`), with plain node:http: every write of the distributed
 * profile and of the embedded workers passes here, and fetch's streams and abort signals cost more CPU than the rest
 * of the request. `body` is JSON text (sent with its content type and length). Resolves with any status; rejects on
 * a connection error, or when no byte came for `timeoutMs` (ms).
 */
export function internalCall(
  target: InternalTarget,
  call: { method: 'GET' | 'POST'; path: string; body?: string; timeoutMs: number },
): Promise<InternalAnswer> {
  const url = new URL(call.path, target.baseUrl);
  const headers: Record<string, string | number> = {};
  if (call.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(call.body);
  }
  if (target.token) headers['x-arbor-internal-token'] = target.token;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const options = { method: call.method, agent: target.agent, headers, socketPath: target.socketPath };
    const req = send(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // No byte for this long ends the exchange: a stuck process must not hold the caller forever.
    req.setTimeout(call.timeoutMs, () =>
      req.destroy(new Error(`${url.pathname}: no answer within ${call.timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

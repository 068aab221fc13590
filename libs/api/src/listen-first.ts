import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProblem, PROBLEM_CONTENT_TYPE, oauthErrorBody, problemBody } from '@arbor/http';
import { createPublicServer } from './public-server';

/** A port bound before start-up runs; `serve` hands it the finished app. */
export interface BoundPort {
  server: Server;
  /** The port actually bound (the OS picks one for port 0). */
  port: number;
  /** Replaces the start-up answers with `app` (an express app or any Node request listener). */
  serve(app: RequestListener): void;
  /** Closes gracefully (PublicServer.close): requests in flight and connections accepted are answered first. */
  close(graceMs?: number): Promise<void>;
}

/** Until `serve`: the client may retry shortly (RFC 9110 section 10.2.3, seconds). */
const STARTING_RETRY_AFTER_SECONDS = '1';

/**
 * Binds `port` on `host` first, so that a port in use (EADDRINUSE) fails start-up before it does anything
 * that cannot be repeated: above all before the bootstrap admin is created and its generated password
 * printed (shown once: a start that printed it and then failed to bind would lose it for good).
 *
 * Until `serve` is called the server answers start-up answers: `GET /healthz` 200 (the process is up, so a
 * liveness probe does not kill a slow start), anything else 503 with `Retry-After: 1`, as an RFC 6749
 * `temporarily_unavailable` error on the OAuth endpoints (`/api/v1/auth/tokens...`) and an RFC 9457 problem
 * (code IAM_ERR_UNAVAILABLE) elsewhere. Rejects with the listen error (e.g. `code: 'EADDRINUSE'`).
 */
export async function listenFirst(port: number, host: string): Promise<BoundPort> {
  let handler: RequestListener = answerStarting;
  const { server, close } = createPublicServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException) => {
      // The operator's next step, in the message the start's failure prints (the code stays for callers).
      if (e.code === 'EADDRINUSE')
        e.message += `: another process listens on port ${port}; stop it, or choose a free port (PORT for the embedded server and the gateway, COMMAND_SERVICE_PORT for a command service)`;
      if (e.code === 'EACCES' && port < 1024)
        e.message += `: ports below 1024 need privileges; choose a port from 1024 up (PORT)`;
      reject(e);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    serve: (app) => {
      handler = app;
    },
    close,
  };
}

function answerStarting(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  // The request body is not read: drop the connection after answering rather than parse what nobody uses.
  res.setHeader('Connection', 'close');
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ status: 'ok' }));
    return;
  }
  const detail = 'The server is starting; retry shortly.';
  const headers = { 'Retry-After': STARTING_RETRY_AFTER_SECONDS, 'Cache-Control': 'no-store' };
  if (path.startsWith('/api/v1/auth/tokens')) {
    res
      .writeHead(503, { ...headers, 'content-type': 'application/json; charset=utf-8' })
      .end(JSON.stringify(oauthErrorBody('temporarily_unavailable', detail)));
    return;
  }
  const problem = new HttpProblem(503, 'IAM_ERR_UNAVAILABLE', 'Service unavailable', detail);
  res.writeHead(503, { ...headers, 'content-type': PROBLEM_CONTENT_TYPE }).end(JSON.stringify(problemBody(problem)));
}

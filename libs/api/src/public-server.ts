import { createServer, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/** net.Server's close: stops accepting and leaves connections open (http.Server's also destroys the idle ones). */
const netClose = NetServer.prototype.close;

/**
 * Options of every public HTTP server (the embedded server, its HTTP workers, gateways, command services). The
 * request line and headers may take 32 KiB (Node's default is 16): a list cursor can be 2,048 characters (a page
 * ending on a 200-character name of 4-byte characters), and a request must not fail on its own URL with a 431.
 */
export const PUBLIC_SERVER_OPTIONS: ServerOptions = { maxHeaderSize: 32 * 1024 };

/** How long (ms) a connection accepted before a graceful close has to send its first request. */
export const FIRST_REQUEST_GRACE_MS = 1_000;

/** How long (ms) a graceful close lets requests in flight run before it ends their connections anyway. */
export const DEFAULT_GRACE_MS = 10_000;

/** An HTTP server whose close lets every connection it accepted be answered (see `createPublicServer`). */
export interface PublicServer {
  server: Server;
  /**
   * Stops accepting, answers what its connections send meanwhile (each response then says `Connection: close`),
   * and resolves once every connection is closed: at the latest after `graceMs` (default DEFAULT_GRACE_MS),
   * when those left are destroyed. Idempotent (later calls share the first one's promise).
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * An HTTP server (PUBLIC_SERVER_OPTIONS) for `listener`, with a graceful close. Node's `server.close()` stops
 * accepting and destroys keep-alive connections idle between requests at once (a request already on its way on one
 * meets a reset), answers later requests with keep-alive, keeps open a connection whose response ends after the
 * close (until the client or keep-alive timeout ends it), and waits without bound for a connection that never sends
 * a request (its request timeout stops with the close). Here, at close (net.Server's own close: it stops accepting
 * and leaves every connection to the rules below):
 * - a connection with a response under way is answered, and closed after it;
 * - a connection idle, before its first request or between two (keep-alive), has FIRST_REQUEST_GRACE_MS to send
 *   one, which is answered; then it is closed;
 * - every response from then on says `Connection: close`; what is left after `graceMs` is destroyed.
 * (http-terminator and stoppable end a connection without a request in progress at once, as Node does: a client
 * whose request was on its way sees a reset it cannot tell from a failure after its request ran.)
 */
export function createPublicServer(listener: RequestListener): PublicServer {
  let closing: Promise<void> | undefined;
  const sockets = new Set<Socket>();
  /** Each connection's latest response: unfinished while a request is handled. */
  const latest = new WeakMap<Socket, ServerResponse>();
  const server = createServer(PUBLIC_SERVER_OPTIONS, (req, res) => {
    latest.set(req.socket, res);
    if (closing) res.setHeader('Connection', 'close');
    listener(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const close = (graceMs = DEFAULT_GRACE_MS): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const drained = () => {
        for (const timer of timers) clearTimeout(timer);
        // (http.Server's own close would also stop its timer that checks connections for request timeouts; that
        // timer is unref'd and harmless, and a second close would emit 'close' twice.)
        resolve();
      };
      // net.Server's close, not http.Server's (which also destroys the idle keep-alive connections at once): stops
      // accepting, calls back once every connection is closed. Each is settled here.
      netClose.call(server, drained);
      for (const socket of sockets) {
        if (socket.destroyed) continue;
        const res = latest.get(socket);
        if (res && !res.writableFinished) {
          if (!res.headersSent) res.setHeader('Connection', 'close');
          else res.once('finish', () => socket.destroySoon());
        } else
          timers.push(
            // Idle: closed unless a request came meanwhile (answered with `Connection: close`, Node then closes it).
            setTimeout(() => {
              if (latest.get(socket) === res) socket.destroy();
            }, FIRST_REQUEST_GRACE_MS),
          );
      }
      timers.push(
        setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, graceMs),
      );
    }));
  return { server, close };
}

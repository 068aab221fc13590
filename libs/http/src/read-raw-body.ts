import type { IncomingMessage } from 'node:http';
import { payloadTooLargeProblem, validationProblem } from './request-problems';

/**
 * Buffers a request body of at most `limit` bytes. Past the limit it stops buffering and rejects at once,
 * but keeps the stream flowing so the rest is discarded: the client still gets its 413 on a keep-alive
 * connection instead of a reset.
 */
export const readRawBody = (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const whole = bufferedBody(req, limit);
  if (whole !== undefined) return Promise.resolve(whole);
  if (!mayStillBeInThisPacket(req, limit)) return streamedBody(req, limit);
  return new Promise<void>((resolve) => setImmediate(resolve)).then(
    () => bufferedBody(req, limit) ?? streamedBody(req, limit),
  );
};

/**
 * Whether the body may be complete after one turn of the event loop. Node's HTTP server feeds a socket straight
 * to its native parser, which calls back into JavaScript per event (headers, body, message end) and lets promise
 * jobs run between them: a route that awaits anything before reading its body therefore finds a small body that
 * arrived in its headers' packet not yet pushed, though it will be before the next `setImmediate`. Waiting that
 * turn and then taking the body with `read()` costs less than the four listeners, the flowing mode and the ticks
 * of streaming it (about a tenth of an AuthZEN evaluation's server time: README, "Access decisions"). A body
 * that has not all arrived by then (a slow client, or one larger than what came with the headers) is streamed
 * after that turn; a chunked body, one declared beyond the limit, or one already flowing is streamed at once.
 */
const mayStillBeInThisPacket = (req: IncomingMessage, limit: number): boolean => {
  if (req.complete || req.readableFlowing === true || req.readableEncoding !== null) return false;
  const declared = Number(req.headers['content-length']);
  return declared > 0 && declared <= limit;
};

/**
 * The whole body at once when the HTTP parser has already received all of it (`complete`: its end is pushed
 * too) and it sits unread in the stream's buffer, within `limit`: a small body usually arrives in the packet of
 * its headers, before the route asks for it. Taking it with `read()` costs no listeners and no ticks; the
 * stream then ends as it would have. Otherwise undefined, and the body is streamed.
 */
const bufferedBody = (req: IncomingMessage, limit: number): Buffer | undefined => {
  if (!req.complete || req.readableFlowing === true || req.readableEncoding !== null) return undefined;
  if (req.readableLength > limit || req.readableEnded) return undefined;
  const chunk = req.read() as Buffer | null;
  return chunk ?? Buffer.alloc(0);
};

const streamedBody = (req: IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise<Buffer>((resolve, reject) => {
    // Gone before the listeners below exist (during the turn readRawBody waited, or while the route awaited
    // something before asking): `close` has fired already, and the promise must still settle.
    if (req.destroyed || req.readableAborted) {
      reject(validationProblem('The request body was not received completely.'));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        chunks.length = 0;
        req.resume();
        reject(payloadTooLargeProblem(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    };
    // `close` before `end` means the client went away; nobody will read the answer, but the promise must settle.
    const onAbort = (): void => {
      cleanup();
      reject(validationProblem('The request body was not received completely.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });

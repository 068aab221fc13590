import type { IncomingMessage } from 'node:http';
import { payloadTooLargeProblem, validationProblem } from './request-problems';

/**
 * Buffers a request body of at most `limit` bytes. Past the limit it stops buffering and rejects at once,
 * but keeps the stream flowing so the rest is discarded: the client still gets its 413 on a keep-alive
 * connection instead of a reset.
 */
export const readRawBody = (req: IncomingMessage, limit: number): Promise<Buffer> => {
  const whole = bufferedBody(req, limit);
  return whole !== undefined ? Promise.resolve(whole) : streamedBody(req, limit);
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

import type { IncomingMessage } from 'node:http';
import { payloadTooLargeProblem, validationProblem } from './request-problems';

/**
 * Buffers a request body of at most `limit` bytes. Past the limit it stops buffering and rejects at once,
 * but keeps the stream flowing so the rest is discarded: the client still gets its 413 on a keep-alive
 * connection instead of a reset.
 */
export const readRawBody = (req: IncomingMessage, limit: number): Promise<Buffer> =>
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

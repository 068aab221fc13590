import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import type { HttpProblem } from './http-problem';
import { payloadTooLargeProblem, unsupportedMediaTypeProblem, validationProblem } from './request-problems';
import type { HttpLog, MapError } from './to-problem';
import { logServerFault, stderrLog, toProblem } from './to-problem';
import { sendProblem } from './write-response';

/**
 * The last Express error middleware: whatever reached it (an app-wide body parser's error, a parameter that
 * failed to URL-decode, a middleware bug) leaves as a problem. Routes bound by `bindRoutes` handle their own
 * errors; this catches what happens outside them.
 */
export const errorHandler =
  (mapError: MapError, log: HttpLog = stderrLog): ErrorRequestHandler =>
  (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const problem = expressProblem(err) ?? toProblem(err, mapError);
    logServerFault(log, problem, err, { method: req.method });
    if (res.headersSent) {
      // Express's default handler then cuts the connection, the only honest signal left.
      next(err);
      return;
    }
    sendProblem(res, problem);
  };

/**
 * Errors raised by body-parser and Express itself: they carry a `type` and/or a 4xx `status` (Express's own
 * convention for "the client's fault"; the router's URL-decoding failure sets only `status`).
 */
const expressProblem = (err: unknown): HttpProblem | undefined => {
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status, limit } = err as { type?: unknown; status?: unknown; limit?: unknown };
  switch (type) {
    case 'entity.too.large':
      return payloadTooLargeProblem(typeof limit === 'number' ? limit : undefined);
    case 'entity.parse.failed':
      return validationProblem('The request body is malformed.', [{ path: '/body', message: 'is malformed' }]);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return unsupportedMediaTypeProblem('The request body encoding is not supported.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'parameters.too.many':
      return validationProblem('The request body could not be read.');
  }
  if (status === 400) return validationProblem('The request could not be understood.');
  if (status === 413) return payloadTooLargeProblem(typeof limit === 'number' ? limit : undefined);
  if (status === 415) return unsupportedMediaTypeProblem('The request body media type is not supported.');
  return undefined;
};

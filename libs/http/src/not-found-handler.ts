import type { Request, RequestHandler, Response } from 'express';
import { notFoundProblem } from './request-problems';
import { sendProblem } from './write-response';

/** Mount after the routes: answers every unmatched request under the mount point with a 404 problem. */
export const notFoundHandler = (): RequestHandler => (_req: Request, res: Response) => {
  sendProblem(res, notFoundProblem());
};

import express, { type Router } from 'express';
import { IamError, isIamError, type IamErrorCode } from '@arbor/domain';
import type { Command, CommandContext, CommandOutcome, Logger } from '@arbor/application';
import type { CommandPort } from './api-context';

/**
 * The command service's internal API in the distributed profile: gateways send commands here instead of
 * running them in-process. Commands can carry passwords and client secrets, so this API listens on a
 * private address, never logs bodies, and (when IAM_INTERNAL_TOKEN is set) requires that shared token.
 */
export function internalCommandRouter(commands: CommandPort, options: { token?: string; log: Logger }): Router {
  const router = express.Router();
  router.post('/internal/v1/commands', express.json({ limit: '256kb' }), async (req, res) => {
    if (options.token && req.headers['x-arbor-internal-token'] !== options.token) {
      res.status(401).json({ code: 'IAM_ERR_UNAUTHENTICATED', message: 'Internal token required.' });
      return;
    }
    const { command, context } = req.body as { command: Command; context: CommandContext };
    try {
      const outcome = await commands.execute(command, context);
      res.status(200).json(outcome);
    } catch (e) {
      if (isIamError(e)) {
        res.status(422).json({ code: e.code, message: e.message, errors: e.errors });
        return;
      }
      const code = (e as { code?: unknown } | null)?.code;
      options.log.error('command failed', { type: command?.type, error: e instanceof Error ? e.message : String(e) });
      res.status(503).json({ code: 'IAM_ERR_UNAVAILABLE', message: 'The command could not be executed.', cause: typeof code === 'string' ? code : undefined });
    }
  });
  return router;
}

/** The gateway's side: a CommandPort that calls a command service over HTTP. */
export class HttpCommandPort implements CommandPort {
  constructor(private readonly options: { baseUrl: string; token?: string; timeoutMs?: number }) {}

  async execute(command: Command, context: CommandContext): Promise<CommandOutcome> {
    let res: Response;
    try {
      res = await fetch(`${this.options.baseUrl}/internal/v1/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.token ? { 'x-arbor-internal-token': this.options.token } : {}) },
        body: JSON.stringify({ command, context }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch {
      throw new IamError('IAM_ERR_UNAVAILABLE', 'The command service is unreachable; retry shortly.');
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 200) return body as unknown as CommandOutcome;
    if (res.status === 422 && typeof body.code === 'string')
      throw new IamError(body.code as IamErrorCode, String(body.message), body.errors as IamError['errors']);
    throw new IamError('IAM_ERR_UNAVAILABLE', 'The command service could not execute the command; retry shortly.');
  }
}

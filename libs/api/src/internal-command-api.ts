import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  // A body the JSON parser refuses ends here. Its error quotes the body, which may hold a password: express's
  // default handler would print it to stderr and echo it back, so this answers without either.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ code: status === 413 ? 'IAM_ERR_PAYLOAD_TOO_LARGE' : 'IAM_ERR_VALIDATION', message: 'The command is not a JSON document this API accepts.' });
      return;
    }
    options.log.error('internal command request failed', { error: err instanceof Error ? err.name : typeof err });
    res.status(500).json({ code: 'IAM_ERR_INTERNAL', message: 'The command could not be read.' });
  });
  return router;
}

/** Keep-alive connections idle this long are closed by the gateway; the command service waits longer. */
export const IDLE_CONNECTION_MS = 30_000;

/**
 * The gateway's side: a CommandPort that calls a command service over HTTP. Plain node:http on kept-alive
 * connections rather than fetch: every write of the distributed profile passes here, and fetch's streams and
 * abort signals cost the gateway more CPU than the rest of the request.
 */
export class HttpCommandPort implements CommandPort {
  private readonly url: URL;
  private readonly agent: HttpAgent;

  constructor(private readonly options: { baseUrl: string; token?: string; timeoutMs?: number }) {
    this.url = new URL('/internal/v1/commands', options.baseUrl);
    // Idle connections close here (30 s) before the command service closes them (its keep-alive timeout is
    // longer), so a request is never sent on a connection the other side is closing.
    const agentOptions = { keepAlive: true, timeout: IDLE_CONNECTION_MS };
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  async execute(command: Command, context: CommandContext): Promise<CommandOutcome> {
    let res: { status: number; text: string };
    try {
      res = await this.post(JSON.stringify({ command, context }));
    } catch {
      throw new IamError('IAM_ERR_UNAVAILABLE', 'The command service is unreachable; retry shortly.');
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      /* not JSON: handled by status below */
    }
    if (res.status === 200) return body as unknown as CommandOutcome;
    if (res.status === 422 && typeof body.code === 'string')
      throw new IamError(body.code as IamErrorCode, String(body.message), body.errors as IamError['errors']);
    throw new IamError('IAM_ERR_UNAVAILABLE', 'The command service could not execute the command; retry shortly.');
  }

  private post(body: string): Promise<{ status: number; text: string }> {
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (this.options.token) headers['x-arbor-internal-token'] = this.options.token;
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(this.url, { method: 'POST', agent: this.agent, headers }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      // No byte for this long ends the exchange: a stuck command service must not hold the request forever.
      req.setTimeout(this.options.timeoutMs ?? 15_000, () => req.destroy(new Error('command service timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createHash, timingSafeEqual } from 'node:crypto';
import { IamError, isIamError, type IamErrorCode } from '@arbor/domain';
import type { Command, CommandContext, CommandOutcome, Logger, Principal, RequestOrigin } from '@arbor/application';
import { MAX_JSON_DEPTH, jsonStructureFault } from '@arbor/http';
import type { CommandPort } from './api-context';
import { internalCall, type InternalAnswer } from './internal-call';
import { MAX_USER_AGENT, WELL_FORMED_REQUEST_ID } from './request-origin';

/**
 * How deep an internal request may nest: what the public API admits (MAX_JSON_DEPTH for a request body),
 * three levels down, where the internal request carries it (a body's metadata sits at level 3 in `command`,
 * and at level 5 in `idempotency.provisionalResponse.body`, against level 2 in the public request).
 */
export const INTERNAL_MAX_JSON_DEPTH = MAX_JSON_DEPTH + 3;

/** Body-parser `verify`: the public API's structure checks (depth, repeated member names), before parsing. */
const verifyStructure = (_req: unknown, _res: unknown, buf: Buffer): void => {
  const fault = jsonStructureFault(buf.toString('utf8'), INTERNAL_MAX_JSON_DEPTH);
  if (!fault) return;
  const message =
    fault.kind === 'too-deep'
      ? `The command nests deeper than ${INTERNAL_MAX_JSON_DEPTH} levels.`
      : `The command repeats a member name in one object (${fault.pointer}).`;
  throw Object.assign(new Error(message), { status: 400, type: 'arbor.json.structure', safeMessage: message });
};

/**
 * What a gateway sends: the command, the caller's own access token, the idempotency key if any, and the request's
 * origin (its id, the client's address as the gateway's trusted proxies resolve it, its user agent), which the
 * command service records with the events; the token's identifiers it takes from the token it verifies itself.
 */
interface InternalCommandRequest {
  command: Command;
  accessToken: string;
  idempotency?: CommandContext['idempotency'];
  request?: RequestOrigin;
  /** How long the caller waits for the answer (ms, 1 to 600,000): the command is not written later than that. */
  timeoutMs?: number;
}

/**
 * What a command service keeps of a caller's timeout for the answer's way back (ms): a command is written only
 * before `arrival + timeoutMs - DEADLINE_MARGIN_MS` (CommandContext.deadline), so that its caller has not given up.
 */
export const DEADLINE_MARGIN_MS = 1_000;

/**
 * The command service's internal API in the distributed profile: gateways send commands here instead of
 * running them in-process. It trusts nothing a gateway says about who asks: it verifies the caller's access
 * token itself (signature, audience, expiry, revocation, subject still active) and the command service then
 * authorizes the command against its own model, so a gateway that is wrong, or an attacker who reached this
 * port, can do no more than the token's subject may. Commands can carry passwords and client secrets, so
 * this API listens on a private address, never logs bodies, and (when IAM_INTERNAL_TOKEN is set, which is
 * required off loopback) accepts only requests carrying that shared token, compared in constant time.
 */
export function internalCommandRouter(
  commands: CommandPort,
  options: { token?: string; log: Logger; authenticate: (authorization: string) => Promise<Principal> },
): Router {
  const router = express.Router();
  const tokenMatches = internalTokenCheck(options.token);
  /** When each request arrived, before its body was read (the caller's timeout runs from its sending). */
  const arrivals = new WeakMap<Request, number>();
  // The shared token is checked before the body is even read: a caller without it learns nothing more. Logged:
  // a gateway configured with another IAM_INTERNAL_TOKEN is refused on every write, and this line says why.
  // At most one line a minute (with how many were refused since): whoever reaches the port must not flood the log.
  let refused = 0;
  let loggedAt = -Infinity;
  const requireInternalToken = (req: Request, res: Response, next: NextFunction): void => {
    if (!tokenMatches(req.headers['x-arbor-internal-token'])) {
      refused++;
      if (Date.now() - loggedAt >= 60_000) {
        options.log.warn('internal API: refused requests without this service’s IAM_INTERNAL_TOKEN', {
          refused,
          address: req.socket.remoteAddress,
        });
        refused = 0;
        loggedAt = Date.now();
      }
      res.status(401).json({ code: 'IAM_ERR_UNAUTHENTICATED', message: 'Internal token required.' });
      return;
    }
    next();
  };
  router.post(
    '/internal/v1/commands',
    (req, _res, next) => {
      arrivals.set(req, Date.now());
      next();
    },
    requireInternalToken,
    express.json({ limit: '256kb', verify: verifyStructure }),
    async (req, res) => {
      const arrival = arrivals.get(req) ?? Date.now();
      const request = readRequest(req.body);
      if (!request) {
        res.status(422).json({
          code: 'IAM_ERR_VALIDATION',
          message: 'Expected {command: {type, ...}, accessToken, idempotency?, request?, timeoutMs?}.',
        });
        return;
      }
      // Counted from the request's arrival: the two processes' clocks need not agree.
      const deadline = request.timeoutMs === undefined ? undefined : arrival + request.timeoutMs - DEADLINE_MARGIN_MS;
      try {
        const principal = await options.authenticate(`Bearer ${request.accessToken}`);
        const outcome = await commands.execute(request.command, {
          principal,
          idempotency: request.idempotency,
          request: request.request,
          ...(deadline === undefined ? {} : { deadline }),
        });
        res.status(200).json(outcome);
      } catch (e) {
        if (isIamError(e)) {
          res
            .status(422)
            .json({ code: e.code, message: e.message, errors: e.errors, retryAfterSeconds: e.retryAfterSeconds });
          return;
        }
        const code = (e as { code?: unknown } | null)?.code;
        options.log.error('command failed', {
          type: request.command.type,
          error: e instanceof Error ? e.message : String(e),
        });
        res.status(503).json({
          code: 'IAM_ERR_UNAVAILABLE',
          message: 'The command could not be executed.',
          cause: typeof code === 'string' ? code : undefined,
        });
      }
    },
  );
  // A body the JSON parser refuses ends here. Its error quotes the body, which may hold a password: express's
  // default handler would print it to stderr and echo it back, so this answers without either.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: unknown } | null)?.status;
    const safeMessage = (err as { safeMessage?: unknown } | null)?.safeMessage;
    if (status === 400 && typeof safeMessage === 'string') {
      // Our own structure check: its message names no content of the body, only where it broke the rule.
      res.status(400).json({ code: 'IAM_ERR_VALIDATION', message: safeMessage });
      return;
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({
        code: status === 413 ? 'IAM_ERR_PAYLOAD_TOO_LARGE' : 'IAM_ERR_VALIDATION',
        message: 'The command is not a JSON document this API accepts.',
      });
      return;
    }
    options.log.error('internal command request failed', { error: err instanceof Error ? err.name : typeof err });
    res.status(500).json({ code: 'IAM_ERR_INTERNAL', message: 'The command could not be read.' });
  });
  return router;
}

/** The shape only; what the command holds is the deciders' business, who may run it the policy's. */
function readRequest(body: unknown): InternalCommandRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { command, accessToken, idempotency, request } = body as Record<string, unknown>;
  if (typeof command !== 'object' || command === null || typeof (command as { type?: unknown }).type !== 'string')
    return undefined;
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  if (idempotency !== undefined) {
    const i = idempotency as Record<string, unknown> | null;
    if (
      !i ||
      typeof i.key !== 'string' ||
      typeof i.requestHash !== 'string' ||
      typeof i.provisionalResponse !== 'object' ||
      i.provisionalResponse === null
    )
      return undefined;
  }
  if (request !== undefined && !isRequestOrigin(request)) return undefined;
  const { timeoutMs } = body as Record<string, unknown>;
  if (
    timeoutMs !== undefined &&
    (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 1 || (timeoutMs as number) > 600_000)
  )
    return undefined;
  return {
    command: command as Command,
    accessToken,
    idempotency: idempotency as InternalCommandRequest['idempotency'],
    request,
    ...(timeoutMs === undefined ? {} : { timeoutMs: timeoutMs as number }),
  };
}

/** A request origin as `requestOriginOf` builds it: a well-formed id, and short strings. */
function isRequestOrigin(value: unknown): value is RequestOrigin {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { requestId, sourceAddress, userAgent, ...rest } = value as Record<string, unknown>;
  const optional = (v: unknown, max: number) => v === undefined || (typeof v === 'string' && v.length <= max);
  return (
    Object.keys(rest).length === 0 &&
    typeof requestId === 'string' &&
    WELL_FORMED_REQUEST_ID.test(requestId) &&
    optional(sourceAddress, 64) &&
    optional(userAgent, MAX_USER_AGENT)
  );
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameDigest(expected: Buffer, presented: string | string[] | undefined): boolean {
  return typeof presented === 'string' && timingSafeEqual(expected, digest(presented));
}

/**
 * Whether an `X-Arbor-Internal-Token` value is IAM_INTERNAL_TOKEN (`token`; compared in constant time). Without a
 * token configured (loopback only), every value passes.
 */
export function internalTokenCheck(token: string | undefined): (presented: string | string[] | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (presented) => sameDigest(expected, presented);
}

/** Keep-alive connections idle this long are closed by the gateway; the command service waits longer. */
export const IDLE_CONNECTION_MS = 30_000;

/** Errors of a connection never made (refused, no such socket or host): a request that never left. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The gateway's side: a CommandPort that calls a command service over HTTP (internalCall: plain node:http) on
 * kept-alive connections.
 */

export class HttpCommandPort implements CommandPort {
  private readonly agent: HttpAgent;

  /**
   * `baseUrl`: the command service's URL; `socketPath`: a Unix domain socket to reach it through instead of the
   * URL's host and port (the embedded writer's, IAM_WORKERS above 1); `token`: IAM_INTERNAL_TOKEN; `timeoutMs`:
   * how long without a byte before the exchange fails (default 15,000).
   */
  constructor(private readonly options: { baseUrl: string; socketPath?: string; token?: string; timeoutMs?: number }) {
    // Idle connections close here (30 s) before the command service closes them (its keep-alive timeout is
    // longer), so a request is never sent on a connection the other side is closing.
    const agentOptions = { keepAlive: true, timeout: IDLE_CONNECTION_MS };
    this.agent =
      new URL(options.baseUrl).protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  /** How long an exchange may go without a byte (ms), sent along: the command service writes nothing after it. */
  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 15_000;
  }

  async execute(command: Command, context: CommandContext): Promise<CommandOutcome> {
    const { principal } = context;
    if (principal === 'system' || principal.accessToken === undefined)
      throw new Error('The internal command API runs commands only for callers with an access token.');
    const request: InternalCommandRequest = {
      command,
      accessToken: principal.accessToken,
      idempotency: context.idempotency,
      request: context.request,
      timeoutMs: this.timeoutMs,
    };
    let res: { status: number; text: string };
    try {
      res = await this.post(JSON.stringify(request));
    } catch (e) {
      // No connection was made: the request never left, so nothing was applied.
      if (NOT_CONNECTED.has((e as NodeJS.ErrnoException).code ?? ''))
        throw new IamError(
          'IAM_ERR_UNAVAILABLE',
          'The command service is unreachable; the write was not applied. Retry shortly.',
          undefined,
          1,
        );
      // The request may have reached the writer before the exchange broke (it crashed after its commit, say, or is
      // still deciding behind a lock and will commit after this answer): the caller cannot tell from here, and a
      // read now may not show it yet, so only the same Idempotency-Key makes a retry safe.
      throw new IamError(
        'IAM_ERR_UNAVAILABLE',
        'The command service did not answer in time; the write may have been applied, or may still be. Retry with the same Idempotency-Key: without one, a retried write may be applied twice.',
      );
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      /* not JSON: handled by status below */
    }
    if (res.status === 200) return body as unknown as CommandOutcome;
    // Not an outage to wait out: the two sides were given different tokens. A 500 (logged), not a 503's "retry".
    if (res.status === 401)
      throw new Error(
        'The command service refused this gateway’s IAM_INTERNAL_TOKEN: give both the same value (see the README).',
      );
    if (res.status === 422 && typeof body.code === 'string')
      throw new IamError(
        body.code as IamErrorCode,
        String(body.message),
        body.errors as IamError['errors'],
        typeof body.retryAfterSeconds === 'number' ? body.retryAfterSeconds : undefined,
      );
    throw new IamError('IAM_ERR_UNAVAILABLE', 'The command service could not execute the command; retry shortly.');
  }

  private post(body: string): Promise<InternalAnswer> {
    return internalCall(
      {
        baseUrl: this.options.baseUrl,
        socketPath: this.options.socketPath,
        token: this.options.token,
        agent: this.agent,
      },
      { method: 'POST', path: '/internal/v1/commands', body, timeoutMs: this.timeoutMs },
    );
  }
}

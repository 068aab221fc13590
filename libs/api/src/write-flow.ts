import { createHash } from 'node:crypto';
import { IamError, isIamError, type StoredEvent } from '@arbor/domain';
import {
  IDEMPOTENCY_TTL_MS,
  idempotencyScopeOf,
  openStoredBody,
  sealStoredBody,
  type Command,
  type IdempotencyRecord,
  type Principal,
  type StoredResponse,
} from '@arbor/application';
import { HttpProblem, type HandlerRequest, type HandlerResult } from '@arbor/http';
import type { ApiContext } from './api-context';
import { requestOriginOf } from './request-origin';
import { mapError } from './problem-mapping';

export interface WriteOptions {
  /** Where the command's field paths point in the request (default `/body`). */
  fieldPrefix?: string;
  /**
   * For POST routes: honours `Idempotency-Key`; the response a replay can rebuild from (with `represent`) if the
   * first response was never stored.
   */
  provisional?: HandlerResult;
  /** What of the response may be kept for replays: secrets shown once must not be stored. */
  redact?: (result: HandlerResult) => HandlerResult;
  /**
   * Rebuilds the response of a replayed creation whose stored response has no body: not stored yet, or
   * sealed for a subject who has since been erased (see `personalDataOf`).
   */
  represent?: (record: IdempotencyRecord) => Promise<HandlerResult>;
  /**
   * For responses that show one subject's personal data (a member's email and name): that subject's id,
   * given the response as sent (after `redact`) and the command's events. The body kept for replays is then
   * sealed under the subject's own key (sealStoredBody), so that erasing them erases it too; a replay opens
   * it and answers exactly the first body, or, once the subject is erased, what `represent` rebuilds from
   * the read models (required with this option).
   */
  personalDataOf?: (result: HandlerResult, events: StoredEvent[]) => string;
}

/**
 * Runs a command the way every write route must: honour `Idempotency-Key` (every POST route passes
 * `provisional`, which turns it on), execute with the request's origin (its id, address and user agent, which
 * its events record: requestOriginOf), wait until the read models include the write (read-your-writes), then
 * build the response from the read models. `command` may be a function: it then runs only when the request is not
 * a replay, so that a retry is answered from its key before preconditions the first request changed are checked.
 */
export async function executeWrite(
  ctx: ApiContext,
  req: HandlerRequest<unknown, unknown, unknown>,
  principal: Principal,
  command: Command | (() => Promise<Command>),
  respond: (events: StoredEvent[]) => Promise<HandlerResult>,
  options: WriteOptions = {},
): Promise<HandlerResult> {
  if (options.personalDataOf && !options.represent)
    throw new Error('executeWrite: personalDataOf needs represent (the replay of an erased subject).');
  const key = options.provisional ? req.headers['idempotency-key'] : undefined;
  const request = key ? requestText(req) : '';
  const idempotency = key
    ? { scope: idempotencyScopeOf(principal), key, requestHash: await requestHash(ctx, request) }
    : undefined;

  // The id the events record, answered in X-Request-ID (after anything stored for replays: a replay answers its own).
  const origin = requestOriginOf(req.raw);
  if (idempotency) {
    const prior = await ctx.eventStore.findIdempotency(idempotency.scope, idempotency.key);
    if (prior && isFresh(prior))
      return withRequestId(
        await replay(ctx, prior, { keyed: idempotency.requestHash, text: request }, options),
        origin.requestId,
      );
  }

  const outcome = await ctx.commands
    .execute(typeof command === 'function' ? await command() : command, {
      principal,
      request: origin,
      idempotency:
        idempotency && options.provisional
          ? { ...idempotency, provisionalResponse: stored(options.provisional) }
          : undefined,
    })
    .catch((e) => locateIn(options.fieldPrefix ?? '/body', e));
  if (outcome.kind === 'replayed')
    return withRequestId(
      await replay(ctx, outcome.record, { keyed: idempotency!.requestHash, text: request }, options),
      origin.requestId,
    );

  await ctx.projection.waitFor(outcome.position).catch((e: unknown) => {
    // Stored, not yet visible (a 503 with Retry-After): its position still goes back, so that the caller can ask
    // for it (`min_position`, contract section 9) or find its events, as after a 200. Anything else goes on as it
    // is (an unexpected error keeps its message and stack for the log).
    if (!isIamError(e) || e.code !== 'IAM_ERR_UNAVAILABLE') throw e;
    const problem = mapError(e);
    throw new HttpProblem(problem.status, problem.code, problem.title, problem.detail, problem.errors, {
      ...problem.headers,
      'Arbor-Position': String(outcome.position),
      'X-Request-ID': origin.requestId,
    });
  });
  const result = withPosition(await respond(outcome.events), outcome.position);
  if (idempotency) {
    const kept = options.redact ? options.redact(result) : result;
    // The position stays: `represent` rebuilds from it when a sealed body can no longer be opened.
    const plain = { ...stored(kept), position: outcome.position };
    const response = options.personalDataOf
      ? await sealStoredBody(ctx.cipher, plain, options.personalDataOf(kept, outcome.events))
      : plain;
    await ctx.eventStore.completeIdempotency(idempotency.scope, idempotency.key, response);
  }
  return withRequestId(result, origin.requestId);
}

/** Commands are built from request bodies: the domain's field paths are relative to the body. */
function locateIn(prefix: string, error: unknown): never {
  if (isIamError(error) && error.errors)
    throw new IamError(
      error.code,
      error.message,
      error.errors.map((e) => ({ ...e, path: `${prefix}${e.path}` })),
      error.retryAfterSeconds,
    );
  throw error;
}

async function replay(
  ctx: ApiContext,
  record: IdempotencyRecord,
  request: { keyed: string; text: string },
  options: WriteOptions,
): Promise<HandlerResult> {
  if (!sameRequest(record.requestHash, request))
    throw new IamError('IAM_ERR_IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.');
  const response = record.response && (await openStoredBody(ctx.cipher, record.response));
  if (!response || response.body === null || response.body === undefined) {
    if (!options.represent)
      throw new IamError('IAM_ERR_IDEMPOTENCY_IN_PROGRESS', 'The first request with this key is still in progress.');
    // The first request's events are committed (its key was stored with them) but may not be projected yet.
    await ctx.projection.waitFor(await ctx.eventStore.headPosition());
    const rebuilt = await options.represent(record);
    const position = record.response?.position;
    return withReplayHeader(position === undefined ? rebuilt : withPosition(rebuilt, position));
  }
  return withReplayHeader({ status: response.status, headers: response.headers, body: response.body });
}

/**
 * `Arbor-Position` (contract sections 1 and 9): the log position of the write's last event, which a reader may
 * pass as the access decision API's `context.min_position` to be answered from read models that include it.
 * Replays carry the first response's headers, so theirs too.
 */
function withPosition(result: HandlerResult, position: number): HandlerResult {
  return { ...result, headers: { ...result.headers, 'Arbor-Position': String(position) } };
}

/** `X-Request-ID`: the request id a write's events record (requestOriginOf), so its caller can find them. */
function withRequestId(result: HandlerResult, requestId: string): HandlerResult {
  return { ...result, headers: { ...result.headers, 'X-Request-ID': requestId } };
}

function withReplayHeader(result: HandlerResult): HandlerResult {
  return { ...result, headers: { ...result.headers, 'Idempotent-Replayed': 'true' } };
}

function stored(result: HandlerResult): StoredResponse {
  return { status: result.status, headers: result.headers ?? {}, body: result.body ?? null };
}

const isFresh = (record: IdempotencyRecord): boolean => Date.now() - Date.parse(record.createdAt) < IDEMPOTENCY_TTL_MS;

/** The same key with the same method, path and body (keys in any order) is the same request. */
function requestText(req: HandlerRequest<unknown, unknown, unknown>): string {
  return `${req.raw.method} ${req.raw.baseUrl}${req.raw.path}\n${canonicalJson(req.body)}`;
}

/** Marks request hashes that are keyed; records without it were written by older versions. */
const KEYED = 'k1.';

/**
 * What the record keeps of the request: HMAC-SHA-256 under the vault key `system:idempotency-key`, since
 * request bodies can hold passwords (a plain hash of one is undone by a dictionary).
 */
async function requestHash(ctx: ApiContext, text: string): Promise<string> {
  return KEYED + (await ctx.requestDigest.digest(text));
}

/**
 * Records written before request hashes were keyed hold a plain SHA-256; they expire (and are purged) within
 * a day of the upgrade, and until then a retry of the same request still replays instead of being refused.
 */
function sameRequest(stored: string, request: { keyed: string; text: string }): boolean {
  if (stored.startsWith(KEYED)) return stored === request.keyed;
  return stored === createHash('sha256').update(request.text).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

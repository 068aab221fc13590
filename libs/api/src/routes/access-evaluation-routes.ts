import { Type } from '@sinclair/typebox';
import { IamError, isIamError, type FieldError } from '@arbor/domain';
import type { Principal } from '@arbor/application';
import { defineRouteFor, problemResponse, type HandlerResult, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { WELL_FORMED_REQUEST_ID } from '../request-origin';
import {
  actionsAfter,
  decide,
  decisionPosition,
  decisionState,
  permittedActions,
  type Decision,
} from '../access-evaluation';
import { SEARCH_LIMIT_DEFAULT, searchActionRequest, searchActionResponse } from '../access-search-schemas';
import { pageBinding, searchPageTokens } from '../access-search-tokens';
import {
  decisionSchema,
  evaluationRequest,
  evaluationsRequest,
  evaluationsResponse,
  type AuthzenContext,
  type EvaluationsRequest,
} from '../authzen-schemas';
import { mapError } from '../problem-mapping';
import { accessPastPosition, accessPastQuery } from '../point-in-time';

const defineApiRoute = defineRouteFor<ApiContext>();

/** Where these routes are served: AuthZEN's default paths (section 10.1), beside `/api/v1`. */
export const ACCESS_PREFIX = '/access/v1';

/** The position header every answer (and every write, see write-flow.ts) carries. */
export const POSITION_HEADER = 'Arbor-Position';

/** The response header declaration of every AuthZEN answer (evaluations and searches). */
export const positionHeader = {
  [POSITION_HEADER]: { description: 'The log position the answer was decided at (also `context.position`).' },
};

const common = {
  400: problemResponse(
    'The body breaks the AuthZEN request schema, or its `context.min_position` lies beyond the end of the log.',
  ),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may not ask about this subject there.'),
  404: problemResponse('The organization does not exist, or is outside the caller’s reach.'),
  503: {
    ...problemResponse(
      'The read models did not reach `context.min_position` (a position the log holds) in time; retry after Retry-After.',
    ),
    headers: {
      'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
    },
  },
};

const explainOf = (context: AuthzenContext | undefined): boolean => context?.explain === true;

/**
 * The answer of every AuthZEN route: the body, with the position in `context.position` and in the Arbor-Position
 * header, and the request's `X-Request-ID` echoed (AuthZEN section 10.1.3) when it is 1-200 visible ASCII
 * characters (failures echo it too: create-api-app.ts).
 */
export function accessAnswer(
  req: { raw: { headers: Record<string, string | string[] | undefined> } },
  body: { context?: Record<string, unknown> } & Record<string, unknown>,
  position: number,
): HandlerResult {
  const requestId = req.raw.headers['x-request-id'];
  const headers: Record<string, string> = { [POSITION_HEADER]: String(position) };
  if (typeof requestId === 'string' && WELL_FORMED_REQUEST_ID.test(requestId)) headers['X-Request-ID'] = requestId;
  return { status: 200, headers, body: { ...body, context: { ...body.context, position } } };
}

/**
 * The AuthZEN routes (OpenID AuthZEN Authorization API 1.0; contract section 9), bound under ACCESS_PREFIX.
 * Callers and reach: AccessPolicy.requireMayAsk. Decisions: AccessPolicy.heldBy, the core every other check
 * of the API uses.
 */
export const accessEvaluationRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'evaluateAccess',
    method: 'post',
    path: '/evaluation',
    summary: 'AuthZEN Access Evaluation: may this subject do this action on this organization?',
    tags: ['Access decisions'],
    auth: 'bearer',
    permission: 'access:evaluate',
    request: { query: accessPastQuery, body: { schema: evaluationRequest, ignoresFreeValues: true } },
    responses: {
      200: { description: 'The decision.', schema: decisionSchema, headers: positionHeader },
      ...common,
    },
    handler: async (req, ctx) => {
      const body = req.body;
      const principal = req.auth as Principal;
      const past = await accessPastPosition(ctx, principal, req.query);
      // An explanation names events at or before the position: exact (see decisionPosition).
      const explain = explainOf(body.context);
      const position = past ?? (await decisionPosition(ctx, body.context?.min_position, undefined, explain));
      const q = {
        subject: body.subject,
        action: body.action.name,
        orgId: body.resource.id,
        explain,
      };
      const decision = await decide(ctx, principal, q, position, await decisionState(ctx, principal, [q], past));
      return accessAnswer(req, { ...decision }, position);
    },
  }),
  defineApiRoute({
    operationId: 'evaluateAccessBatch',
    method: 'post',
    path: '/evaluations',
    summary: 'AuthZEN Access Evaluations: several decisions in one request, with the evaluations semantics.',
    tags: ['Access decisions'],
    auth: 'bearer',
    permission: 'access:evaluate',
    request: {
      query: accessPastQuery,
      body: {
        schema: evaluationsRequest,
        ignoresFreeValues: true,
        invalidDetail:
          'The request body is invalid (errors names each problem). Each of the at most 100 evaluations needs a subject, an action and a resource, its own or the top-level default.',
      },
    },
    responses: {
      200: {
        description:
          'The decisions, in request order (fewer when a short-circuiting semantic stopped early); without evaluations, one decision.',
        schema: Type.Union([evaluationsResponse, decisionSchema], { title: 'AccessEvaluationsAnswer' }),
        headers: positionHeader,
      },
      ...common,
    },
    handler: async (req, ctx) => {
      const body = req.body;
      const principal = req.auth as Principal;
      const items = evaluationsOf(body);
      const { minPosition, path } = latestMinPosition(body, items);
      const past = await accessPastPosition(ctx, principal, req.query);
      const questions = items.map(question);
      const exact = questions.some((q) => q.explain);
      const position = past ?? (await decisionPosition(ctx, minPosition, path, exact));
      // One read for every question's facts; each evaluation is then answered from this request's state.
      const state = await decisionState(ctx, principal, questions, past);
      // No `evaluations` (or an empty array): the single Access Evaluation (AuthZEN section 7.1).
      if (!body.evaluations || body.evaluations.length === 0) {
        const decision = await decide(ctx, principal, questions[0], position, state);
        return accessAnswer(req, { ...decision }, position);
      }
      const semantic = body.options?.evaluations_semantic ?? 'execute_all';
      const evaluations: Decision[] = [];
      for (const q of questions) {
        const decision = await decide(ctx, principal, q, position, state).catch(perItemError);
        evaluations.push(decision);
        if (semantic === 'deny_on_first_deny' && !decision.decision) break;
        if (semantic === 'permit_on_first_permit' && decision.decision) break;
      }
      return accessAnswer(req, { evaluations }, position);
    },
  }),
  defineApiRoute({
    operationId: 'searchActions',
    method: 'post',
    path: '/search/action',
    summary: 'AuthZEN Action Search: every permission the subject holds on the organization.',
    tags: ['Access decisions'],
    auth: 'bearer',
    permission: 'access:evaluate',
    request: { query: accessPastQuery, body: { schema: searchActionRequest, ignoresFreeValues: true } },
    responses: {
      200: {
        description: 'A page of the permissions (`page.next_token` leads to the rest).',
        schema: searchActionResponse,
        headers: positionHeader,
      },
      ...common,
    },
    handler: async (req, ctx) => {
      const body = req.body;
      const principal = req.auth as Principal;
      const past = await accessPastPosition(ctx, principal, req.query);
      const position = past ?? (await decisionPosition(ctx, body.context?.min_position));
      const limit = body.page?.limit ?? SEARCH_LIMIT_DEFAULT;
      const tokens = await searchPageTokens(ctx.cursorDigest, 'searchActions', pageBinding(req), limit);
      const names = await permittedActions(ctx, principal, body.subject, body.resource.id, past);
      const rest = actionsAfter(names, tokens.after);
      const items = rest.slice(0, limit);
      const nextToken = tokens.bind(rest.length > limit ? items[items.length - 1] : null);
      return accessAnswer(
        req,
        { page: { next_token: nextToken, count: items.length }, context: {}, results: items.map((name) => ({ name })) },
        position,
      );
    },
  }),
];

type Item = NonNullable<EvaluationsRequest['evaluations']>[number];
type Complete = Required<Pick<Item, 'subject' | 'action' | 'resource'>> & Pick<Item, 'context'>;

/**
 * The evaluations with the top-level defaults applied (AuthZEN section 7.1.1): a member of an evaluation
 * overrides the default (a `context` wholly). Without evaluations, the top level itself is the one evaluation.
 * The schema (evaluationsRequest's `allOf`) already refuses a `subject`, `action` or `resource` missing from
 * both; the 400 here restates it for the type system's sake and should never be reached.
 */
function evaluationsOf(body: EvaluationsRequest): Complete[] {
  const list: Item[] = body.evaluations && body.evaluations.length > 0 ? body.evaluations : [{}];
  const errors: FieldError[] = [];
  const out: Complete[] = [];
  list.forEach((item, i) => {
    const merged = {
      subject: item.subject ?? body.subject,
      action: item.action ?? body.action,
      resource: item.resource ?? body.resource,
      context: item.context ?? body.context,
    };
    for (const key of ['subject', 'action', 'resource'] as const)
      if (merged[key] === undefined)
        errors.push({
          path: body.evaluations?.length ? `/body/evaluations/${i}/${key}` : `/body/${key}`,
          message: `is required (in the evaluation or as a top-level default)`,
        });
    out.push(merged as Complete);
  });
  if (errors.length > 0) throw new IamError('IAM_ERR_VALIDATION', 'The request body is invalid.', errors);
  return out;
}

/**
 * The largest `min_position` of a batch (the one that counts, contract section 9) and the JSON pointer of the
 * `context` it came from: an evaluation's own, or the top-level default.
 */
function latestMinPosition(body: EvaluationsRequest, items: Complete[]): { minPosition?: number; path?: string } {
  let found: { minPosition?: number; path?: string } = {};
  items.forEach((item, i) => {
    const p = item.context?.min_position;
    if (p === undefined || (found.minPosition !== undefined && p <= found.minPosition)) return;
    const own = body.evaluations?.[i]?.context !== undefined;
    found = { minPosition: p, path: `/body${own ? `/evaluations/${i}` : ''}/context/min_position` };
  });
  return found;
}

const question = (item: Complete) => ({
  subject: item.subject,
  action: item.action.name,
  orgId: item.resource.id,
  explain: explainOf(item.context),
});

/**
 * An error of one evaluation of a batch (AuthZEN section 7.2.1): a denial whose context carries the error
 * with the status it would have had alone; the other evaluations are answered.
 */
function perItemError(e: unknown): Decision {
  if (!isIamError(e) || !['IAM_ERR_NOT_FOUND', 'IAM_ERR_FORBIDDEN'].includes(e.code)) throw e;
  return { decision: false, context: { error: { status: mapError(e).status, message: e.message } } };
}

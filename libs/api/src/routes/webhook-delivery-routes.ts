import { Type } from '@sinclair/typebox';
import { IamError } from '@arbor/domain';
import type { Principal, WebhookAttempt } from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import { PAGE_LIMIT_DEFAULT, idSchema, pageOf, pageQuery } from '../schemas';
import { visibleWebhook } from './webhook-routes';

/**
 * The delivery log of a webhook subscription (contract section 10): every attempt the dispatcher made, newest
 * first, so that its owner can see why deliveries fail and why a subscription was switched off. Who may: as for
 * the subscription itself (events:read on its organization; not seeing it is a 404).
 */
const defineApiRoute = defineRouteFor<ApiContext>();

const attemptSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1, description: 'The attempt, increasing over the delivery log.' }),
    eventId: Type.String({ description: 'The delivered event (its `webhook-id`: the same on every attempt).' }),
    eventType: Type.String(),
    position: Type.Integer({ minimum: 1, description: "The event's log position." }),
    attempt: Type.Integer({
      minimum: 1,
      description: '1 for the first attempt at this event, 2 for the first retry, ...',
    }),
    attemptedAt: Type.String({ format: 'date-time' }),
    outcome: Type.Union([Type.Literal('delivered'), Type.Literal('failed')]),
    httpStatus: Type.Union([Type.Integer(), Type.Null()], {
      description: "The receiver's status; null when none came (refused, timed out, address not allowed).",
    }),
    error: Type.Union([Type.String(), Type.Null()], {
      description:
        'Why it failed: `HTTP <status>`, `timeout`, `connection refused`, `connection reset`, `host not found`, `address not allowed`, `TLS certificate not trusted`, `network error (<code>)`. Never the body.',
    }),
    durationMs: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false, title: 'WebhookAttempt' },
);

const present = (a: WebhookAttempt) => ({
  id: a.attemptId,
  eventId: a.eventId,
  eventType: a.eventType,
  position: a.position,
  attempt: a.attempt,
  attemptedAt: a.attemptedAt,
  outcome: a.outcome,
  httpStatus: a.httpStatus,
  error: a.error,
  durationMs: a.durationMs,
});

const OPERATION = 'listWebhookDeliveries';

export const webhookDeliveryRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: OPERATION,
    method: 'get',
    path: '/webhooks/{subscriptionId}/deliveries',
    summary:
      "A webhook subscription's delivery log: every attempt, newest first, with the receiver's status or why none came.",
    tags: ['Webhooks'],
    auth: 'bearer',
    permission: 'events:read',
    request: {
      params: Type.Object({ subscriptionId: idSchema }, { additionalProperties: false }),
      query: Type.Object(pageQuery, { additionalProperties: false }),
    },
    responses: {
      200: { description: 'Attempts, newest first.', schema: pageOf(attemptSchema) },
      400: problemResponse('Invalid query (a cursor not of this list).'),
      401: problemResponse('Missing or invalid access token.'),
      403: problemResponse('The caller may see the organization but does not hold events:read.'),
      404: problemResponse('No such webhook subscription, or not visible to the caller.'),
    },
    handler: async (req, ctx) => {
      const w = await visibleWebhook(ctx, req.auth as Principal, req.params.subscriptionId);
      const limit = req.query.limit ?? PAGE_LIMIT_DEFAULT;
      const cursor = await openPageCursor(ctx.cursorDigest, OPERATION, req);
      const before = cursor === undefined ? undefined : Number(cursor);
      if (before !== undefined && !Number.isSafeInteger(before))
        throw new IamError('IAM_ERR_VALIDATION', 'The cursor is not valid.', [
          { path: '/query/cursor', message: 'is not a valid cursor' },
        ]);
      // One more than asked: whether a next page exists, without a count.
      const found = ctx.webhookDeliveries
        ? await ctx.webhookDeliveries.attempts(w.subscriptionId, { limit: limit + 1, before })
        : [];
      const items = found.slice(0, limit);
      const next = found.length > limit ? String(items[items.length - 1].attemptId) : null;
      return {
        status: 200,
        body: { items: items.map(present), nextCursor: await bindPageCursor(ctx.cursorDigest, OPERATION, req, next) },
      };
    },
  }),
];

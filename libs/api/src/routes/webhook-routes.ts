import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { IamError, MAX_WEBHOOK_EVENT_TYPES, newId, webhookStreamId, type StoredEvent } from '@arbor/domain';
import { privateTargetProblem, type Principal, type WebhookSubscriptionView } from '@arbor/application';
import {
  defineRouteFor,
  problemResponse,
  representationTag,
  type HandlerResult,
  type RouteDefinition,
} from '@arbor/http';
import type { ApiContext } from '../api-context';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import {
  conditionalPostHeaders,
  conditionalReadHeaders,
  conditionalWriteHeaders,
  etagHeader,
  notModifiedResponse,
  preconditionFailedResponse,
  preconditionOf,
} from '../preconditions';
import {
  PAGE_LIMIT_DEFAULT,
  idempotencyKeyHeader,
  idSchema,
  linksTo,
  orgIdParams,
  pageOf,
  pageQuery,
} from '../schemas';
import { executeWrite } from '../write-flow';
import { webhookSchema, webhookSecretSchema } from './webhook-schemas';

/**
 * Webhook subscriptions (contract section 10, issue 14 item 6): who may is `events:read` on the organization
 * (AccessPolicy.requireEventsOn); not seeing it is a 404. The delivery log (`.../deliveries`) is the dispatcher's.
 */
const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Webhooks'];
const errors = {
  400: problemResponse('Invalid input, or a target on a private address the operator has not allowed.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may see the organization but does not hold events:read.'),
  404: problemResponse('No such organization or webhook subscription, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;
const webhookParams = Type.Object({ subscriptionId: idSchema }, { additionalProperties: false });
const location = (id: string) => `/api/v1/webhooks/${id}`;

/** `whsec_` and the base64 of 32 random bytes (Standard Webhooks, "Signature scheme"). */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** The public subscription: never a secret. */
const present = (w: WebhookSubscriptionView) => ({
  id: w.subscriptionId,
  orgId: w.orgId,
  url: w.url,
  eventTypes: w.eventTypes,
  description: w.description,
  enabled: w.enabled,
  disabledReason: w.disabledReason,
  createdPosition: w.createdPosition,
  replay: w.replay,
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
  version: w.version,
});
const tagOf = (w: WebhookSubscriptionView) => representationTag(w.version, present(w));
const result = (w: WebhookSubscriptionView, status = 200, extra: Record<string, string> = {}): HandlerResult => ({
  status,
  body: present(w),
  headers: { ETag: tagOf(w), ...extra },
});

/** The subscription after a confirmed write (the read models have caught up with it). */
async function written(ctx: ApiContext, id: string): Promise<WebhookSubscriptionView> {
  const w = await ctx.readModels.webhooks.get(id);
  if (!w) throw new IamError('IAM_ERR_NOT_FOUND', `Webhook subscription ${id} does not exist.`);
  return w;
}

/** The subscription as the caller may see it: events:read on its organization (403 kept), else 404. */
export async function visibleWebhook(
  ctx: ApiContext,
  principal: Principal,
  id: string,
): Promise<WebhookSubscriptionView> {
  const hidden = new IamError('IAM_ERR_NOT_FOUND', `Webhook subscription ${id} does not exist.`);
  const w = await ctx.readModels.webhooks.get(id);
  if (!w) throw hidden;
  await ctx.policy.requireEventsOn(principal, w.orgId).catch((e: unknown) => {
    throw e instanceof IamError && e.code === 'IAM_ERR_NOT_FOUND' ? hidden : e;
  });
  return w;
}

/** Refuses a target on this host's or a private network unless the operator allowed it (IAM_ERR_WEBHOOK_TARGET). */
function checkTarget(ctx: ApiContext, url: string | undefined): void {
  if (url === undefined) return;
  const problem = privateTargetProblem(url, ctx.allowPrivateWebhookTargets);
  if (problem)
    throw new IamError(
      'IAM_ERR_WEBHOOK_TARGET',
      'The webhook target is on an address webhooks may not reach: private or loopback unless the operator allowed such targets (IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS), link-local and cloud metadata never.',
      [{ path: '/body/url', message: problem }],
    );
}

/** If-Match of a write to one subscription: its version as the read models hold it. */
const precondition = (req: Parameters<typeof preconditionOf>[0], ctx: ApiContext, subscriptionId: string) =>
  preconditionOf(
    req,
    async () => {
      const w = await ctx.readModels.webhooks.get(subscriptionId);
      return w && { version: w.version, body: present(w), expected: { expectedVersion: w.version } };
    },
    `Webhook subscription ${subscriptionId} does not exist.`,
  );

const url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Absolute https: (or http:) URL without user name, password or fragment.',
});
const eventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: MAX_WEBHOOK_EVENT_TYPES,
  description: 'Event types of the catalogue (GET /api/v1/events/schemas); empty or absent: every type.',
});
const description = Type.String({ maxLength: 500 });

export const webhookRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'createWebhookSubscription',
    method: 'post',
    path: '/orgs/{orgId}/webhooks',
    summary: "Subscribe a URL to the events of the organization's subtree (Standard Webhooks deliveries).",
    description:
      'The response carries `secret`, the signing secret, shown this once. A replay with the same Idempotency-Key returns the first response without it.',
    tags,
    auth: 'bearer',
    permission: 'events:read',
    responseHeaders: { 'Cache-Control': 'no-store' },
    request: {
      params: orgIdParams,
      headers: { type: 'object', properties: { 'idempotency-key': idempotencyKeyHeader } },
      body: {
        schema: Type.Object(
          { url, eventTypes: Type.Optional(eventTypes), description: Type.Optional(description) },
          { title: 'CreateWebhookSubscriptionRequest', additionalProperties: false },
        ),
      },
    },
    responses: {
      201: {
        description: 'Subscribed.',
        schema: webhookSchema,
        headers: { ...etagHeader, Location: { description: 'The subscription.' } },
        links: linksTo(['getWebhookSubscription', 'deleteWebhookSubscription'], {
          subscriptionId: '$response.body#/id',
        }),
      },
      ...errors,
      409: problemResponse('The organization has 20 subscriptions already, or the idempotency key was reused.'),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const { orgId } = req.params;
      await ctx.policy.requireEventsOn(principal, orgId);
      checkTarget(ctx, req.body.url);
      const id = newId('whk');
      const secret = newWebhookSecret();
      const command = {
        type: 'CreateWebhookSubscription' as const,
        subscriptionId: id,
        orgId,
        url: req.body.url,
        eventTypes: req.body.eventTypes ?? [],
        description: req.body.description ?? '',
        secret,
      };
      return executeWrite(
        ctx,
        req,
        principal,
        command,
        async () => {
          const w = await written(ctx, id);
          return { status: 201, body: { ...present(w), secret }, headers: { ETag: tagOf(w), Location: location(id) } };
        },
        {
          provisional: { status: 201, headers: { Location: location(id) } },
          // The secret is shown once: a replay must not find it stored anywhere.
          redact: (r) => ({ ...r, body: { ...(r.body as object), secret: undefined } }),
          represent: async (record) => {
            const stored =
              String(record.response?.headers.Location ?? '')
                .split('/')
                .pop() ?? '';
            return result(await written(ctx, stored), 201, { Location: location(stored) });
          },
        },
      );
    },
  }),

  defineApiRoute({
    operationId: 'listWebhookSubscriptions',
    method: 'get',
    path: '/orgs/{orgId}/webhooks',
    summary: "The organization's own webhook subscriptions (not those of organizations below it), in id order.",
    tags,
    auth: 'bearer',
    permission: 'events:read',
    request: { params: orgIdParams, query: Type.Object({ ...pageQuery }, { additionalProperties: false }) },
    responses: { 200: { description: 'A page of subscriptions.', schema: pageOf(webhookSchema) }, ...errors },
    handler: async (req, ctx) => {
      await ctx.policy.requireEventsOn(principalOf(req.auth), req.params.orgId);
      const page = {
        limit: req.query.limit ?? PAGE_LIMIT_DEFAULT,
        cursor: await openPageCursor(ctx.cursorDigest, 'listWebhookSubscriptions', req),
      };
      const found = await ctx.readModels.webhooks.listByOrg(req.params.orgId, page);
      return {
        status: 200,
        body: {
          items: found.items.map(present),
          nextCursor: await bindPageCursor(ctx.cursorDigest, 'listWebhookSubscriptions', req, found.nextCursor),
        },
      };
    },
  }),

  defineApiRoute({
    operationId: 'getWebhookSubscription',
    method: 'get',
    path: '/webhooks/{subscriptionId}',
    summary: 'A webhook subscription: its target, filter, whether it is enabled and why not (never its secret).',
    tags,
    auth: 'bearer',
    permission: 'events:read',
    request: { params: webhookParams, headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The subscription.', schema: webhookSchema, headers: etagHeader },
      304: notModifiedResponse,
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => result(await visibleWebhook(ctx, principalOf(req.auth), req.params.subscriptionId)),
  }),

  defineApiRoute({
    operationId: 'updateWebhookSubscription',
    method: 'patch',
    path: '/webhooks/{subscriptionId}',
    summary: 'Change the target, filter or description, or switch deliveries off (`enabled: false`) and on again.',
    description:
      'Absent fields stay. Switching off records the reason `disabled by <actor>`; switching on resumes where deliveries stopped.',
    tags,
    auth: 'bearer',
    permission: 'events:read',
    request: {
      params: webhookParams,
      headers: conditionalWriteHeaders,
      body: {
        schema: Type.Object(
          {
            url: Type.Optional(url),
            eventTypes: Type.Optional(eventTypes),
            description: Type.Optional(description),
            enabled: Type.Optional(Type.Boolean()),
          },
          { title: 'UpdateWebhookSubscriptionRequest', additionalProperties: false, minProperties: 1 },
        ),
      },
    },
    responses: {
      200: { description: 'The subscription as changed.', schema: webhookSchema, headers: etagHeader },
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const subscriptionId = req.params.subscriptionId;
      await visibleWebhook(ctx, principal, subscriptionId);
      checkTarget(ctx, req.body.url);
      const conditions = await precondition(req, ctx, subscriptionId);
      const command = { type: 'UpdateWebhookSubscription' as const, subscriptionId, ...req.body, ...conditions };
      return executeWrite(ctx, req, principal, command, async () => result(await written(ctx, subscriptionId)));
    },
  }),

  defineApiRoute({
    operationId: 'deleteWebhookSubscription',
    method: 'delete',
    path: '/webhooks/{subscriptionId}',
    summary: 'End a webhook subscription: deliveries stop and its secrets are destroyed.',
    tags,
    auth: 'bearer',
    permission: 'events:read',
    request: { params: webhookParams, headers: conditionalWriteHeaders },
    responses: { 204: { description: 'Deleted.' }, ...errors, 412: preconditionFailedResponse },
    handler: async (req, ctx) => {
      const subscriptionId = req.params.subscriptionId;
      const conditions = await precondition(req, ctx, subscriptionId);
      const command = { type: 'DeleteWebhookSubscription' as const, subscriptionId, ...conditions };
      return executeWrite(ctx, req, principalOf(req.auth), command, async () => ({ status: 204 }));
    },
  }),

  defineApiRoute({
    operationId: 'rotateWebhookSecret',
    method: 'post',
    path: '/webhooks/{subscriptionId}/secret/rotate',
    summary: 'A new signing secret, shown this once; the previous one keeps signing too for 24 hours.',
    description:
      'A replay with the same Idempotency-Key returns the first response without `secret` (it is kept nowhere but the vault), and rotates nothing.',
    tags,
    auth: 'bearer',
    permission: 'events:read',
    responseHeaders: { 'Cache-Control': 'no-store' },
    request: { params: webhookParams, headers: conditionalPostHeaders },
    responses: {
      200: {
        description: 'The new secret; the ETag is that of the subscription as it now stands.',
        schema: webhookSecretSchema,
        headers: etagHeader,
      },
      ...errors,
      409: problemResponse('The idempotency key was used with another request.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const subscriptionId = req.params.subscriptionId;
      const secret = newWebhookSecret();
      const command = async () => ({
        type: 'RotateWebhookSecret' as const,
        subscriptionId,
        secret,
        ...(await precondition(req, ctx, subscriptionId)),
      });
      const answer = (rotated: StoredEvent | undefined, etag: string, shown?: string) => ({
        status: 200,
        body: {
          id: subscriptionId,
          secret: shown,
          previousSecretExpiresAt:
            (rotated?.data as { previousSecretExpiresAt?: string } | undefined)?.previousSecretExpiresAt ?? null,
        },
        // The subscription's tag (its version moved), for a following If-Match: never one of this secret body.
        headers: { ETag: etag },
      });
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        command,
        async (events: StoredEvent[]) =>
          answer(
            events.find((e) => e.type === 'WebhookSecretRotated'),
            tagOf(await written(ctx, subscriptionId)),
            secret,
          ),
        {
          provisional: { status: 200, headers: {} },
          // The secret is shown once: a replay must not find it stored anywhere.
          redact: (r) => ({ ...r, body: { ...(r.body as object), secret: undefined } }),
          represent: async (record) => {
            const at = record.response?.position;
            const events = await ctx.eventStore.readStream(webhookStreamId(subscriptionId));
            const rotated = events.find((e) => e.position === at && e.type === 'WebhookSecretRotated');
            return answer(rotated, tagOf(await written(ctx, subscriptionId)));
          },
        },
      );
    },
  }),

  defineApiRoute({
    operationId: 'replayWebhookSubscription',
    method: 'post',
    path: '/webhooks/{subscriptionId}/replay',
    summary: 'Deliver again every matching event from a log position (inclusive), in order.',
    tags,
    auth: 'bearer',
    permission: 'events:read',
    request: {
      params: webhookParams,
      headers: conditionalPostHeaders,
      body: {
        schema: Type.Object(
          {
            fromPosition: Type.Integer({
              minimum: 1,
              maximum: Number.MAX_SAFE_INTEGER,
              description: "A log position from 1 to the log's head.",
            }),
          },
          { title: 'ReplayWebhookRequest', additionalProperties: false },
        ),
      },
    },
    responses: {
      202: { description: 'The replay is requested; deliveries follow.', schema: webhookSchema, headers: etagHeader },
      ...errors,
      409: problemResponse('The idempotency key was used with another request.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const subscriptionId = req.params.subscriptionId;
      const command = async () => ({
        type: 'RequestWebhookReplay' as const,
        subscriptionId,
        fromPosition: req.body.fromPosition,
        ...(await precondition(req, ctx, subscriptionId)),
      });
      const answer = async () => result(await written(ctx, subscriptionId), 202);
      return executeWrite(ctx, req, principalOf(req.auth), command, answer, {
        provisional: { status: 202, headers: {} },
        represent: answer,
      });
    },
  }),
];

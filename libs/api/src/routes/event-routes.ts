import { Type } from '@sinclair/typebox';
import {
  EVENT_CATALOGUE,
  EVENT_TYPES,
  IamError,
  isKnownEventType,
  cloudEventTypeOf,
  eventDataSchemaOf,
  eventAuditedEnvelopeSchemaOf,
  eventEnvelopeSchemaOf,
  publicEventEnvelope,
} from '@arbor/domain';
import {
  deepFreeze,
  encodeChainHash,
  signLogHead,
  verifyEventLog,
  type ChainVerification,
  type Principal,
} from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { auditOf } from '../event-audit';
import { instantOf } from '../instants';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import { PAGE_LIMIT_DEFAULT, eventSchema, idSchemaWith, pageOf, pageQuery } from '../schemas';

const defineApiRoute = defineRouteFor<ApiContext>();

/** Cursors are positions, wrapped so that clients treat them as opaque. */
const encodeCursor = (position: number): string => Buffer.from(`p:${position}`).toString('base64url');
function decodeCursor(cursor: string): number {
  const match = /^p:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw new IamError('IAM_ERR_VALIDATION', 'The cursor is not valid.', [
      { path: '/query/cursor', message: 'is not a valid cursor' },
    ]);
  return Number(match[1]);
}

/**
 * The schemas of every event type at its current version (contract section 8), in catalogue order: `dataSchema`
 * for `data`, `envelopeSchema` for the whole event (it refers to `dataSchema` by `$id`), `auditedEnvelopeSchema` for
 * the event with the `audit` member platform admins get, and the CloudEvents
 * `type` the Kafka topic gives it. Built once and frozen: the response is encoded once (write-response.ts).
 */
export const eventSchemasBody = deepFreeze({
  items: EVENT_TYPES.map((type) => ({
    type,
    version: EVENT_CATALOGUE[type].version,
    cloudEventType: cloudEventTypeOf(type),
    dataSchema: eventDataSchemaOf(type),
    envelopeSchema: eventEnvelopeSchemaOf(type),
    auditedEnvelopeSchema: eventAuditedEnvelopeSchemaOf(type),
  })),
});

const chainHeadSchema = Type.Object(
  {
    position: Type.Integer({ minimum: 0, description: 'The last event accepted (0: none).' }),
    hash: Type.String({ description: 'Its hash, unpadded base64url (32 zero bytes before the first event).' }),
  },
  { additionalProperties: false },
);

/** The answer of `GET /events/verify` (see verifyEventChain). */
const chainVerificationSchema = Type.Object(
  {
    valid: Type.Boolean({ description: 'Whether every event of the log is intact and in its place.' }),
    events: Type.Integer({ minimum: 0, description: 'Events accepted (all of them when valid).' }),
    checkpoints: Type.Integer({
      minimum: 0,
      description: "The server's signed checkpoints the chain passed through (IAM_LOG_CHECKPOINT_SECONDS).",
    }),
    uncheckedCheckpoints: Type.Integer({
      minimum: 0,
      description:
        'Stored checkpoints signed by a key no longer in the JWKS (revoked: it could have forged them), skipped: no evidence either way.',
    }),
    head: chainHeadSchema,
    signedHead: Type.Optional(
      Type.String({
        description:
          "When valid: the head signed with the server's key, a JWS (ES256, `typ` `arbor-log-head+jwt`, the JWKS `kid`) whose claims are `{iss, iat, position, hash, events}`. Keep it beside an export: `arbor events verify --file --jwks --signed-head` checks the export against it offline.",
      }),
    ),
    firstBreak: Type.Optional(
      Type.Object(
        {
          kind: Type.Union(
            [
              'altered',
              'removed',
              'inserted',
              'reordered',
              'unchained',
              'rewritten',
              'truncated',
              'checkpoint',
              'index',
              'metadata',
            ].map((k) => Type.Literal(k)),
            { description: 'How the chain broke at this event.' },
          ),
          position: Type.Integer({ minimum: 1 }),
          eventId: Type.Optional(Type.String()),
          detail: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'ChainVerification' },
);

/** The report as the API shows it: hashes in base64url, and a valid head signed. */
const chainVerificationBody = (report: ChainVerification, sign: () => string) => ({
  ...report,
  head: { position: report.head.position, hash: encodeChainHash(report.head.hash) },
  ...(report.valid ? { signedHead: sign() } : {}),
});

const schemaObject = Type.Object({}, { additionalProperties: true, description: 'A JSON Schema (draft 2020-12).' });

export const eventRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'listEventSchemas',
    method: 'get',
    path: '/events/schemas',
    summary: 'The JSON Schemas of every event type at its current version: its data and its whole envelope.',
    tags: ['Events'],
    // What the open-source catalogue says anyway (docs/events/schemas): subscribers without an API token need it.
    auth: 'none',
    responseHeaders: { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=300' },
    responses: {
      200: {
        description: 'One entry per event type, in catalogue order.',
        schema: Type.Object(
          {
            items: Type.Array(
              Type.Object(
                {
                  type: Type.String({ description: "The event type, as in an event's `type`." }),
                  version: Type.Integer({ minimum: 1, description: 'The current version of its data.' }),
                  cloudEventType: Type.String({ description: 'The CloudEvents `type` on the Kafka topic.' }),
                  dataSchema: schemaObject,
                  envelopeSchema: schemaObject,
                  auditedEnvelopeSchema: Type.Object(
                    {},
                    {
                      additionalProperties: true,
                      description:
                        'A JSON Schema (draft 2020-12): the event as the event API serves it to platform admins, the envelope and its `audit`.',
                    },
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false, title: 'EventSchemaList' },
        ),
      },
    },
    handler: async () => ({ status: 200, body: eventSchemasBody }),
  }),
  defineApiRoute({
    operationId: 'verifyEvents',
    method: 'get',
    path: '/events/verify',
    summary:
      'Verify the hash chain of the whole event log: whether every event is intact and in its place, else the first altered, removed, inserted or reordered event.',
    tags: ['Events'],
    auth: 'bearer',
    permission: 'events:read',
    // An answer about this moment, with a fresh signature: no cache keeps it.
    responseHeaders: { 'Cache-Control': 'no-store' },
    responses: {
      200: { description: 'The verification, valid or not.', schema: chainVerificationSchema },
      401: problemResponse('Missing or invalid access token.'),
      403: problemResponse('Only platform admins with events:read verify the log.'),
    },
    handler: async (req, ctx) => {
      // The whole log, beyond any one tree: a client's token (one subtree) may not learn its length and head.
      if (ctx.policy.requireEvents(req.auth as Principal).withinOrg !== undefined)
        throw new IamError('IAM_ERR_FORBIDDEN', 'Only platform admins may verify the whole event log.');
      const report = await verifyEventLog(ctx.eventStore, { jwks: () => ctx.keys.jwks() });
      const sign = () => signLogHead(ctx.keys, ctx.issuer, report.head, report.events);
      return { status: 200, body: chainVerificationBody(report, sign) };
    },
  }),
  defineApiRoute({
    operationId: 'listEvents',
    method: 'get',
    path: '/events',
    summary: 'Read the event log in position order (auditors, replays).',
    tags: ['Events'],
    auth: 'bearer',
    permission: 'events:read',
    request: {
      query: Type.Object(
        {
          ...pageQuery,
          after: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: Number.MAX_SAFE_INTEGER,
              description: 'Only events after this position.',
            }),
          ),
          type: Type.Optional(
            // Room for every type of the catalogue at once (each name is checked against it).
            Type.String({ minLength: 1, maxLength: 4000, description: 'Event type, or several separated by commas.' }),
          ),
          streamId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          orgId: Type.Optional(idSchemaWith('Events about this organization or anything below it at the time.')),
          actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          since: Type.Optional(Type.String({ format: 'date-time', description: 'occurredAt at or after.' })),
          until: Type.Optional(Type.String({ format: 'date-time', description: 'occurredAt at or before.' })),
        },
        { additionalProperties: false },
      ),
    },
    responses: {
      200: { description: 'A page of events.', schema: pageOf(eventSchema) },
      400: problemResponse('Invalid filter.'),
      401: problemResponse('Missing or invalid access token.'),
      403: problemResponse('The caller may not read the event log.'),
    },
    handler: async (req, ctx) => {
      const access = ctx.policy.requireEvents(req.auth as Principal);
      const q = req.query;
      const limit = q.limit ?? PAGE_LIMIT_DEFAULT;
      // A client reads only its own subtree's part of the log; asking for another organization's is a 404.
      if (access.withinOrg && q.orgId !== undefined && !(await ctx.policy.isWithin(q.orgId, access.withinOrg)))
        throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${q.orgId} does not exist.`);
      const keyset = await openPageCursor(ctx.cursorDigest, 'listEvents', req);
      const after = keyset !== undefined ? decodeCursor(keyset) : (q.after ?? 0);
      const events = await ctx.eventStore.readAll({
        after,
        limit: limit + 1,
        types: q.type === undefined ? undefined : eventTypesOf(q.type),
        streamId: q.streamId,
        orgId: q.orgId ?? access.withinOrg,
        // With an orgId asked, the client's own subtree still bounds what it reads (as it was then: a move).
        withinOrg: q.orgId !== undefined ? access.withinOrg : undefined,
        actorId: q.actorId,
        since: q.since ? instantOf(q.since, 'since') : undefined,
        until: q.until ? instantOf(q.until, 'until') : undefined,
      });
      const items = events.slice(0, limit);
      const nextCursor = await bindPageCursor(
        ctx.cursorDigest,
        'listEvents',
        req,
        events.length > limit ? encodeCursor(items[items.length - 1].position) : null,
      );
      // Platform admins see each event's audit data beside its envelope; a tenant client's token the envelope only.
      const audits = access.withinOrg === undefined ? await auditOf(ctx, items) : [];
      const body = items.map((event, i) => {
        const audit = audits[i];
        return audit === undefined ? publicEventEnvelope(event) : { ...publicEventEnvelope(event), audit };
      });
      return { status: 200, body: { items: body, nextCursor } };
    },
  }),
];

/**
 * The `type` filter of GET /events: event types separated by commas, each one the event catalogue knows (as
 * `arbor events export --type` requires). A misspelt or empty one would otherwise read as "no such events": a
 * 400 naming `/query/type` instead.
 */
function eventTypesOf(text: string): string[] {
  const types = text.split(',').map((t) => t.trim());
  const refuse = (message: string) =>
    new IamError('IAM_ERR_VALIDATION', 'The query parameters are invalid.', [{ path: '/query/type', message }]);
  if (types.some((t) => t === '')) throw refuse('must name event types separated by commas, with none empty');
  const unknown = types.filter((t) => !isKnownEventType(t));
  if (unknown.length > 0)
    throw refuse(`names unknown event types: ${unknown.join(', ')} (see GET /api/v1/events/schemas)`);
  return types;
}

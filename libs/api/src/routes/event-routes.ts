import { Type } from '@sinclair/typebox';
import {
  EVENT_CATALOGUE,
  EVENT_TYPES,
  IamError,
  cloudEventTypeOf,
  eventDataSchemaOf,
  eventEnvelopeSchemaOf,
  type StoredEvent,
} from '@arbor/domain';
import { deepFreeze, type Principal } from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { instantOf } from '../instants';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import { PAGE_LIMIT_DEFAULT, eventSchema, idSchemaWith, pageOf, pageQuery } from '../schemas';

const defineApiRoute = defineRouteFor<ApiContext>();

const publicEnvelope = ({ orgPath: _internal, ...event }: StoredEvent) => event;

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
 * for `data`, `envelopeSchema` for the whole event (it refers to `dataSchema` by `$id`), and the CloudEvents
 * `type` the Kafka topic gives it. Built once and frozen: the response is encoded once (write-response.ts).
 */
export const eventSchemasBody = deepFreeze({
  items: EVENT_TYPES.map((type) => ({
    type,
    version: EVENT_CATALOGUE[type].version,
    cloudEventType: cloudEventTypeOf(type),
    dataSchema: eventDataSchemaOf(type),
    envelopeSchema: eventEnvelopeSchemaOf(type),
  })),
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
            Type.String({ minLength: 1, maxLength: 500, description: 'Event type, or several separated by commas.' }),
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
        types: q.type
          ? q.type
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean)
          : undefined,
        streamId: q.streamId,
        orgId: q.orgId ?? access.withinOrg,
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
      return { status: 200, body: { items: items.map(publicEnvelope), nextCursor } };
    },
  }),
];

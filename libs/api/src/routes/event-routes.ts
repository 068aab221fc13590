import { IamError, type StoredEvent } from '@arbor/domain';
import type { Principal } from '@arbor/application';
import { defineRoute, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { eventSchema, idSchema, pageOf, pageQuery, timestampSchema } from '../schemas';

const publicEnvelope = ({ orgPath: _internal, ...event }: StoredEvent) => event;

/** Cursors are positions, wrapped so that clients treat them as opaque. */
const encodeCursor = (position: number): string => Buffer.from(`p:${position}`).toString('base64url');
function decodeCursor(cursor: string): number {
  const match = /^p:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new IamError('IAM_ERR_VALIDATION', 'The cursor is not valid.', [{ path: '/query/cursor', message: 'is not a valid cursor' }]);
  return Number(match[1]);
}

export const eventRoutes: RouteDefinition<ApiContext>[] = [
  defineRoute<ApiContext>({
    operationId: 'listEvents',
    method: 'get',
    path: '/events',
    summary: 'Read the event log in position order (auditors, replays).',
    tags: ['Events'],
    auth: 'bearer',
    permission: 'events:read',
    request: {
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...pageQuery,
          after: { type: 'integer', minimum: 0, description: 'Only events after this position.' },
          type: { type: 'string', minLength: 1, maxLength: 500, description: 'Event type, or several separated by commas.' },
          streamId: { type: 'string', minLength: 1, maxLength: 200 },
          orgId: { ...idSchema, description: 'Events about this organization or anything below it at the time.' },
          actorId: { type: 'string', minLength: 1, maxLength: 200 },
          since: { ...timestampSchema, description: 'occurredAt at or after.' },
          until: { ...timestampSchema, description: 'occurredAt at or before.' },
        },
      },
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
      // A client reads only its own subtree's part of the log; asking for another organization's is a 404.
      if (access.withinOrg && q.orgId !== undefined && !(await ctx.policy.isWithin(q.orgId, access.withinOrg)))
        throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${q.orgId} does not exist.`);
      const after = q.cursor !== undefined ? decodeCursor(q.cursor) : (q.after ?? 0);
      const events = await ctx.eventStore.readAll({
        after,
        limit: q.limit + 1,
        types: q.type ? String(q.type).split(',').map((t: string) => t.trim()).filter(Boolean) : undefined,
        streamId: q.streamId,
        orgId: q.orgId ?? access.withinOrg,
        actorId: q.actorId,
        since: q.since ? new Date(q.since).toISOString() : undefined,
        until: q.until ? new Date(q.until).toISOString() : undefined,
      });
      const items = events.slice(0, q.limit);
      const nextCursor = events.length > q.limit ? encodeCursor(items[items.length - 1].position) : null;
      return { status: 200, body: { items: items.map(publicEnvelope), nextCursor } };
    },
  }),
];

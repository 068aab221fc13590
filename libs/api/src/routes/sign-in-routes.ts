import { Type } from '@sinclair/typebox';
import { IamError } from '@arbor/domain';
import type { Principal, SignInRecord } from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { instantOf } from '../instants';
import { PAGE_LIMIT_DEFAULT, idSchemaWith, pageOf, pageQuery } from '../schemas';

const defineApiRoute = defineRouteFor<ApiContext>();

const signInSchema = Type.Object(
  {
    position: Type.Integer(),
    occurredAt: Type.String({ format: 'date-time' }),
    kind: Type.Union([Type.Literal('grant'), Type.Literal('revocation'), Type.Literal('introspection')], {
      description: '`introspection`: a refused client authentication at RFC 7662 introspection.',
    }),
    grantType: Type.Optional(Type.String()),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('throttled')]),
    reason: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String({ description: 'The client, or the client id attempted when of that form.' })),
    clientIdDigest: Type.Optional(
      Type.String({
        description: 'Keyed digest of an attempted client id of no client id’s form (`?clientId=` finds it).',
      }),
    ),
    userId: Type.Optional(Type.String()),
    tokenId: Type.Optional(
      Type.String({ description: 'The access token’s `jti` (never a token); gone with a named user’s erasure.' }),
    ),
    sessionId: Type.Optional(
      Type.String({ description: 'The session (refresh-token family) id; gone with a named user’s erasure.' }),
    ),
    requestId: Type.Optional(
      Type.String({
        description:
          'The request id (X-Request-ID, which the caller may choose); on a record naming a user, sealed with its origin: absent once the user is erased.',
      }),
    ),
    origin: Type.Union(
      [
        Type.Object(
          { sourceAddress: Type.Optional(Type.String()), userAgent: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
        Type.Object({ erased: Type.Literal(true) }, { additionalProperties: false }),
      ],
      { description: 'Address and user agent; `{erased: true}` once the user they were sealed for is erased.' },
    ),
    usernameDigest: Type.Optional(Type.String({ description: 'Keyed digest of an unnamed attempted username.' })),
    orgIds: Type.Array(Type.String()),
  },
  { title: 'SignInRecord', additionalProperties: false },
);

const encodeCursor = (position: number): string => Buffer.from(`s:${position}`).toString('base64url');
function decodeCursor(cursor: string): number {
  const match = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw new IamError('IAM_ERR_VALIDATION', 'The cursor is not valid.', [
      { path: '/query/cursor', message: 'is not a valid cursor' },
    ]);
  return Number(match[1]);
}

/** The sign-in audit for auditors (issue 14 item 7; contract section 8). */
export const signInRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'listSignIns',
    method: 'get',
    path: '/sign-ins',
    summary:
      'The sign-in audit: token grants (and their failures, throttling), revocations and refused client authentication at introspection, oldest first.',
    description:
      'Platform admins (`events:read`) read every record; a tenant client holding `events:read` only those concerning its organization’s subtree. Not the event log: records are not domain state, and retention deletes them whole.',
    tags: ['Audit'],
    auth: 'bearer',
    permission: 'events:read',
    request: {
      query: Type.Object(
        {
          ...pageQuery,
          userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          outcome: Type.Optional(
            Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('throttled')]),
          ),
          orgId: Type.Optional(idSchemaWith('Records concerning this organization or one below it at the time.')),
          username: Type.Optional(
            Type.String({ minLength: 1, maxLength: 320, description: 'Attempts on this unnamed username.' }),
          ),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
        },
        { additionalProperties: false },
      ),
    },
    responses: {
      200: { description: 'A page of sign-in records.', schema: pageOf(signInSchema) },
      400: problemResponse('Invalid filter.'),
      401: problemResponse('Missing or invalid access token.'),
      403: problemResponse('The caller may not read the audit.'),
    },
    handler: async (req, ctx) => {
      const access = ctx.policy.requireEvents(req.auth as Principal);
      const audit = ctx.signInAudit;
      if (!audit) return { status: 200, body: { items: [], nextCursor: null } };
      const q = req.query;
      if (access.withinOrg && q.orgId !== undefined && !(await ctx.policy.isWithin(q.orgId, access.withinOrg)))
        throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${q.orgId} does not exist.`);
      const limit = q.limit ?? PAGE_LIMIT_DEFAULT;
      const records = await audit.list({
        after: q.cursor !== undefined ? decodeCursor(q.cursor) : 0,
        limit: limit + 1,
        userId: q.userId,
        clientId: q.clientId,
        outcome: q.outcome,
        orgId: q.orgId ?? access.withinOrg,
        // With an orgId asked, the client's own subtree still bounds what it reads (as it was then: a move).
        withinOrg: q.orgId !== undefined ? access.withinOrg : undefined,
        usernameDigest: q.username !== undefined ? await audit.usernameDigest(q.username) : undefined,
        since: q.since ? instantOf(q.since, 'since') : undefined,
        until: q.until ? instantOf(q.until, 'until') : undefined,
      });
      const items: SignInRecord[] = records.slice(0, limit);
      return {
        status: 200,
        body: {
          items: await Promise.all(items.map((r) => audit.open(r))),
          nextCursor: records.length > limit ? encodeCursor(items[items.length - 1].position) : null,
        },
      };
    },
  }),
];

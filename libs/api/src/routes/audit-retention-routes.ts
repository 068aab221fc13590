import { Type } from '@sinclair/typebox';
import { auditRetentionOf, DEFAULT_AUDIT_RETENTION_DAYS, type Principal } from '@arbor/application';
import { MAX_AUDIT_RETENTION_DAYS } from '@arbor/domain';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { orgIdParams } from '../schemas';
import { executeWrite } from '../write-flow';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Audit'];

const retentionSchema = Type.Object(
  {
    orgId: Type.String(),
    days: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      description: 'The organization’s own setting in days; null: none (its ancestors’ and the server’s apply).',
    }),
    effectiveDays: Type.Integer({
      minimum: 0,
      description:
        'What applies to the request metadata of its events and to its sign-in records: the shortest of the server default and the settings of the organization and its ancestors. 0: kept for ever.',
    }),
    serverDays: Type.Integer({
      minimum: 0,
      description: 'The server default (IAM_AUDIT_RETENTION_DAYS); 0: for ever.',
    }),
  },
  { title: 'AuditRetention', additionalProperties: false },
);

const errors = {
  400: problemResponse('Invalid input.'),
  401: problemResponse('Missing or invalid access token.'),
  404: problemResponse('No such organization, or not visible to the caller.'),
};

/** The retention an organization's subtree has, as GET and PUT answer it. */
async function retentionOf(ctx: ApiContext, orgId: string) {
  const ancestors = await ctx.readModels.orgs.parents(orgId);
  return auditRetentionOf(
    ctx.eventStore,
    orgId,
    ancestors.map((o) => o.id),
    ctx.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS,
  );
}

/**
 * Per-organization retention of the audit trail's optional fields (issue 14 item 7; contract section 8): how long
 * the request metadata of events concerning an organization's subtree, and the sign-in records of its members and
 * clients, are kept. The shortest setting on the path wins, and none lengthens the server's default.
 */
export const auditRetentionRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'getAuditRetention',
    method: 'get',
    path: '/orgs/{orgId}/audit-retention',
    summary: 'The audit retention of an organization: its own setting and what applies.',
    tags,
    auth: 'bearer',
    permission: 'orgs:read',
    request: { params: orgIdParams },
    responses: { 200: { description: 'The retention.', schema: retentionSchema }, ...errors },
    handler: async (req, ctx) => {
      await ctx.policy.requireOnOrg(req.auth as Principal, 'orgs:read', req.params.orgId);
      return { status: 200, body: await retentionOf(ctx, req.params.orgId) };
    },
  }),
  defineApiRoute({
    operationId: 'setAuditRetention',
    method: 'put',
    path: '/orgs/{orgId}/audit-retention',
    summary: 'Set (or, with null, remove) how long audit data concerning the organization’s subtree is kept.',
    description:
      'Records an `OrgAuditRetentionSet` event. The request metadata of events about the subtree (as it was when each event happened) and its members’ and clients’ sign-in records are kept for the shortest of the server default and the settings on the path: a setting may shorten, never lengthen, what applies. Dropping metadata keeps each event’s digest, so the chain still verifies.',
    tags,
    auth: 'bearer',
    permission: 'orgs:write',
    request: {
      params: orgIdParams,
      body: {
        schema: Type.Object(
          {
            days: Type.Union([Type.Integer({ minimum: 1, maximum: MAX_AUDIT_RETENTION_DAYS }), Type.Null()], {
              description: 'Days (1-36500), or null to remove the organization’s own setting.',
            }),
          },
          { title: 'SetAuditRetentionRequest', additionalProperties: false },
        ),
      },
    },
    responses: {
      200: { description: 'The retention as set.', schema: retentionSchema },
      ...errors,
      403: problemResponse('The caller may not change this organization.'),
    },
    handler: async (req, ctx) => {
      const orgId = req.params.orgId;
      return executeWrite(
        ctx,
        req,
        req.auth as Principal,
        { type: 'SetAuditRetention', orgId, days: req.body.days },
        async () => ({ status: 200, body: await retentionOf(ctx, orgId) }),
      );
    },
  }),
];

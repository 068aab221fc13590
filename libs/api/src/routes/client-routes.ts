import { newId } from '@arbor/domain';
import { ClientSecretHasher, type ClientView, type Principal } from '@arbor/application';
import { defineRoute, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import { clientSchema, idSchema, idempotencyKeyHeader, pageOf, pageQuery, scopesSchema } from '../schemas';
import { executeWrite } from '../write-flow';

const tags = ['Client credentials'];
const errors = {
  400: problemResponse('Invalid input.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may see the organization but not do this.'),
  404: problemResponse('No such organization or client credential, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;
const presentClient = ({ version: _v, ...client }: ClientView) => client;

export const clientRoutes: RouteDefinition<ApiContext>[] = [
  defineRoute<ApiContext>({
    operationId: 'createClientCredential',
    method: 'post',
    path: '/oauth2/client-credentials',
    summary: 'Issue OAuth2 client credentials for machine-to-machine calls within an organization subtree.',
    description:
      'The response carries `clientSecret`, shown this once: only a keyed hash is stored. A replay with the same Idempotency-Key returns the first response without the secret.',
    tags,
    auth: 'bearer',
    permission: 'clients:write',
    // The response carries the secret: no cache may keep it (RFC 9111 section 5.2.2.5), replays included.
    responseHeaders: { 'Cache-Control': 'no-store' },
    request: {
      headers: { type: 'object', properties: { 'idempotency-key': idempotencyKeyHeader } },
      body: {
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'orgId', 'scopes'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, orgId: idSchema, scopes: scopesSchema },
        },
      },
    },
    responses: {
      201: { description: 'Issued.', schema: clientSchema, headers: { Location: { description: 'The client credential.' } } },
      ...errors,
      409: problemResponse('The idempotency key was reused with another request.'),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const { orgId, scopes, name } = req.body;
      const id = newId('cc');
      const secret = ClientSecretHasher.newSecret();
      const location = (ccId: string) => `/api/v1/oauth2/client-credentials/${ccId}`;
      const read = async (ccId: string) => {
        const client = await ctx.readModels.clients.get(ccId);
        if (!client) throw new Error(`Client credential ${ccId} vanished after a confirmed write`);
        return presentClient(client);
      };
      return executeWrite(
        ctx,
        req,
        principal,
        { type: 'IssueClientCredential', clientCredentialId: id, name, orgId, scopes, secret },
        async () => ({ status: 201, body: { ...(await read(id)), clientSecret: secret }, headers: { Location: location(id) } }),
        {
          provisional: { status: 201, headers: { Location: location(id) } },
          // The secret is shown once: a replay must not find it stored anywhere.
          redact: (result) => ({ ...result, body: { ...(result.body as object), clientSecret: undefined } }),
          represent: async (record) => {
            const ccId = String(record.response?.headers.Location ?? '').split('/').pop() ?? '';
            return { status: 201, body: await read(ccId), headers: { Location: location(ccId) } };
          },
        },
      );
    },
  }),

  defineRoute<ApiContext>({
    operationId: 'listClientCredentials',
    method: 'get',
    path: '/oauth2/client-credentials',
    summary: 'Client credentials the caller may read (never a secret).',
    tags,
    auth: 'bearer',
    permission: 'clients:read',
    request: { query: { type: 'object', additionalProperties: false, properties: { ...pageQuery, orgId: idSchema } } },
    responses: { 200: { description: 'A page of client credentials.', schema: pageOf(clientSchema) }, ...errors },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const page = { limit: req.query.limit, cursor: await openPageCursor(ctx.cursorDigest, 'listClientCredentials', req) };
      let result;
      if (req.query.orgId !== undefined) {
        await ctx.policy.requireOnOrg(principal, 'clients:read', req.query.orgId);
        result = await ctx.readModels.clients.list({ orgId: req.query.orgId }, page);
      } else {
        result = await ctx.readModels.clients.list({ withinSubtreesOf: await ctx.policy.subtreesWith(principal, 'clients:read') }, page);
      }
      return { status: 200, body: { items: result.items.map(presentClient), nextCursor: await bindPageCursor(ctx.cursorDigest, 'listClientCredentials', req, result.nextCursor) } };
    },
  }),

  defineRoute<ApiContext>({
    operationId: 'deleteClientCredential',
    method: 'delete',
    path: '/oauth2/client-credentials/{clientCredentialId}',
    summary: 'Delete a client credential: the client gets invalid_client from then on and its tokens stop working at once.',
    tags,
    auth: 'bearer',
    permission: 'clients:write',
    request: { params: { type: 'object', additionalProperties: false, required: ['clientCredentialId'], properties: { clientCredentialId: idSchema } } },
    responses: { 204: { description: 'Deleted.' }, ...errors },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const command = { type: 'RevokeClientCredential' as const, clientCredentialId: req.params.clientCredentialId };
      return executeWrite(ctx, req, principal, command, async () => ({ status: 204 }));
    },
  }),
];

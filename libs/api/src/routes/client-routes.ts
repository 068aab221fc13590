import { Type } from '@sinclair/typebox';
import { IamError, isIamError, newId } from '@arbor/domain';
import { ClientSecretHasher, type ClientView, type Principal } from '@arbor/application';
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
  conditionalReadHeaders,
  conditionalWriteHeaders,
  etagHeader,
  notModifiedResponse,
  preconditionFailedResponse,
  preconditionOf,
} from '../preconditions';
import {
  PAGE_LIMIT_DEFAULT,
  clientRolesSchema,
  clientSchema,
  displayNameSchema,
  idempotencyKeyHeader,
  idSchema,
  linksTo,
  pageOf,
  pageQuery,
  scopesSchema,
} from '../schemas';
import { executeWrite } from '../write-flow';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Client credentials'];
const errors = {
  400: problemResponse('Invalid input.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may see the organization but not do this.'),
  404: problemResponse('No such organization or client credential, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;
const clientParams = Type.Object({ clientCredentialId: idSchema }, { additionalProperties: false });

/** The public client credential (contract section 7): a copy, so that the secret can be added to the 201 alone. */
const presentClient = (client: ClientView) => ({ ...client });

/** The strong ETag of a client credential: that of its representation as GET sends it (never of a body holding the secret). */
const clientTag = (client: ClientView): string => representationTag(client.version, presentClient(client));

/**
 * The client credential `id` as the caller may see it: clients:read on its organization's subtree (as in the
 * list). Otherwise, and when there is none, 404: not even its existence is disclosed.
 */
async function visibleClient(ctx: ApiContext, principal: Principal, id: string): Promise<ClientView> {
  const hidden = new IamError('IAM_ERR_NOT_FOUND', `Client credential ${id} does not exist.`);
  const client = await ctx.readModels.clients.get(id);
  if (!client) throw hidden;
  await ctx.policy.requireOnOrg(principal, 'clients:read', client.orgId).catch((e: unknown) => {
    // Seeing the organization without clients:read is not seeing its clients.
    throw isIamError(e) && (e.code === 'IAM_ERR_NOT_FOUND' || e.code === 'IAM_ERR_FORBIDDEN') ? hidden : e;
  });
  return client;
}

const clientResult = (client: ClientView, status = 200, extra: Record<string, string> = {}): HandlerResult => ({
  status,
  body: presentClient(client),
  headers: { ETag: clientTag(client), ...extra },
});

/**
 * The If-Match precondition of a write to one client credential (PATCH, DELETE): its version as the read
 * models hold it, compared by preconditionOf (404 when it does not exist, 412 when stale).
 */
const clientPrecondition = (req: Parameters<typeof preconditionOf>[0], ctx: ApiContext, clientCredentialId: string) =>
  preconditionOf(
    req,
    async () => {
      const client = await ctx.readModels.clients.get(clientCredentialId);
      return (
        client && {
          version: client.version,
          body: presentClient(client),
          expected: { expectedVersion: client.version },
        }
      );
    },
    `Client credential ${clientCredentialId} does not exist.`,
  );

export const clientRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
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
        schema: Type.Object(
          { name: displayNameSchema(), orgId: idSchema, scopes: scopesSchema, roles: Type.Optional(clientRolesSchema) },
          {
            title: 'CreateClientCredentialRequest',
            additionalProperties: false,
            // At least one scope or one role: no scopes, then roles (the domain states the same rule).
            if: { properties: { scopes: { maxItems: 0 } } },
            then: { required: ['roles'], properties: { roles: { minItems: 1 } } },
          },
        ),
      },
    },
    responses: {
      201: {
        description: 'Issued.',
        schema: clientSchema,
        headers: { ...etagHeader, Location: { description: 'The client credential.' } },
        links: linksTo(['getClientCredential', 'deleteClientCredential'], { clientCredentialId: '$response.body#/id' }),
      },
      ...errors,
      409: problemResponse('The idempotency key was reused with another request.'),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const { orgId, scopes, name, roles } = req.body;
      const id = newId('cc');
      const secret = ClientSecretHasher.newSecret();
      const location = (ccId: string) => `/api/v1/oauth2/client-credentials/${ccId}`;
      const read = async (ccId: string) => {
        const client = await ctx.readModels.clients.get(ccId);
        if (!client) throw new Error(`Client credential ${ccId} vanished after a confirmed write`);
        return client;
      };
      return executeWrite(
        ctx,
        req,
        principal,
        { type: 'IssueClientCredential', clientCredentialId: id, name, orgId, scopes, roles: roles ?? [], secret },
        async () => {
          const client = await read(id);
          return {
            status: 201,
            body: { ...presentClient(client), clientSecret: secret },
            headers: { ETag: clientTag(client), Location: location(id) },
          };
        },
        {
          provisional: { status: 201, headers: { Location: location(id) } },
          // The secret is shown once: a replay must not find it stored anywhere.
          redact: (result) => ({ ...result, body: { ...(result.body as object), clientSecret: undefined } }),
          represent: async (record) => {
            const ccId =
              String(record.response?.headers.Location ?? '')
                .split('/')
                .pop() ?? '';
            return clientResult(await read(ccId), 201, { Location: location(ccId) });
          },
        },
      );
    },
  }),

  defineApiRoute({
    operationId: 'listClientCredentials',
    method: 'get',
    path: '/oauth2/client-credentials',
    summary: 'Client credentials the caller may read (never a secret).',
    tags,
    auth: 'bearer',
    permission: 'clients:read',
    request: { query: Type.Object({ ...pageQuery, orgId: Type.Optional(idSchema) }, { additionalProperties: false }) },
    responses: { 200: { description: 'A page of client credentials.', schema: pageOf(clientSchema) }, ...errors },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const page = {
        limit: req.query.limit ?? PAGE_LIMIT_DEFAULT,
        cursor: await openPageCursor(ctx.cursorDigest, 'listClientCredentials', req),
      };
      let result;
      if (req.query.orgId !== undefined) {
        await ctx.policy.requireOnOrg(principal, 'clients:read', req.query.orgId);
        result = await ctx.readModels.clients.list({ orgId: req.query.orgId }, page);
      } else {
        result = await ctx.readModels.clients.list(
          { ...(await ctx.policy.listScopeWith(principal, 'clients:read')) },
          page,
        );
      }
      return {
        status: 200,
        body: {
          items: result.items.map(presentClient),
          nextCursor: await bindPageCursor(ctx.cursorDigest, 'listClientCredentials', req, result.nextCursor),
        },
      };
    },
  }),

  defineApiRoute({
    operationId: 'getClientCredential',
    method: 'get',
    path: '/oauth2/client-credentials/{clientCredentialId}',
    summary: 'A client credential the caller may read (clients:read on its organization; never a secret).',
    tags,
    auth: 'bearer',
    permission: 'clients:read',
    request: { params: clientParams, headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The client credential.', schema: clientSchema, headers: etagHeader },
      304: notModifiedResponse,
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) =>
      clientResult(await visibleClient(ctx, principalOf(req.auth), req.params.clientCredentialId)),
  }),

  defineApiRoute({
    operationId: 'updateClientCredential',
    method: 'patch',
    path: '/oauth2/client-credentials/{clientCredentialId}',
    summary: "Replace a client credential's roles (held on its organization).",
    description:
      'Needs clients:write on its organization and, for every role granted or taken away, every permission that role grants there (owner-level roles: orgs:delete). Scopes, name and secret do not change.',
    tags,
    auth: 'bearer',
    permission: 'clients:write',
    request: {
      params: clientParams,
      headers: conditionalWriteHeaders,
      body: {
        schema: Type.Object(
          { roles: clientRolesSchema },
          { title: 'UpdateClientCredentialRequest', additionalProperties: false },
        ),
      },
    },
    responses: {
      200: { description: 'The client credential as changed.', schema: clientSchema, headers: etagHeader },
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const clientCredentialId = req.params.clientCredentialId;
      const precondition = await clientPrecondition(req, ctx, clientCredentialId);
      const command = {
        type: 'ChangeClientRoles' as const,
        clientCredentialId,
        roles: req.body.roles,
        ...precondition,
      };
      return executeWrite(ctx, req, principal, command, async () => {
        const client = await ctx.readModels.clients.get(clientCredentialId);
        if (!client) throw new IamError('IAM_ERR_NOT_FOUND', `Client credential ${clientCredentialId} does not exist.`);
        return clientResult(client);
      });
    },
  }),

  defineApiRoute({
    operationId: 'deleteClientCredential',
    method: 'delete',
    path: '/oauth2/client-credentials/{clientCredentialId}',
    summary:
      'Delete a client credential: the client gets invalid_client from then on and its tokens stop working at once.',
    tags,
    auth: 'bearer',
    permission: 'clients:write',
    request: {
      params: clientParams,
      headers: conditionalWriteHeaders,
    },
    responses: { 204: { description: 'Deleted.' }, ...errors, 412: preconditionFailedResponse },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const clientCredentialId = req.params.clientCredentialId;
      const precondition = await clientPrecondition(req, ctx, clientCredentialId);
      const command = { type: 'RevokeClientCredential' as const, clientCredentialId, ...precondition };
      return executeWrite(ctx, req, principal, command, async () => ({ status: 204 }));
    },
  }),
];

import { IamError } from '@arbor/domain';
import { AccessSearch, accessQuestionScope, type Principal } from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { decisionPosition } from '../access-evaluation';
import {
  SEARCH_LIMIT_DEFAULT,
  resourceSearchRequest,
  searchResponse,
  subjectSearchRequest,
} from '../access-search-schemas';
import { searchPageTokens, type SearchPageTokens } from '../access-search-tokens';

/**
 * AuthZEN 1.0 search/resource and search/subject (OpenID Authorization API 1.0, "Search APIs"; contract
 * "Access decisions", subsection "Searches"), mounted under `/access/v1`. Results are complete: a page holds
 * at most `page.limit` results and `page.next_token` leads to the rest until it is empty; no result is ever
 * dropped for size or time. Every answer carries `context.position`, the log position the read models had
 * reached before the search read them (the answer is at least that fresh).
 */
const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Access decisions'];
const errors = {
  400: problemResponse('Invalid input, or a page token not issued for this search.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may not ask about other subjects (needs access:evaluate).'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;

/** The `limit` first of `found`, then the token after the last one when the page is full (one more was found). */
function page<T>(
  tokens: SearchPageTokens,
  limit: number,
  found: T[],
  keyOf: (t: T) => string,
): { items: T[]; nextToken: string } {
  const items = found.slice(0, limit);
  const more = found.length > limit;
  return { items, nextToken: tokens.bind(more ? keyOf(items[items.length - 1]) : null) };
}

export const accessSearchRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'searchResources',
    method: 'post',
    path: '/search/resource',
    summary: 'AuthZEN resource search: the organizations where the subject may do the action.',
    description:
      "Every organization where the subject holds the permission: through roles held there or above it (subtree roles), a client credential's scopes on its subtree, and everywhere for platform admins. Within the caller's reach only (a client credential: its own subtree). Keyset pages in id order.",
    tags,
    auth: 'bearer',
    permission: 'access:evaluate',
    request: { body: { schema: resourceSearchRequest, ignoresFreeValues: true } },
    responses: { 200: { description: 'A page of organizations.', schema: searchResponse('organization') }, ...errors },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const body = req.body as unknown as Record<string, unknown>;
      const limit = req.body.page?.limit ?? SEARCH_LIMIT_DEFAULT;
      const within = await accessQuestionScope(ctx.policy, principal, req.body.subject);
      const tokens = await searchPageTokens(ctx.cursorDigest, 'searchResources', body, limit);
      const position = await decisionPosition(ctx, req.body.context?.min_position);
      const search = new AccessSearch(ctx.readModels, ctx.policy.roles);
      const found = await search.resources(req.body.subject, req.body.action.name, within, tokens.after, limit + 1);
      const { items, nextToken } = page(tokens, limit, found, (id) => id);
      return {
        status: 200,
        body: {
          page: { next_token: nextToken, count: items.length },
          context: { position },
          results: items.map((id) => ({ type: 'organization' as const, id })),
        },
      };
    },
  }),

  defineApiRoute({
    operationId: 'searchSubjects',
    method: 'post',
    path: '/search/subject',
    summary: 'AuthZEN subject search: the users or client credentials that may do the action in the organization.',
    description:
      "Users (with memberships on the organization or its ancestors, inherited grants included; platform admins too) or client credentials (scopes on their subtree). The organization must be within the caller's reach (404 otherwise). Keyset pages in id order.",
    tags,
    auth: 'bearer',
    permission: 'access:evaluate',
    request: { body: { schema: subjectSearchRequest, ignoresFreeValues: true } },
    responses: {
      200: { description: 'A page of subjects.', schema: searchResponse('subject') },
      ...errors,
      404: problemResponse("No such organization, or outside the caller's reach."),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const body = req.body as unknown as Record<string, unknown>;
      const limit = req.body.page?.limit ?? SEARCH_LIMIT_DEFAULT;
      const orgId = req.body.resource.id;
      const within = await accessQuestionScope(ctx.policy, principal);
      const reachable =
        (await ctx.readModels.orgs.get(orgId)) !== undefined &&
        (within === undefined ||
          within.orgIds.includes(orgId) ||
          (await anyAsync(within.subtreeRoots, (root) => ctx.policy.isWithin(orgId, root))));
      if (!reachable) throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
      const tokens = await searchPageTokens(ctx.cursorDigest, 'searchSubjects', body, limit);
      const position = await decisionPosition(ctx, req.body.context?.min_position);
      const search = new AccessSearch(ctx.readModels, ctx.policy.roles);
      const type = req.body.subject.type;
      const found = await search.subjects(type, orgId, req.body.action.name, tokens.after, limit + 1);
      const { items, nextToken } = page(tokens, limit, found, (s) => s.key);
      return {
        status: 200,
        body: {
          page: { next_token: nextToken, count: items.length },
          context: { position },
          results: items.map((s) => ({ type, id: s.id })),
        },
      };
    },
  }),
];

async function anyAsync<T>(items: readonly T[], test: (t: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}

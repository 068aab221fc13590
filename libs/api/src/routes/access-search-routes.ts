import { IamError } from '@arbor/domain';
import {
  AccessSearch,
  accessQuestionScope,
  accessSearchReadsAt,
  roleCatalogAt,
  type Principal,
  type SearchScope,
} from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { decisionPosition } from '../access-evaluation';
import {
  SEARCH_LIMIT_DEFAULT,
  resourceSearchRequest,
  searchResponse,
  subjectSearchRequest,
} from '../access-search-schemas';
import { pageBinding, searchPageTokens, type SearchPageTokens } from '../access-search-tokens';
import { accessAnswer, positionHeader } from './access-evaluation-routes';
import { accessPastPosition, accessPastQuery } from '../point-in-time';
import { pastLineageShownTo } from '../past-visibility';

/**
 * AuthZEN 1.0 search/resource and search/subject (OpenID Authorization API 1.0, "Search APIs"; contract
 * "Access decisions", subsection "Searches"), mounted under `/access/v1`. Results are complete: a page holds
 * at most `page.limit` results and `page.next_token` leads to the rest until it is empty; no result is ever
 * dropped for size or time. Every answer carries `context.position`, a log position the read models had
 * reached before the search read them (the answer is at least that fresh; see decisionPosition).
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

/** The search over the present read models, or over the tree, grants and role definitions of `past`. */
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
    request: { query: accessPastQuery, body: { schema: resourceSearchRequest, ignoresFreeValues: true } },
    responses: {
      200: { description: 'A page of organizations.', schema: searchResponse('organization'), headers: positionHeader },
      ...errors,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const body = pageBinding(req);
      const limit = req.body.page?.limit ?? SEARCH_LIMIT_DEFAULT;
      const within = await accessQuestionScope(ctx.policy, principal, req.body.subject);
      const tokens = await searchPageTokens(ctx.cursorDigest, 'searchResources', body, limit);
      const past = await accessPastPosition(ctx, principal, req.query);
      const position = past ?? (await decisionPosition(ctx, req.body.context?.min_position));
      const search = await searchAt(ctx, principal, past);
      const found = await search.resources(req.body.subject, req.body.action.name, within, tokens.after, limit + 1);
      const { items: then, nextToken } = page(tokens, limit, found, (id) => id);
      // The past's organizations, as far as today's reach shows them (a page may then hold fewer than `limit`).
      const items = past === undefined ? then : await reachableToday(ctx, principal, req.body.subject, within, then);
      return accessAnswer(
        req,
        {
          page: { next_token: nextToken, count: items.length },
          context: {},
          results: items.map((id) => ({ type: 'organization' as const, id })),
        },
        position,
      );
    },
  }),

  defineApiRoute({
    operationId: 'searchSubjects',
    method: 'post',
    path: '/search/subject',
    summary: 'AuthZEN subject search: the users or client credentials that may do the action in the organization.',
    description:
      "Users (with memberships on the organization or its ancestors, inherited grants included; platform admins too, to platform admins) or client credentials (scopes on their subtree). The organization must be within the caller's reach: 404 where the caller sees nothing of it, 403 where they see it but hold no access:evaluate there. Keyset pages in id order.",
    tags,
    auth: 'bearer',
    permission: 'access:evaluate',
    request: { query: accessPastQuery, body: { schema: subjectSearchRequest, ignoresFreeValues: true } },
    responses: {
      200: { description: 'A page of subjects.', schema: searchResponse('subject'), headers: positionHeader },
      ...errors,
      404: problemResponse("No such organization, or outside the caller's reach."),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const body = pageBinding(req);
      const limit = req.body.page?.limit ?? SEARCH_LIMIT_DEFAULT;
      const orgId = req.body.resource.id;
      const within = await accessQuestionScope(ctx.policy, principal);
      // A past search is asked of an organization the caller reaches today (platform admins: any, deleted since too).
      const pastAsked = req.query.asOf !== undefined || req.query.asOfPosition !== undefined;
      const existsNow = (await ctx.readModels.orgs.get(orgId)) !== undefined;
      const reachable =
        within === undefined
          ? existsNow || pastAsked
          : existsNow && (await reachableNow(ctx, within, [orgId])).length === 1;
      if (!reachable) {
        // The point checks' rule (requireMayAsk) says which: 404 where the caller sees nothing of the organization,
        // 403 where they see it but may not ask there (a member without access:evaluate on it).
        if (existsNow && within !== undefined)
          await ctx.policy.requireMayAsk(principal, { type: req.body.subject.type, id: '' }, orgId);
        throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
      }
      const tokens = await searchPageTokens(ctx.cursorDigest, 'searchSubjects', body, limit);
      const past = await accessPastPosition(ctx, principal, req.query);
      if (past !== undefined && (await ctx.readModels.history.org(orgId, past)) === undefined)
        throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} did not exist at log position ${past}.`);
      const position = past ?? (await decisionPosition(ctx, req.body.context?.min_position));
      const search = await searchAt(ctx, principal, past);
      const type = req.body.subject.type;
      // The operator's platform admins are listed to platform admins only: to a tenant they are no members of its
      // tree, and a user is visible to whoever holds users:read where they are a member (contract section 4).
      const toPlatformAdmin = principal.type === 'user' && principal.platformAdmin;
      const found = await search.subjects(type, orgId, req.body.action.name, tokens.after, limit + 1, toPlatformAdmin);
      const { items, nextToken } = page(tokens, limit, found, (s) => s.key);
      return accessAnswer(
        req,
        {
          page: { next_token: nextToken, count: items.length },
          context: {},
          results: items.map((s) => ({ type, id: s.id })),
        },
        position,
      );
    },
  }),
];

/** The search of now, or of the past at `past` through the ancestors today's grants show `principal`. */
async function searchAt(ctx: ApiContext, principal: Principal, past: number | undefined): Promise<AccessSearch> {
  if (past === undefined) return new AccessSearch(ctx.readModels, ctx.policy.roles);
  const history = ctx.readModels.history;
  const reads = accessSearchReadsAt(history, past, pastLineageShownTo(ctx, principal));
  return new AccessSearch(reads, await roleCatalogAt(history, past));
}

/**
 * The past's organizations of `ids` the caller reaches today (contract section 9, searches of the past): all of them
 * for platform admins (organizations deleted since included); those within `within` for a caller scoped by it
 * (reachableNow); and for a user asking about themselves (no `within`), those where they hold a permission today,
 * the rule `requireMayAsk` applies to a single organization.
 */
async function reachableToday(
  ctx: ApiContext,
  principal: Principal,
  subject: { type: string; id: string },
  within: SearchScope | undefined,
  ids: string[],
): Promise<string[]> {
  if (ctx.policy.isPlatformAdmin(principal)) return ids;
  if (within !== undefined) return reachableNow(ctx, within, ids);
  const out: string[] = [];
  for (const id of ids) {
    const mayAsk = await ctx.policy.requireMayAsk(principal, subject, id).then(
      () => true,
      (e: unknown) => {
        if (e instanceof IamError && (e.code === 'IAM_ERR_NOT_FOUND' || e.code === 'IAM_ERR_FORBIDDEN')) return false;
        throw e;
      },
    );
    if (mayAsk) out.push(id);
  }
  return out;
}

/** The organizations of `ids` within the caller's reach today (`within`: subtree roots and single organizations). */
async function reachableNow(ctx: ApiContext, within: SearchScope, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids)
    if (within.orgIds.includes(id) || (await anyAsync(within.subtreeRoots, (root) => ctx.policy.isWithin(id, root))))
      out.push(id);
  return out;
}

async function anyAsync<T>(items: readonly T[], test: (t: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}

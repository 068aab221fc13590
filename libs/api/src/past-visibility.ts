import { isIamError } from '@arbor/domain';
import type { PastLineageFilter, Principal } from '@arbor/application';
import type { ApiContext } from './api-context';

/**
 * The past organizations a caller who is not a platform admin is shown, by today's grants (contract section 8):
 * those still related now to the organization asked about (`relatedNow`: still below or above it), or readable now
 * by the caller. One that has left for another tenant's tree since, or been deleted, is left out, so the past does
 * not show a caller more than the present would.
 */
export async function shownByTodaysGrants<T extends { id: string }>(
  ctx: ApiContext,
  principal: Principal,
  items: T[],
  relatedNow: (orgId: string) => Promise<boolean>,
): Promise<T[]> {
  if (ctx.policy.isPlatformAdmin(principal)) return items;
  const shown: T[] = [];
  for (const item of items) {
    const readable =
      (await relatedNow(item.id)) ||
      (await ctx.policy.requireOnOrg(principal, 'orgs:read', item.id).then(
        () => true,
        (e: unknown) => {
          // Not the caller's to see: left out. Anything else (a storage fault) is the answer's.
          if (isIamError(e) && (e.code === 'IAM_ERR_NOT_FOUND' || e.code === 'IAM_ERR_FORBIDDEN')) return false;
          throw e;
        },
      ));
    if (readable) shown.push(item);
  }
  return shown;
}

/**
 * The ids of `orgIds` (past ancestors of `orgId`, say) a caller is shown by today's grants (shownByTodaysGrants):
 * those that are `orgId` or above it today, or readable today by the caller; all of them for platform admins.
 */
export async function orgIdsShownToday(
  ctx: ApiContext,
  principal: Principal,
  orgId: string,
  orgIds: string[],
): Promise<string[]> {
  if (ctx.policy.isPlatformAdmin(principal)) return orgIds;
  const lineageNow = new Set([...(await ctx.readModels.orgs.parents(orgId)).map((o) => o.id), orgId]);
  const shown = await shownByTodaysGrants(
    ctx,
    principal,
    orgIds.map((id) => ({ id })),
    async (id) => lineageNow.has(id),
  );
  return shown.map((o) => o.id);
}

/**
 * The PastLineageFilter of a caller's past access answers (evaluations, action, subject and resource searches): an
 * organization's ancestors of then count where they lie today in its tree (under the root it has now: a move
 * within one tenant changes nothing of who may see what), and elsewhere only where today's grants show them to the
 * caller (orgIdsShownToday). So an organization moved in from another tenant's tree brings none of that tree's
 * grants (its users, clients and roles there) into the caller's answers, as it brings none of its events
 * (EventQuery.withinOrg); one deleted since counts for no one but platform admins. Undefined for platform admins:
 * they read the whole past.
 */
export function pastLineageShownTo(ctx: ApiContext, principal: Principal): PastLineageFilter | undefined {
  if (ctx.policy.isPlatformAdmin(principal)) return undefined;
  const orgs = ctx.readModels.orgs;
  return async (orgId, ancestorIds) => {
    const lineageNow = [...(await orgs.parents(orgId)).map((o) => o.id), orgId];
    const kept = new Set<string>();
    const elsewhere: string[] = [];
    for (const id of ancestorIds) {
      if (lineageNow.includes(id)) {
        kept.add(id);
        continue;
      }
      const parents = await orgs.parents(id);
      const rootNow = parents.length > 0 ? parents[0].id : (await orgs.get(id)) === undefined ? undefined : id;
      if (rootNow === lineageNow[0]) kept.add(id);
      else elsewhere.push(id);
    }
    if (elsewhere.length > 0) for (const id of await orgIdsShownToday(ctx, principal, orgId, elsewhere)) kept.add(id);
    return ancestorIds.filter((id) => kept.has(id));
  };
}

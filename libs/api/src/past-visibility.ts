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
 * The PastLineageFilter of a caller's past access answers (evaluations, action, subject and resource searches) and
 * past role list (one rule: what a caller is told a role of then grants is what a decision of then counts). An
 * organization's ancestors of then count:
 * - where they lie today in its tree (under the root it has now: a move within one tenant changes nothing of who
 *   may see what);
 * - elsewhere only where today's grants show them to the caller (orgIdsShownToday), so an organization moved in
 *   from another tenant's tree brings none of that tree's grants (its users, clients and roles there) into the
 *   caller's answers, as it brings none of its events (EventQuery.withinOrg);
 * - one deleted since lies in no tree today: it counts where it would lie had it not been deleted, under the
 *   nearest ancestor it had when it ended that still exists (HistoryQueries.orgEndedAt, then its parents of that
 *   moment), by the two rules above. So within the organization's tree every caller (an evaluate-only client as
 *   the tree's admin) gets the platform admin's answer; one that had left for another tree before its deletion
 *   counts as it did while it lay there (a deletion elsewhere changes nothing of this tree's past); one whose
 *   lineage of that moment is all gone counts for no one.
 * Undefined for platform admins: they read the whole past. The filter returns `ancestorIds`' kept ids in their
 * order; errors are the read models' (storage) and those of orgIdsShownToday other than 404 and 403.
 */
export function pastLineageShownTo(ctx: ApiContext, principal: Principal): PastLineageFilter | undefined {
  if (ctx.policy.isPlatformAdmin(principal)) return undefined;
  const { orgs, history } = ctx.readModels;
  /** The root an organization lies under today (itself for a root); undefined for one deleted since. */
  const rootNow = async (id: string): Promise<string | undefined> => {
    const parents = await orgs.parents(id);
    if (parents.length > 0) return parents[0].id;
    return (await orgs.get(id)) === undefined ? undefined : id;
  };
  /** The nearest ancestor a deleted organization had when it ended that still exists; undefined if none does. */
  const livingAncestorAtEnd = async (id: string): Promise<string | undefined> => {
    const end = await history.orgEndedAt(id);
    if (end === undefined) return undefined;
    const lineage = await history.parents(id, end - 1);
    for (let i = lineage.length - 1; i >= 0; i--)
      if ((await orgs.get(lineage[i].id)) !== undefined) return lineage[i].id;
    return undefined;
  };
  return async (orgId, ancestorIds) => {
    const lineageNow = [...(await orgs.parents(orgId)).map((o) => o.id), orgId];
    const kept = new Set<string>();
    /** Ancestors judged by whether today's grants show a living organization (their own id, or the stand-in). */
    const elsewhere: Array<{ id: string; standIn: string }> = [];
    for (const id of ancestorIds) {
      if (lineageNow.includes(id)) {
        kept.add(id);
        continue;
      }
      const root = await rootNow(id);
      // No one may read a deleted organization today (orgs:read is a 404 on it): it stands where it lay last.
      const standIn = root === undefined ? await livingAncestorAtEnd(id) : id;
      if (standIn === undefined) continue;
      if ((root ?? (await rootNow(standIn))) === lineageNow[0]) kept.add(id);
      else elsewhere.push({ id, standIn });
    }
    if (elsewhere.length > 0) {
      const shown = new Set(
        await orgIdsShownToday(ctx, principal, orgId, [...new Set(elsewhere.map((e) => e.standIn))]),
      );
      for (const e of elsewhere) if (shown.has(e.standIn)) kept.add(e.id);
    }
    return ancestorIds.filter((id) => kept.has(id));
  };
}

import { Type } from '@sinclair/typebox';
import { IamError } from '@arbor/domain';
import { positionAtInstant, type Principal } from '@arbor/application';
import type { Permission } from '@arbor/domain';
import type { ApiContext } from './api-context';
import { instantOf } from './instants';
import { decisionPosition } from './access-evaluation';

/** The query of a read that may be asked about the past (contract section 8, point in time). */
export const asOfQuery = {
  asOf: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'The answer as it was at this RFC 3339 instant (point in time; contract section 8).',
    }),
  ),
  asOfPosition: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'The answer as it was when the log ended at this position.',
    }),
  ),
};

/**
 * The log position a point-in-time read answers at, or undefined for a read of the present (neither parameter).
 * Throws IamError IAM_ERR_VALIDATION (400) for both parameters at once (naming `/query/asOfPosition`), a position
 * beyond the log's end (the same), an instant outside the years 0001-9999 or later than now (`/query/asOf`: the
 * log of a moment still to come is not known, and an answer about it would change). `asOf` maps to the last event
 * at or before the instant (positionAtInstant).
 *
 * Who may read the past is decided by today's grants, checked before anything is read of the log: `require` runs
 * the route's check of the present (orgs:read on the organization as it is now); a platform admin whose token
 * holds `permission` may read any past, also of an organization deleted since (AccessPolicy.requirePlatform), so
 * a token narrowed to other scopes reads no more of the past than of the present.
 */
export async function pointInTime(
  ctx: ApiContext,
  principal: Principal,
  query: { asOf?: string; asOfPosition?: number },
  permission: Permission,
  require: () => Promise<unknown>,
): Promise<number | undefined> {
  const { asOf, asOfPosition } = query;
  if (asOf === undefined && asOfPosition === undefined) return undefined;
  if (asOf !== undefined && asOfPosition !== undefined)
    throw new IamError('IAM_ERR_VALIDATION', 'Give asOf or asOfPosition, not both.', [
      { path: '/query/asOfPosition', message: 'must not be given with asOf' },
    ]);
  if (ctx.policy.isPlatformAdmin(principal)) ctx.policy.requirePlatform(principal, permission);
  else await require();
  if (asOf !== undefined) {
    const instant = instantOf(asOf, 'asOf');
    if (instant > new Date().toISOString())
      throw new IamError('IAM_ERR_VALIDATION', 'asOf lies in the future: the log of that moment is not known yet.', [
        { path: '/query/asOf', message: 'must not be later than now' },
      ]);
    return positionAtInstant(ctx.eventStore, instant);
  }
  const head = await ctx.eventStore.headPosition();
  if (asOfPosition! > head)
    throw new IamError(
      'IAM_ERR_VALIDATION',
      `Log position ${asOfPosition} does not exist yet: the log ends at ${head}.`,
      [{ path: '/query/asOfPosition', message: `must not exceed the log's last position (${head})` }],
    );
  return asOfPosition;
}

/** 404 for an organization that did not exist at `position`. */
export const notThen = (orgId: string, position: number): IamError =>
  new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} did not exist at log position ${position}.`);

/**
 * pointInTime for reads answered from the temporal read model (ReadModels.history): the same checks, then, for a
 * past read, waits until the read models hold that position (the distributed projector may lag the log; bounded
 * as an access decision's `min_position`, else 503 with Retry-After). The history answers only positions the read
 * models have reached.
 */
export async function historyPointInTime(
  ctx: ApiContext,
  principal: Principal,
  query: { asOf?: string; asOfPosition?: number },
  permission: Permission,
  require: () => Promise<unknown>,
): Promise<number | undefined> {
  const position = await pointInTime(ctx, principal, query, permission, require);
  if (position !== undefined) await decisionPosition(ctx, position, '/query/asOfPosition');
  return position;
}

export { shownByTodaysGrants } from './past-visibility';

/**
 * `?asOf=` / `?asOfPosition=` on the AuthZEN routes (POST query parameters; contract section 8): the decision or
 * search as it would have been then, from the temporal read model.
 */
export const accessPastQuery = Type.Object({ ...asOfQuery }, { additionalProperties: false });

/**
 * The past position an AuthZEN request asks about, once the read models hold it (historyPointInTime), undefined for
 * the present. Only the parameters and a platform admin's scope are checked here: the caller rule stays today's and
 * is checked per question (AccessPolicy.requireMayAsk, accessQuestionScope); `context.min_position` is then moot.
 */
export const accessPastPosition = (
  ctx: ApiContext,
  principal: Principal,
  query: { asOf?: string; asOfPosition?: number },
): Promise<number | undefined> => historyPointInTime(ctx, principal, query, 'access:evaluate', async () => undefined);

import { IamError } from '@arbor/domain';
import type { Principal } from './principal';

/**
 * Where a caller may ask the access decision API about a subject (design of issue 13, contract "Access
 * decisions"), before any organization is named:
 * - `anywhere`: a platform admin whose token holds `access:evaluate`;
 * - `self`: a user asking about themselves (no scope needed): wherever they hold anything, which for a search
 *   is everywhere (its results are the user's own grants); a platform admin holds everything everywhere;
 * - `client_subtree`: a client credential whose token holds `access:evaluate`: its own organization's subtree
 *   (`orgId`);
 * - `where_held`: a user whose token holds `access:evaluate`: where they hold `access:evaluate` themselves.
 */
export type CallerReach =
  { kind: 'anywhere' } | { kind: 'self' } | { kind: 'client_subtree'; orgId: string } | { kind: 'where_held' };

/**
 * The caller rule, stated once: AccessPolicy.requireMayAsk (point checks: evaluation, evaluations, search/action)
 * and accessQuestionScope (searches) both read their answer from it, and differ only in how they apply a reach
 * (to one organization, or as subtree roots). `subject` is absent for search/subject (never oneself).
 * @throws IamError IAM_ERR_FORBIDDEN (403) when the question is not about oneself and the token lacks
 *   `access:evaluate`.
 */
export function callerReach(principal: Principal, subject?: { type: string; id: string }): CallerReach {
  if (principal.type === 'user' && subject?.type === 'user' && subject.id === principal.id) return { kind: 'self' };
  if (!principal.scopes.has('access:evaluate'))
    throw new IamError(
      'IAM_ERR_FORBIDDEN',
      'Asking about subjects other than oneself needs a token with the access:evaluate scope.',
    );
  if (principal.type === 'client') return { kind: 'client_subtree', orgId: principal.orgId };
  return principal.platformAdmin ? { kind: 'anywhere' } : { kind: 'where_held' };
}

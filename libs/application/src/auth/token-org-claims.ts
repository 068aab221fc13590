import { isPermission, type Role } from '@arbor/domain';
import type { AccessPolicy } from './access-policy';

/**
 * The most permissions one token's `permissions` claim carries (contract section 3, "Tokens for one
 * organization"). A subject holding more on the organization gets no token for it (`invalid_request`, never
 * a claim silently cut): it asks the access decision API instead. Built-in permissions are far fewer.
 */
export const MAX_TOKEN_PERMISSIONS = 100;

/** What a token for one organization carries besides the usual claims (issue 13, RFC 9068 section 2.2.3.1). */
export interface OrgClaims {
  /** The organization the token was asked for (`org_id` parameter). */
  org_id: string;
  /** RFC 9068 section 2.2.3.1: the role ids the subject holds there, inherited ones included, sorted. */
  roles: string[];
  /** What those roles give there (built-in and application permissions; a client's scopes too), sorted. */
  permissions: string[];
}

export type OrgClaimsResult = { ok: true; claims: OrgClaims } | { ok: false; description: string };

/**
 * One answer for an organization that does not exist and one the subject may not reach, so that the token
 * endpoint does not tell them apart (no existence leak).
 */
export const ORG_OUT_OF_REACH = 'org_id names no organization the subject has access to.';

/** Organization ids are `org_<ulid>`; anything longer than this is not one. */
const MAX_ORG_ID_LENGTH = 64;

/**
 * The `org_id` token-request parameter (issue 13): absent, or one non-empty id. A malformed one is refused
 * before any password is hashed or refresh token spent.
 */
export function readOrgIdParameter(
  value: unknown,
): { ok: true; value: string | undefined } | { ok: false; description: string } {
  if (value === undefined) return { ok: true, value: undefined };
  if (typeof value !== 'string' || value === '' || value.length > MAX_ORG_ID_LENGTH)
    return { ok: false, description: 'org_id must be an organization id.' };
  return { ok: true, value };
}

/**
 * A user's claims on `orgId`: the roles that reach it (AccessPolicy.userRolesOn) and what they give
 * (AccessPolicy.heldBy, the decision core). A user reaches an organization where a role of theirs reaches it;
 * a platform admin reaches every organization (and holds every built-in permission there).
 */
export async function userOrgClaims(
  policy: AccessPolicy,
  user: { id: string; platformAdmin: boolean },
  orgId: string,
): Promise<OrgClaimsResult> {
  if (!(await policy.facts.org(orgId))) return { ok: false, description: ORG_OUT_OF_REACH };
  const roles = await policy.userRolesOn(user.id, orgId);
  if (roles.length === 0 && !user.platformAdmin) return { ok: false, description: ORG_OUT_OF_REACH };
  const held = await policy.heldBy({ type: 'user', id: user.id, platformAdmin: user.platformAdmin }, orgId);
  return bounded(orgId, roles, held);
}

/**
 * A client credential's claims on `orgId`, which must lie in its organization's subtree: its roles that reach
 * `orgId` (held on its own organization), and its scopes with what those roles give (design13).
 */
export async function clientOrgClaims(
  policy: AccessPolicy,
  client: { orgId: string; scopes: readonly string[]; roles: readonly Role[] },
  orgId: string,
): Promise<OrgClaimsResult> {
  if (!(await policy.facts.org(orgId)) || !(await policy.isWithin(orgId, client.orgId)))
    return { ok: false, description: ORG_OUT_OF_REACH };
  const roles = client.roles.filter((r) => policy.roleReaches(r, client.orgId, orgId));
  const held = await policy.heldBy(
    { type: 'client', orgId: client.orgId, grants: client.scopes.filter(isPermission), roles: client.roles },
    orgId,
  );
  return bounded(orgId, roles, held);
}

function bounded(orgId: string, roles: readonly Role[], held: Iterable<string>): OrgClaimsResult {
  const permissions = [...held].sort();
  if (permissions.length > MAX_TOKEN_PERMISSIONS)
    return {
      ok: false,
      description: `The subject holds more than ${MAX_TOKEN_PERMISSIONS} permissions on org_id, more than a token carries; ask the access decision API (/access/v1/evaluation) instead.`,
    };
  return { ok: true, claims: { org_id: orgId, roles: [...new Set(roles)].sort(), permissions } };
}

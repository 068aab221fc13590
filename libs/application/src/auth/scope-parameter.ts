import {
  BUILT_IN_ROLE_CATALOG,
  PERMISSIONS,
  isRole,
  permissionsOfRoles,
  type Permission,
  type RoleCatalog,
} from '@arbor/domain';
import type { ReadModels, UserView } from '../ports/read-models';
import type { Checked } from './token-audiences';

/** RFC 6749 section 3.3: `scope = scope-token *( SP scope-token )`, `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
export const SCOPE_GRAMMAR = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/**
 * The requested scope tokens, without repeats, or `undefined` when the parameter is absent (the grant's
 * default applies). Present but empty, blank or outside the grammar (leading, trailing or double spaces,
 * tabs, quotes, backslashes, non-ASCII) is refused: the caller answers `invalid_scope`.
 */
export function parseScopeParameter(raw: unknown): Checked<string[] | undefined> {
  if (raw === undefined) return { ok: true, value: undefined };
  if (typeof raw !== 'string' || !SCOPE_GRAMMAR.test(raw))
    return { ok: false, description: 'scope must be scope tokens separated by single spaces (RFC 6749 section 3.3).' };
  return { ok: true, value: [...new Set(raw.split(' '))] };
}

/** What to grant: the requested scopes if all are allowed (else why not), or everything allowed when none were requested. */
export function grantScope(requested: string[] | undefined, allowed: readonly string[]): Checked<string[]> {
  if (requested === undefined) return { ok: true, value: [...allowed] };
  const refused = requested.filter((s) => !allowed.includes(s));
  if (refused.length > 0) return { ok: false, description: `Scope not allowed: ${refused.join(' ')}.` };
  return { ok: true, value: requested };
}

/**
 * Every built-in permission the user holds somewhere, in contract order: what the definitions (`roles`, custom
 * ones included) of the roles of all their memberships grant (a role grants on the organization it is held on at least, and never more
 * below it, so direct memberships suffice), or everything for a platform admin. A user token's scope never
 * goes beyond it.
 */
export async function permissionsAnywhere(
  readModels: ReadModels,
  user: Pick<UserView, 'id' | 'platformAdmin'>,
  roles: RoleCatalog = BUILT_IN_ROLE_CATALOG,
): Promise<Permission[]> {
  if (user.platformAdmin) return [...PERMISSIONS];
  const roleIds = (await readModels.memberships.membershipRoots(user.id)).flatMap((m) => m.roles);
  // A custom role's definition may have changed since the catalog last looked (built-in ones never do).
  if (roleIds.some((r) => !isRole(r))) await roles.refresh?.();
  const held = permissionsOfRoles(roleIds, roles);
  return PERMISSIONS.filter((p) => held.has(p));
}

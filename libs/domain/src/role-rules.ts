import { caselessKey } from './caseless';
import { IamError } from './iam-error';
import { isOwnerLevel, type RoleDefinition, type RoleId } from './roles';

/**
 * The pure rules of custom roles and application permissions (issue 13; design decisions of the lead,
 * contract section 4, "Custom roles"). No I/O: the command model feeds them what it knows, synchronously.
 */

/** Arbor's own permission prefixes: an application permission may not start with one (contract section 4). */
export const RESERVED_PERMISSION_PREFIXES = [
  'orgs',
  'users',
  'clients',
  'events',
  'roles',
  'tokens',
  'access',
] as const;

const SEGMENT = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * Why `name` is not a valid application permission name, or undefined when it is one: 2 to 5 segments of
 * `[a-z0-9][a-z0-9_-]{0,39}` joined by `:` (e.g. `billing:invoices:approve`), the first not a reserved prefix.
 * Such a name is also a valid OAuth 2.0 scope token (RFC 6749 section 3.3: no space, quote or backslash).
 */
export function applicationPermissionNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  const segments = name.split(':');
  if (segments.length < 2 || segments.length > 5 || !segments.every((s) => SEGMENT.test(s)))
    return 'must be 2 to 5 segments of [a-z0-9][a-z0-9_-]{0,39} joined by ":"';
  if ((RESERVED_PERMISSION_PREFIXES as readonly string[]).includes(segments[0]))
    return `must not start with a reserved prefix (${RESERVED_PERMISSION_PREFIXES.join(', ')})`;
  return undefined;
}

export const isApplicationPermissionName = (name: unknown): name is string =>
  applicationPermissionNameProblem(name) === undefined;

/**
 * The role-name rule: names are unique per defining organization, compared caselessly (Unicode default
 * caseless matching, as sibling organization names are), and the built-in roles' names and ids are reserved
 * everywhere. `defined` are the definitions visible at the defining organization; `exceptId` is the role being
 * renamed. Throws IAM_ERR_NAME_TAKEN (409).
 */
export function requireRoleNameFree(
  name: string,
  definingOrgId: string,
  defined: readonly RoleDefinition[],
  exceptId?: RoleId,
): void {
  const key = caselessKey(name);
  for (const role of defined) {
    if (role.id === exceptId) continue;
    const reserved = role.orgId === null && (caselessKey(role.name) === key || caselessKey(role.id) === key);
    if (reserved || (role.orgId === definingOrgId && caselessKey(role.name) === key))
      throw new IamError('IAM_ERR_NAME_TAKEN', `A role named "${name}" already exists at this organization.`);
  }
}

/**
 * Whether a holder of `roles` on an organization holds the application permission `name` there, given the
 * application permissions visible there: a role that grants it, or any owner-level role (one that grants
 * `orgs:delete`), which holds every visible application permission. So an owner can hand out what their
 * application defines, and "nobody grants what they do not hold" stays literally true.
 */
export function holdsApplicationPermission(
  roles: readonly RoleDefinition[],
  name: string,
  visible: ReadonlySet<string>,
): boolean {
  if (!visible.has(name)) return false;
  return roles.some((r) => isOwnerLevel(r) || (r.permissions as readonly string[]).includes(name));
}

/** One use, inside a moved subtree, of something defined on an organization (a role or an application permission). */
export interface DefinitionUse {
  /** `role <id>` or `permission <name>`, and where it is used: for the 409's message. */
  readonly what: string;
  /** The organization that defines what is used. */
  readonly definedOn: string;
}

/**
 * The move rule (no dangling grant, ever): a move is refused (409, IAM_ERR_DEFINITION_IN_USE, naming what
 * blocks it) when something used in the moved subtree (a membership or client grant of a custom role, or a
 * role definition granting an application permission) is defined on an organization that would be neither in
 * the subtree nor above it after the move. `stillAbove`: the subtree's ids and the new ancestors' ids.
 * Returns the blocking uses; empty means the move may go ahead.
 */
export function danglingAfterMove(uses: Iterable<DefinitionUse>, stillAbove: ReadonlySet<string>): DefinitionUse[] {
  const out: DefinitionUse[] = [];
  for (const use of uses) if (!stillAbove.has(use.definedOn)) out.push(use);
  return out;
}

/** What ending a role's grants does to one membership: its new roles, or `remove` when none would be left. */
export type GrantEnding = { readonly kind: 'update'; readonly roles: RoleId[] } | { readonly kind: 'remove' };

/**
 * The delete rule: deleting a role still granted is refused (409, IAM_ERR_DEFINITION_IN_USE) unless `removeGrants`;
 * then each membership holding it loses it (an update), and one left with no role at all ends (memberships
 * always hold at least one role). Pure: `grants` are the role lists of the memberships that hold `roleId`;
 * `clientGrants` counts the client credentials holding it (named in the 409; their endings are the caller's).
 */
export function endGrantsOf(
  roleId: RoleId,
  grants: readonly (readonly RoleId[])[],
  removeGrants: boolean,
  clientGrants = 0,
): GrantEnding[] {
  if (grants.length + clientGrants > 0 && !removeGrants) {
    const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    const where = [
      ...(grants.length > 0 ? [count(grants.length, 'membership', 'memberships')] : []),
      ...(clientGrants > 0 ? [count(clientGrants, 'client credential', 'client credentials')] : []),
    ].join(' and ');
    throw new IamError(
      'IAM_ERR_DEFINITION_IN_USE',
      `Role ${roleId} is granted on ${where}; delete with removeGrants=true to end them.`,
    );
  }
  return grants.map((roles) => {
    const rest = roles.filter((r) => r !== roleId);
    return rest.length === 0 ? { kind: 'remove' } : { kind: 'update', roles: rest };
  });
}

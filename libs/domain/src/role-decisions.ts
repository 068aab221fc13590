import {
  applicationPermissionStreamId,
  clientStreamId,
  membershipStreamId,
  roleStreamId,
  type DomainEvent,
  type RoleDefinedData,
} from './events';
import { FieldChecks } from './field-rules';
import { IamError } from './iam-error';
import type { IdentityState } from './member-decisions';
import { PERMISSIONS, isPermission } from './permissions';
import { checkPrecondition } from './precondition';
import type { RoleIndex } from './role-index';
import {
  applicationPermissionNameProblem,
  danglingAfterMove,
  endGrantsOf,
  requireRoleNameFree,
  type DefinitionUse,
} from './role-rules';
import type { RoleReach } from './roles';

/**
 * The deciders of custom roles and application permissions (issue 13, contract section 4.1): pure, over the
 * command model's RoleIndex. Who may ask is the use cases' (roles:write, holding what a role grants).
 */
export type RoleState = IdentityState & { roles: RoleIndex };

const DESCRIPTION_MAX = 1000;

/** Built-in permissions no role may grant (contract section 4): platform admins' alone (and clients' scopes). */
export const NO_ROLE_GRANTS = ['events:read', 'tokens:introspect'] as const;

function requireOrg(state: IdentityState, orgId: string): void {
  if (!state.orgs.get(orgId)) throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
}

function description(checks: FieldChecks, value: unknown): string {
  if (value === undefined) return '';
  // Characters are code points, as the request schema's maxLength counts them (an emoji is one, not two).
  if (typeof value !== 'string' || [...value].length > DESCRIPTION_MAX) {
    checks.fail('/description', `must be a string of at most ${DESCRIPTION_MAX} characters`);
    return '';
  }
  return value.normalize('NFC');
}

/**
 * Defines the application permission `name` on `orgId`. Errors: IAM_ERR_NOT_FOUND (no organization),
 * IAM_ERR_VALIDATION (`/name`, `/description`), IAM_ERR_NAME_TAKEN (409: the name is defined in the same tree).
 */
export function decideDefinePermission(
  state: RoleState,
  cmd: { orgId: string; name: unknown; description?: unknown },
): DomainEvent[] {
  requireOrg(state, cmd.orgId);
  const checks = new FieldChecks();
  const problem = applicationPermissionNameProblem(cmd.name);
  if (problem) checks.fail('/name', problem);
  const text = description(checks, cmd.description);
  checks.done('The permission is not valid.');
  const name = cmd.name as string;
  const root = state.orgs.path(cmd.orgId)[0];
  if (state.roles.permissionsNamed(name).some((p) => state.orgs.get(p.orgId) && state.orgs.path(p.orgId)[0] === root))
    throw new IamError('IAM_ERR_NAME_TAKEN', `A permission named ${name} is already defined in this tree.`);
  return [
    {
      type: 'ApplicationPermissionDefined',
      streamId: applicationPermissionStreamId(cmd.orgId, name),
      data: { orgId: cmd.orgId, name, description: text },
    },
  ];
}

function requirePermission(state: RoleState, orgId: string, name: string) {
  const found = state.roles.permissionDefinedOn(name, orgId);
  if (!found) throw new IamError('IAM_ERR_NOT_FOUND', `Permission ${name} is not defined on ${orgId}.`);
  return found;
}

/** Replaces a permission's description; nothing when unchanged. Errors: 404, 412 (If-Match), 400. */
export function decideUpdatePermission(
  state: RoleState,
  cmd: { orgId: string; name: string; description: unknown; expectedVersion?: number },
): DomainEvent[] {
  const current = requirePermission(state, cmd.orgId, cmd.name);
  const streamId = applicationPermissionStreamId(cmd.orgId, cmd.name);
  checkPrecondition('permission', state.roles.version(streamId) ?? 0, cmd.expectedVersion);
  const checks = new FieldChecks();
  const text = description(checks, cmd.description);
  checks.done('The permission is not valid.');
  if (text === current.description) return [];
  return [
    { type: 'ApplicationPermissionUpdated', streamId, data: { orgId: cmd.orgId, name: cmd.name, description: text } },
  ];
}

/** Deletes a permission. Errors: 404, 412, IAM_ERR_DEFINITION_IN_USE (409: a role grants it, named). */
export function decideDeletePermission(
  state: RoleState,
  cmd: { orgId: string; name: string; expectedVersion?: number },
): DomainEvent[] {
  requirePermission(state, cmd.orgId, cmd.name);
  const streamId = applicationPermissionStreamId(cmd.orgId, cmd.name);
  checkPrecondition('permission', state.roles.version(streamId) ?? 0, cmd.expectedVersion);
  const granting = state.roles.rolesGranting(cmd.name, cmd.orgId);
  if (granting.length > 0)
    throw new IamError(
      'IAM_ERR_DEFINITION_IN_USE',
      `Permission ${cmd.name} is granted by role(s) ${granting.map((r) => r.id).join(', ')}: change or delete them first.`,
    );
  return [{ type: 'ApplicationPermissionDeleted', streamId, data: { orgId: cmd.orgId, name: cmd.name } }];
}

/** A role's permissions: built-in ones and application permissions visible at `orgId`, canonical order. */
function rolePermissions(checks: FieldChecks, state: RoleState, orgId: string, value: unknown): string[] {
  const visible = new Set(state.roles.permissionsVisibleAt(orgId).map((p) => p.name));
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string' && (isPermission(p) || visible.has(p)))) {
    checks.fail('/permissions', 'must be a list of built-in permissions and application permissions visible here');
    return [];
  }
  // Contract section 4: no role grants the platform's own permissions; platform admins hold them, and give
  // them to client credentials as scopes.
  const platformOnly = (value as string[]).filter((p) => (NO_ROLE_GRANTS as readonly string[]).includes(p));
  if (platformOnly.length > 0) {
    checks.fail(
      '/permissions',
      `must not hold ${platformOnly.join(', ')}: no role grants ${NO_ROLE_GRANTS.join(' or ')}`,
    );
    return [];
  }
  const set = new Set(value as string[]);
  return [...PERMISSIONS.filter((p) => set.has(p)), ...[...set].filter((p) => !isPermission(p)).sort()];
}

function reach(checks: FieldChecks, value: unknown): RoleReach {
  if (value === undefined || value === 'subtree') return 'subtree';
  if (value === 'organization') return 'organization';
  checks.fail('/appliesTo', 'must be "subtree" or "organization"');
  return 'subtree';
}

/**
 * Defines a custom role `roleId` (`role_<ulid>`, minted by the gateway) on `orgId`. Errors: 404 (no
 * organization), 400 (`/name`, `/description`, `/permissions`, `/appliesTo`), IAM_ERR_NAME_TAKEN (409).
 */
export function decideDefineRole(
  state: RoleState,
  cmd: {
    roleId: string;
    orgId: string;
    name: unknown;
    description?: unknown;
    permissions: unknown;
    appliesTo?: unknown;
  },
): DomainEvent[] {
  requireOrg(state, cmd.orgId);
  const checks = new FieldChecks();
  const name = checks.displayName('/name', cmd.name);
  const data: RoleDefinedData = {
    roleId: cmd.roleId,
    orgId: cmd.orgId,
    name,
    description: description(checks, cmd.description),
    permissions: rolePermissions(checks, state, cmd.orgId, cmd.permissions),
    appliesTo: reach(checks, cmd.appliesTo),
  };
  checks.done('The role is not valid.');
  requireRoleNameFree(name, cmd.orgId, state.roles.visibleAt(cmd.orgId));
  return [{ type: 'RoleDefined', streamId: roleStreamId(cmd.roleId), data }];
}

/** The custom role `roleId`; 404 when there is none (built-in roles are no resources one may change). */
export function requireCustomRole(state: RoleState, roleId: string) {
  const role = state.roles.get(roleId);
  if (!role || role.orgId === null) throw new IamError('IAM_ERR_NOT_FOUND', `Role ${roleId} does not exist.`);
  return role;
}

/** Changes a role's name, description, permissions or reach (absent: unchanged); nothing when all equal. */
export function decideUpdateRole(
  state: RoleState,
  cmd: {
    roleId: string;
    name?: unknown;
    description?: unknown;
    permissions?: unknown;
    appliesTo?: unknown;
    expectedVersion?: number;
  },
): DomainEvent[] {
  const role = requireCustomRole(state, cmd.roleId);
  const orgId = role.orgId!;
  checkPrecondition('role', state.roles.version(roleStreamId(cmd.roleId)) ?? 0, cmd.expectedVersion);
  const checks = new FieldChecks();
  const data: RoleDefinedData = {
    roleId: role.id,
    orgId,
    name: cmd.name === undefined ? role.name : checks.displayName('/name', cmd.name),
    description: cmd.description === undefined ? role.description : description(checks, cmd.description),
    permissions:
      cmd.permissions === undefined ? [...role.permissions] : rolePermissions(checks, state, orgId, cmd.permissions),
    appliesTo: cmd.appliesTo === undefined ? role.appliesTo : reach(checks, cmd.appliesTo),
  };
  checks.done('The role is not valid.');
  if (data.name !== role.name) requireRoleNameFree(data.name, orgId, state.roles.visibleAt(orgId), role.id);
  const same =
    data.name === role.name &&
    data.description === role.description &&
    data.appliesTo === role.appliesTo &&
    data.permissions.join() === role.permissions.join();
  return same ? [] : [{ type: 'RoleUpdated', streamId: roleStreamId(cmd.roleId), data }];
}

/**
 * Where a custom role defined on `definingOrgId` is granted: the memberships (organization, user, all their roles)
 * and client credentials (id, organization) of that organization's subtree that hold `roleId`, in subtree order.
 */
export function grantsOfRole(
  state: RoleState,
  roleId: string,
  definingOrgId: string,
): {
  memberships: Array<{ orgId: string; userId: string; roles: string[] }>;
  clients: Array<{ id: string; orgId: string }>;
} {
  const memberships: Array<{ orgId: string; userId: string; roles: string[] }> = [];
  const clients: Array<{ id: string; orgId: string }> = [];
  for (const orgId of state.orgs.subtreeIds(definingOrgId)) {
    for (const [userId, m] of state.memberships.membersOf(orgId))
      if (m.roles.includes(roleId)) memberships.push({ orgId, userId, roles: [...m.roles] });
    for (const id of state.memberships.clientsOf(orgId))
      if (state.memberships.client(id)!.roles.includes(roleId)) clients.push({ id, orgId });
  }
  return { memberships, clients };
}

/**
 * Deletes a custom role. Its grants (memberships and client credentials in the defining organization's
 * subtree) make it a 409 IAM_ERR_DEFINITION_IN_USE unless `removeGrants`; then they end first, in this one
 * command: a membership left with no role ends (UserRemovedFromOrg), others lose the role (OrgUserUpdated),
 * clients lose it (ClientCredentialRolesChanged); then RoleDeleted.
 */
export function decideDeleteRole(
  state: RoleState,
  cmd: { roleId: string; removeGrants?: boolean; expectedVersion?: number },
): DomainEvent[] {
  const role = requireCustomRole(state, cmd.roleId);
  checkPrecondition('role', state.roles.version(roleStreamId(cmd.roleId)) ?? 0, cmd.expectedVersion);
  const grants = grantsOfRole(state, role.id, role.orgId!);
  const members = grants.memberships.map(({ orgId, userId, roles }): [string, string, string[]] => [
    orgId,
    userId,
    roles,
  ]);
  const clients = grants.clients.map(({ id }) => id);
  // The memberships' endings; the clients' are decided below (a client may be left holding none).
  const endings = endGrantsOf(
    role.id,
    members.map(([, , roles]) => roles),
    cmd.removeGrants === true,
    clients.length,
  );
  const events: DomainEvent[] = [];
  members.forEach(([orgId, userId], i) => {
    const ending = endings[i];
    events.push(
      ending.kind === 'remove'
        ? { type: 'UserRemovedFromOrg', streamId: membershipStreamId(orgId, userId), data: { orgId, userId } }
        : {
            type: 'OrgUserUpdated',
            streamId: membershipStreamId(orgId, userId),
            data: { orgId, userId, roles: ending.roles },
          },
    );
  });
  for (const id of clients) {
    const client = state.memberships.client(id)!;
    const roles = client.roles.filter((r) => r !== role.id);
    // A credential issued without scopes holds only its roles: left with none, it is revoked, as a membership
    // left without a role ends (it must keep a role: decideChangeClientRoles).
    if (client.scopeless && roles.length === 0) {
      events.push({
        type: 'ClientCredentialRevoked',
        streamId: clientStreamId(id),
        data: { clientCredentialId: id, clientId: client.clientId, orgId: client.orgId },
      });
      continue;
    }
    events.push({
      type: 'ClientCredentialRolesChanged',
      streamId: clientStreamId(id),
      data: {
        clientCredentialId: id,
        clientId: client.clientId,
        orgId: client.orgId,
        roles,
      },
    });
  }
  events.push({ type: 'RoleDeleted', streamId: roleStreamId(role.id), data: { roleId: role.id, orgId: role.orgId! } });
  return events;
}

/**
 * The move rule (contract section 4.1; no dangling grant, ever): moving `orgId` under `toParentId` is refused
 * with IAM_ERR_DEFINITION_IN_USE (409, naming what blocks it) when something used in its subtree (a
 * membership's or client's grant of a custom role, or a role definition granting an application permission)
 * is defined on an organization that would be neither in the subtree nor above it after the move.
 */
export function requireNoDanglingAfterMove(state: RoleState, orgId: string, toParentId: string | null): void {
  const subtree = state.orgs.subtreeIds(orgId);
  const inside = new Set(subtree);
  const stillAbove = new Set(subtree);
  if (toParentId !== null) for (const id of [...state.orgs.ancestors(toParentId), toParentId]) stillAbove.add(id);
  const uses: DefinitionUse[] = [];
  const useOfRole = (roleId: string, where: string) => {
    const role = state.roles.get(roleId);
    if (role?.orgId && !inside.has(role.orgId)) uses.push({ what: `role ${roleId} (${where})`, definedOn: role.orgId });
  };
  for (const id of subtree) {
    for (const [userId, m] of state.memberships.membersOf(id))
      for (const r of m.roles) useOfRole(r, `granted to ${userId} on ${id}`);
    for (const c of state.memberships.clientsOf(id))
      for (const r of state.memberships.client(c)!.roles) useOfRole(r, `granted to client ${c} on ${id}`);
    for (const role of state.roles.rolesDefinedOn(id))
      for (const p of role.permissions) {
        const permission = isPermission(p) ? undefined : state.roles.permission(p, id);
        if (permission && !inside.has(permission.orgId))
          uses.push({ what: `permission ${p} (granted by role ${role.id})`, definedOn: permission.orgId });
      }
  }
  const blocking = danglingAfterMove(uses, stillAbove);
  if (blocking.length > 0)
    throw new IamError(
      'IAM_ERR_DEFINITION_IN_USE',
      `The move would leave grants of definitions outside the new ancestry: ${blocking
        .slice(0, 5)
        .map((u) => `${u.what} defined on ${u.definedOn}`)
        .join('; ')}${blocking.length > 5 ? `; and ${blocking.length - 5} more` : ''}.`,
    );
}

/**
 * Application permission names are unique within a tree (contract section 4.1), and a move must keep them so:
 * moving `orgId` under `toParentId` in another tree (a platform admin's move of a root or between trees) is
 * refused with IAM_ERR_NAME_TAKEN (409, naming the names) when a permission defined in the moved subtree has
 * the name of one defined in the destination tree. A move within one tree, or making a root, never conflicts.
 */
export function requireNamesFreeAfterMove(state: RoleState, orgId: string, toParentId: string | null): void {
  if (toParentId === null) return;
  const destinationRoot = state.orgs.path(toParentId)[0];
  if (destinationRoot === state.orgs.path(orgId)[0]) return;
  const taken = new Set<string>();
  for (const id of state.orgs.subtreeIds(orgId))
    for (const p of state.roles.permissionsDefinedOn(id))
      if (
        state.roles
          .permissionsNamed(p.name)
          .some((q) => state.orgs.get(q.orgId) && state.orgs.path(q.orgId)[0] === destinationRoot)
      )
        taken.add(p.name);
  if (taken.size > 0)
    throw new IamError(
      'IAM_ERR_NAME_TAKEN',
      `The move would define ${[...taken].slice(0, 5).join(', ')}${taken.size > 5 ? ` and ${taken.size - 5} more` : ''} twice in the destination tree: application permission names are unique within a tree.`,
    );
}

/**
 * What deleting an organization does to the definitions made on it (contract section 4.1): they end with
 * events, roles first (RoleDeleted), then application permissions (ApplicationPermissionDeleted). Called per
 * organization after its memberships and clients ended and before its OrgDeleted; the subtree goes leaf first,
 * so every grant or role that used them has ended already.
 */
export function definitionsEndingWith(roles: RoleIndex, orgId: string): DomainEvent[] {
  return [
    ...roles
      .rolesDefinedOn(orgId)
      .map((r): DomainEvent => ({ type: 'RoleDeleted', streamId: roleStreamId(r.id), data: { roleId: r.id, orgId } })),
    ...roles.permissionsDefinedOn(orgId).map((p): DomainEvent => ({
      type: 'ApplicationPermissionDeleted',
      streamId: applicationPermissionStreamId(orgId, p.name),
      data: { orgId, name: p.name },
    })),
  ];
}

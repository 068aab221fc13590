import type { DomainEvent, Role, SealedPersonalData } from './events';
import { clientStreamId, membershipStreamId, userStreamId } from './events';
import { FieldChecks } from './field-rules';
import { IamError } from './iam-error';
import { checkPrecondition } from './precondition';
import type { MembershipIndex } from './membership-index';
import type { OrgTree } from './org-tree';
import { PERMISSIONS, type Permission } from './permissions';
import { BUILT_IN_ROLE_CATALOG, type RoleCatalog } from './roles';
import type { UserDirectory } from './user-directory';
import type { WebhookIndex } from './webhook-index';

/** What the user, membership and client deciders read. */
export interface IdentityState {
  orgs: OrgTree;
  users: UserDirectory;
  memberships: MembershipIndex;
  /** The role definitions memberships may name; the built-in catalog when absent (no organization defines roles yet). */
  roles?: RoleCatalog;
  /** The live webhook subscriptions (issue 14 item 6); none when absent. */
  webhooks?: WebhookIndex;
}

export interface AddUserToOrgCommand {
  orgId: string;
  roles: unknown;
  /** `{userId, roles}`: an existing user. */
  existingUserId?: string;
  /**
   * `{email, name, password?, roles}`: a new user, unless one with this email exists, who is then added
   * instead (and keeps their own name and password). Personal data arrives sealed under `userId`'s key, the
   * email as its index entry (see UserDirectory): the decider never sees it in clear.
   */
  newUser?: { userId: string; emailIndex: string; personal: SealedPersonalData };
}

/**
 * Adds a member. With `newUser`, an email that names no account creates one. An email that names an existing
 * account never hands it over on the strength of the email alone (emails are not verified, so whoever created
 * the account may hold its password):
 * - the account is already linked to the organization (member or pending): 409 `IAM_ERR_ALREADY_MEMBER`;
 * - the caller can see the account (`hiddenAccount` false): 409 `IAM_ERR_EMAIL_TAKEN` naming it, so the caller
 *   decides whether that account is the person meant and adds it by `existingUserId` (their supplied name
 *   and password would otherwise be dropped without a word);
 * - the caller cannot see it (`hiddenAccount` true, the policy's answer): the membership is pending. It grants
 *   nothing until a platform admin confirms it, the account keeps its own name and password, and the answer
 *   looks like a creation (the caller learns nothing of an account it could not see). Adding it again by
 *   email is a 409 `IAM_ERR_ALREADY_MEMBER`, as for any member; adding it by `existingUserId` (a caller who can
 *   see the account) puts it in effect.
 */
export function decideAddUserToOrg(
  state: IdentityState,
  cmd: AddUserToOrgCommand & { hiddenAccount?: boolean },
): DomainEvent[] {
  const checks = new FieldChecks();
  const roles = checks.roles('/roles', cmd.roles, rolesVisibleAt(state, cmd.orgId));
  checks.done('The membership is not valid.');
  requireOrg(state, cmd.orgId);

  const events: DomainEvent[] = [];
  let userId: string;
  if (cmd.existingUserId !== undefined) {
    const user = state.users.get(cmd.existingUserId);
    if (!user || user.status === 'erased')
      throw new IamError('IAM_ERR_NOT_FOUND', `User ${cmd.existingUserId} does not exist.`);
    userId = user.id;
  } else if (cmd.newUser) {
    const existing = state.users.idForEmailIndex(cmd.newUser.emailIndex);
    userId = existing ?? cmd.newUser.userId;
    if (!existing)
      events.push({
        type: 'UserCreated',
        streamId: userStreamId(userId),
        data: { userId, personal: cmd.newUser.personal, platformAdmin: false },
      });
  } else {
    throw new IamError('IAM_ERR_VALIDATION', 'Either userId or email is required.', [
      { path: '/userId', message: 'is required' },
    ]);
  }

  const linksExisting = cmd.newUser !== undefined && events.length === 0;
  const current = state.memberships.get(cmd.orgId, userId);
  // Adding by id someone who can see the account (the policy checked) puts a pending membership in effect.
  if (current && (cmd.newUser !== undefined || !current.pending))
    throw new IamError('IAM_ERR_ALREADY_MEMBER', `User ${userId} is already a member of ${cmd.orgId}.`);
  if (linksExisting && cmd.hiddenAccount !== true)
    throw new IamError(
      'IAM_ERR_EMAIL_TAKEN',
      `The email belongs to user ${userId}; add that user by userId if they are the person meant.`,
    );
  const data = linksExisting
    ? { orgId: cmd.orgId, userId, roles, pending: true as const }
    : { orgId: cmd.orgId, userId, roles };
  events.push({ type: 'UserAddedToOrg', streamId: membershipStreamId(cmd.orgId, userId), data });
  return events;
}

/**
 * A pending membership takes effect (a platform admin vouches that the account is the person meant).
 * `expectedVersion` (If-Match) ties the confirmation to the membership the admin reviewed: removed and added
 * again with other roles in between, it is a 412 `IAM_ERR_PRECONDITION_FAILED`.
 */
export function decideConfirmMembership(
  state: IdentityState,
  cmd: { orgId: string; userId: string } & OrgUserPrecondition,
): DomainEvent[] {
  requireMembership(state, cmd.orgId, cmd.userId, cmd);
  if (!state.memberships.get(cmd.orgId, cmd.userId)!.pending) return [];
  return [
    {
      type: 'MembershipConfirmed',
      streamId: membershipStreamId(cmd.orgId, cmd.userId),
      data: { orgId: cmd.orgId, userId: cmd.userId },
    },
  ];
}

/**
 * The versions an `If-Match` precondition matched (RFC 9110 section 13.1.1, evaluated by the gateway against
 * the org user's current representation): the write is refused with IAM_ERR_PRECONDITION_FAILED when the
 * membership or the user (whose name and status the org user shows) has changed since.
 */
export interface OrgUserPrecondition {
  /** The membership's version (the org user's `version`). */
  expectedVersion?: number;
  /** The user's version. */
  expectedUserVersion?: number;
}

export interface UpdateOrgUserCommand extends OrgUserPrecondition {
  orgId: string;
  userId: string;
  roles?: unknown;
  /**
   * The new name, with the whole personal record sealed again around it, and the name it replaces (opened
   * by the caller from the user's current record: the model keeps none).
   */
  rename?: { name: string; personal: SealedPersonalData; previousName: string };
}

/**
 * The version of an org user: its membership's own changes, from 1 when the user was added (contract
 * section 1). Changes of the user (name, status) are the user's own and do not count here.
 */
export function orgUserVersion(state: IdentityState, orgId: string, userId: string): number | undefined {
  return state.memberships.get(orgId, userId)?.version;
}

export function decideUpdateOrgUser(state: IdentityState, cmd: UpdateOrgUserCommand): DomainEvent[] {
  const current = requireMembership(state, cmd.orgId, cmd.userId, cmd);
  const checks = new FieldChecks();
  const roles =
    cmd.roles === undefined ? undefined : checks.roles('/roles', cmd.roles, rolesVisibleAt(state, cmd.orgId));
  checks.done('The membership is not valid.');
  const events: DomainEvent[] = [];
  if (roles && roles.join() !== current.roles.join())
    events.push({
      type: 'OrgUserUpdated',
      streamId: membershipStreamId(cmd.orgId, cmd.userId),
      data: { orgId: cmd.orgId, userId: cmd.userId, roles },
    });
  const user = state.users.get(cmd.userId)!;
  if (cmd.rename) {
    if (user.status === 'erased') throw new IamError('IAM_ERR_NOT_FOUND', `User ${cmd.userId} has been erased.`);
    if (cmd.rename.name !== cmd.rename.previousName)
      events.push({
        type: 'UserUpdated',
        streamId: userStreamId(cmd.userId),
        data: { userId: cmd.userId, personal: cmd.rename.personal },
      });
  }
  return events;
}

/**
 * A new name for a user (their global profile), with the whole personal record sealed again around it and
 * the name it replaces (opened by the caller: the model keeps none).
 */
export function decideRenameUser(
  state: IdentityState,
  cmd: {
    userId: string;
    rename?: { name: string; personal: SealedPersonalData; previousName: string };
    expectedVersion?: number;
  },
): DomainEvent[] {
  const user = state.users.get(cmd.userId);
  if (!user || user.status === 'erased') throw new IamError('IAM_ERR_NOT_FOUND', `User ${cmd.userId} does not exist.`);
  checkPrecondition('user', user.version, cmd.expectedVersion);
  if (!cmd.rename || cmd.rename.name === cmd.rename.previousName) return [];
  return [
    {
      type: 'UserUpdated',
      streamId: userStreamId(cmd.userId),
      data: { userId: cmd.userId, personal: cmd.rename.personal },
    },
  ];
}

export function decideRemoveUserFromOrg(
  state: IdentityState,
  cmd: { orgId: string; userId: string } & OrgUserPrecondition,
): DomainEvent[] {
  requireMembership(state, cmd.orgId, cmd.userId, cmd);
  return [
    {
      type: 'UserRemovedFromOrg',
      streamId: membershipStreamId(cmd.orgId, cmd.userId),
      data: { orgId: cmd.orgId, userId: cmd.userId },
    },
  ];
}

export function decideSetUserStatus(
  state: IdentityState,
  cmd: { userId: string; status: 'active' | 'disabled'; expectedVersion?: number },
): DomainEvent[] {
  const user = state.users.get(cmd.userId);
  if (!user || user.status === 'erased') throw new IamError('IAM_ERR_NOT_FOUND', `User ${cmd.userId} does not exist.`);
  checkPrecondition('user', user.version, cmd.expectedVersion);
  if (user.status === cmd.status) return [];
  if (user.platformAdmin && cmd.status === 'disabled')
    throw new IamError('IAM_ERR_FORBIDDEN', 'A platform admin cannot be disabled: that could lock everyone out.');
  const type = cmd.status === 'disabled' ? ('UserDisabled' as const) : ('UserEnabled' as const);
  return [{ type, streamId: userStreamId(cmd.userId), data: { userId: cmd.userId } }];
}

export interface IssueClientCredentialCommand {
  clientCredentialId: string;
  clientId: string;
  name: unknown;
  orgId: string;
  scopes: unknown;
  /** Role ids to hold on `orgId` (optional: none). */
  roles?: unknown;
}

export function decideIssueClientCredential(state: IdentityState, cmd: IssueClientCredentialCommand): DomainEvent[] {
  const checks = new FieldChecks();
  const name = checks.displayName('/name', cmd.name);
  const scopes: Permission[] = checks.scopes('/scopes', cmd.scopes);
  const roles = checks.clientRoles('/roles', cmd.roles ?? [], rolesVisibleAt(state, cmd.orgId));
  // A credential holding nothing could only authenticate: at least one scope or one role.
  const rolesAsked = cmd.roles ?? [];
  if (Array.isArray(cmd.scopes) && cmd.scopes.length === 0 && Array.isArray(rolesAsked) && rolesAsked.length === 0)
    checks.fail(
      '/scopes',
      `must name at least one permission (${PERMISSIONS.join(', ')}) when the client credential has no role`,
    );
  checks.done('The client credential is not valid.');
  requireOrg(state, cmd.orgId);
  return [
    {
      type: 'ClientCredentialIssued',
      streamId: clientStreamId(cmd.clientCredentialId),
      data: {
        clientCredentialId: cmd.clientCredentialId,
        clientId: cmd.clientId,
        name,
        orgId: cmd.orgId,
        scopes,
        roles,
      },
    },
  ];
}

/**
 * Replaces a client credential's roles (held on its organization). No event when the list is unchanged.
 * Errors: IAM_ERR_NOT_FOUND (no such credential), IAM_ERR_PRECONDITION (If-Match), IAM_ERR_VALIDATION
 * (unknown or invisible role id).
 */
export function decideChangeClientRoles(
  state: IdentityState,
  cmd: { clientCredentialId: string; roles: unknown; expectedVersion?: number },
): DomainEvent[] {
  const client = state.memberships.client(cmd.clientCredentialId);
  if (!client) throw new IamError('IAM_ERR_NOT_FOUND', `Client credential ${cmd.clientCredentialId} does not exist.`);
  checkPrecondition('client credential', client.version, cmd.expectedVersion);
  const checks = new FieldChecks();
  const roles = checks.clientRoles('/roles', cmd.roles, rolesVisibleAt(state, client.orgId));
  if (Array.isArray(cmd.roles) && cmd.roles.length === 0 && client.scopeless)
    checks.fail('/roles', 'must name at least one role: the client credential has no scopes');
  checks.done('The client credential is not valid.');
  if (roles.join() === client.roles.join()) return [];
  return [
    {
      type: 'ClientCredentialRolesChanged',
      streamId: clientStreamId(cmd.clientCredentialId),
      data: { clientCredentialId: cmd.clientCredentialId, clientId: client.clientId, orgId: client.orgId, roles },
    },
  ];
}

export function decideRevokeClientCredential(
  state: IdentityState,
  cmd: { clientCredentialId: string; expectedVersion?: number },
): DomainEvent[] {
  const client = state.memberships.client(cmd.clientCredentialId);
  if (!client) throw new IamError('IAM_ERR_NOT_FOUND', `Client credential ${cmd.clientCredentialId} does not exist.`);
  checkPrecondition('client credential', client.version, cmd.expectedVersion);
  return [
    {
      type: 'ClientCredentialRevoked',
      streamId: clientStreamId(cmd.clientCredentialId),
      data: { clientCredentialId: cmd.clientCredentialId, clientId: client.clientId, orgId: client.orgId },
    },
  ];
}

function requireOrg(state: IdentityState, orgId: string): void {
  if (!state.orgs.get(orgId)) throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
}

function requireMembership(
  state: IdentityState,
  orgId: string,
  userId: string,
  precondition: OrgUserPrecondition,
): { roles: Role[] } {
  const membership = state.memberships.get(orgId, userId);
  if (!membership) throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} is not a direct member of ${orgId}.`);
  checkPrecondition('org user', membership.version, precondition.expectedVersion);
  checkPrecondition("org user's user", state.users.get(userId)?.version ?? 0, precondition.expectedUserVersion);
  return membership;
}

/** The role definitions a membership of `orgId` may hold. */
function rolesVisibleAt(state: IdentityState, orgId: string) {
  return (state.roles ?? BUILT_IN_ROLE_CATALOG).visibleAt(orgId);
}

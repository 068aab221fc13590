import type { Role } from '@arbor/domain';
import type { OrgView, ReadModels } from '../ports/read-models';

/** The least the policy needs to know of an organization. */
export interface OrgRef {
  id: string;
  /** null for a root. */
  parentId: string | null;
}

/**
 * What the access policy reads to decide (contract section 4). Two sources implement it: the read models,
 * for queries at the gateway, and the command model, for commands inside the command service's write
 * transaction (so a command is authorized against exactly the state it is decided on). `Org` is what
 * `org()` returns there (a read-model view or a command-model node), handed back to callers of the policy.
 */
export interface AccessFacts<Org extends OrgRef = OrgRef> {
  /** The organization, or undefined when it does not exist. */
  org(orgId: string): Promise<Org | undefined>;
  /** Its ancestors' ids, root first, the direct parent last; empty for a root or an unknown id. */
  ancestorIds(orgId: string): Promise<string[]>;
  /** Roles the user holds on `orgId` through a confirmed direct membership there or on any ancestor. */
  effectiveRoles(userId: string, orgId: string): Promise<Role[]>;
  /** The user's confirmed direct memberships (organization and roles), in no particular order. */
  membershipRoots(userId: string): Promise<Array<{ orgId: string; roles: Role[] }>>;
  /** The roles of one direct membership (pending or not), or undefined when there is none. */
  directRoles(orgId: string, userId: string): Promise<Role[] | undefined>;
  /** Whether that membership is pending (it links an account its adder could not see; it grants nothing). */
  isPendingMember(orgId: string, userId: string): Promise<boolean>;
  /** The organization of a client credential (by its resource id), or undefined when it does not exist. */
  clientOrg(clientCredentialId: string): Promise<string | undefined>;
  /** The role ids a client credential holds on its organization, or undefined when it does not exist. */
  clientRoles(clientCredentialId: string): Promise<readonly Role[] | undefined>;
  /** Whether the user is a platform admin (false for unknown users). */
  isPlatformAdminUser(userId: string): Promise<boolean>;
  /**
   * The names of the application permissions visible at `orgId` (defined there or above it), which an
   * owner-level role holds there (design13). Required, so that every source of facts (the read models, the
   * command model, one request's memo) must say, and none silently grants owners fewer permissions.
   */
  applicationPermissionsAt(orgId: string): Promise<string[]>;
  /**
   * The organization of a webhook subscription, or undefined when it does not exist (issue 14 item 6). Optional:
   * the command model answers it for the webhook commands; the gateway reads the subscriptions itself.
   */
  webhookOrg?(subscriptionId: string): Promise<string | undefined>;
}

/** The gateway's facts: the read models, which every query reads anyway. */
export function readModelAccessFacts(readModels: ReadModels): AccessFacts<OrgView> {
  return {
    org: (orgId) => readModels.orgs.get(orgId),
    ancestorIds: (orgId) => readModels.orgs.ancestorIds(orgId),
    effectiveRoles: (userId, orgId) => readModels.memberships.effectiveRoles(userId, orgId),
    membershipRoots: (userId) => readModels.memberships.membershipRoots(userId),
    directRoles: async (orgId, userId) =>
      (await readModels.memberships.get(orgId, userId, { includePending: true }))?.roles,
    isPendingMember: async (orgId, userId) =>
      (await readModels.memberships.get(orgId, userId, { includePending: true }))?.pending === true,
    clientOrg: async (id) => (await readModels.clients.get(id))?.orgId,
    clientRoles: async (id) => (await readModels.clients.get(id))?.roles,
    isPlatformAdminUser: async (userId) => (await readModels.users.get(userId))?.platformAdmin === true,
    applicationPermissionsAt: async (orgId) => (await readModels.roles.permissionsVisibleAt(orgId)).map((p) => p.name),
  };
}

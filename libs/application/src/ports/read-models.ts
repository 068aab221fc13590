import type { Role, StoredEvent } from '@arbor/domain';
import type { HistoryQueries } from './history-queries';
import type { WebhookSubscriptionQueries, WebhookSubscriptionView } from './webhooks';

export interface OrgView {
  id: string;
  name: string;
  parentId: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  depth: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface UserView {
  id: string;
  email: string | null;
  name: string | null;
  status: 'active' | 'disabled' | 'erased';
  platformAdmin: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
  /**
   * When the user's sessions were last ended (ISO 8601): by disabling the user, or by a password set or
   * changed; null if never. No token or refresh token of a session that began before this instant is
   * accepted again, even once the user is enabled (contract section 6), except `keptSessionId`'s. Not public.
   */
  sessionsNotBefore: string | null;
  /**
   * The one session (`sid`, a refresh-token family id) that outlives `sessionsNotBefore`: the session in
   * which the user last changed their own password. Cleared when sessions end otherwise. Not public.
   */
  keptSessionId: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** Opaque cursor from a previous page; an adapter rejects a malformed one with IAM_ERR_VALIDATION. */
  cursor?: string;
}

export interface OrgListFilter {
  parentId?: string | null;
  /** Case-insensitive "name contains". */
  q?: string;
  /**
   * Only these organizations and what lies below them, together with `withinOrgs`; both undefined means
   * everything (platform admins).
   */
  withinSubtreesOf?: string[];
  /**
   * Only these single organizations (not what lies below them), together with `withinSubtreesOf`: where the
   * caller holds the permission through an organization-reach role (AccessPolicy.listScopeWith).
   */
  withinOrgs?: string[];
}

export interface OrgQueries {
  get(id: string): Promise<OrgView | undefined>;
  list(filter: OrgListFilter, page: PageRequest): Promise<Page<OrgView>>;
  /** Descendants at most `maxDepth` levels below (null: all), ordered by depth, then name, then id. */
  children(id: string, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>>;
  /** Ancestors, root first, the direct parent last. */
  parents(id: string): Promise<OrgView[]>;
  /**
   * The ids of `parents(id)`, in the same order, without reading the organizations themselves ([] for a root or an
   * unknown id): what authorization and the sign-in audit need of a lineage.
   */
  ancestorIds(id: string): Promise<string[]>;
}

export interface UserListFilter {
  /** Case-insensitive "email or name contains". */
  q?: string;
  /** Exact email, compared case-insensitively. */
  email?: string;
  /**
   * Only users with a confirmed membership in one of these organizations or anything below them; undefined
   * means every user (platform admins), when `withinOrgs` is undefined too.
   */
  withinSubtreesOf?: string[];
  /**
   * Also (the union with `withinSubtreesOf`) users with a confirmed membership on one of these single
   * organizations (AccessPolicy.listScopeWith: where the caller holds the permission through an
   * organization-reach role).
   */
  withinOrgs?: string[];
}

export interface UserQueries {
  get(id: string): Promise<UserView | undefined>;
  /** By email, compared case-insensitively. */
  findByEmail(email: string): Promise<UserView | undefined>;
  /** Ordered by id; keyset pagination. Erased users (no email, no name) match no `q` or `email`. */
  list(filter: UserListFilter, page: PageRequest): Promise<Page<UserView>>;
}

/** A direct membership joined with its user: the "org user" of contract section 6. */
export interface OrgUserView {
  orgId: string;
  userId: string;
  email: string | null;
  name: string | null;
  status: UserView['status'];
  roles: Role[];
  addedAt: string;
  /**
   * The membership's own version: 1 when the user is added (again, after a removal), then one more for each
   * change of the membership (its roles; a pending membership's renewal or confirmation). A change of the
   * user (name, status) does not count here: it is the user's (`userVersion`).
   */
  version: number;
  /** The user's version, for the org user's preconditions (the name and status shown are the user's). Not public. */
  userVersion: number;
  /**
   * A membership linking an account its adder could not see: it grants nothing until confirmed, and the
   * queries leave it out unless asked (contract section 6). Not part of the public org user.
   */
  pending: boolean;
}

export interface UserMembershipView {
  orgId: string;
  orgName: string;
  roles: Role[];
  addedAt: string;
  /** Only ever true in a user's view of their own memberships (`includePending`). */
  pending: boolean;
}

/**
 * Memberships. Pending ones (see OrgUserView.pending) count for nothing: no query returns them, no role or
 * visibility comes from them, unless a query is asked for them by name.
 */
export interface MembershipQueries {
  /** A direct membership only (no inheritance); a pending one only with `includePending`. */
  get(orgId: string, userId: string, options?: { includePending?: boolean }): Promise<OrgUserView | undefined>;
  /**
   * Direct members, ordered by user id; `role` keeps members holding it, `q` matches email or name;
   * `pending: true` lists the pending memberships instead of the confirmed ones.
   */
  listByOrg(
    orgId: string,
    filter: { role?: Role; q?: string; pending?: boolean },
    page: PageRequest,
  ): Promise<Page<OrgUserView>>;
  /**
   * The user's direct memberships, ordered by organization id; optionally only inside some subtrees
   * (`withinSubtreesOf`) and on some single organizations (`withinOrgs`), the union of the two; the pending ones
   * too with `includePending` (the user's own view, unscoped).
   */
  listByUser(
    userId: string,
    filter: { withinSubtreesOf?: string[]; withinOrgs?: string[]; includePending?: boolean },
  ): Promise<UserMembershipView[]>;
  /**
   * Roles the user holds on `orgId` through a confirmed membership on it or on any ancestor (inheritance),
   * from the precomputed closure: one indexed lookup, no recursive walk. Empty when none.
   */
  effectiveRoles(userId: string, orgId: string): Promise<Role[]>;
  /** Organizations where the user has a confirmed direct membership: the roots of what the user may see. */
  membershipRoots(userId: string): Promise<Array<{ orgId: string; roles: Role[] }>>;
  /**
   * What access questions about users on organizations need (AuthZEN evaluations, issue 13), one entry per
   * pair and in their order, read together from one state of the read models, so a batch of evaluations costs
   * one read (the SQLite adapter: one statement per 100 pairs, and one more per question about a user with
   * over 16 confirmed direct memberships): whether `orgId` exists, the user (undefined when unknown), and effectiveRoles(userId, orgId).
   * `userId` null asks about the organization alone (`user` undefined, `roles` empty).
   */
  accessQuestions(pairs: ReadonlyArray<AccessQuestionKey>): Promise<AccessQuestionFacts[]>;
}

/** One (user, organization) pair of MembershipQueries.accessQuestions. */
export interface AccessQuestionKey {
  userId: string | null;
  orgId: string;
}

/** The answer for one AccessQuestionKey. */
export interface AccessQuestionFacts {
  /** The organization (id, parent: null for a root), or undefined when it does not exist. */
  org: { id: string; parentId: string | null } | undefined;
  /** The user's status and platform-admin flag, or undefined when unknown (or `userId` null). */
  user: { status: UserView['status']; platformAdmin: boolean } | undefined;
  /** Exactly what effectiveRoles(userId, orgId) returns; empty for a null user. */
  roles: Role[];
}

/**
 * The event that last set a grant's roles: its id and log position (the explanation of an access decision
 * names it, issue 13 item 4).
 */
export interface RolesGrantedBy {
  eventId: string;
  position: number;
}

export interface ClientView {
  id: string;
  clientId: string;
  name: string;
  orgId: string;
  scopes: string[];
  /** Role ids held on `orgId` (a subtree-reach role applies below it too); `[]` for none. */
  roles: string[];
  /** The event (`ClientCredentialIssued` or `ClientCredentialRolesChanged`) that set `roles`; null when `roles` is empty. */
  rolesGrantedBy: RolesGrantedBy | null;
  createdAt: string;
  version: number;
}

export interface ClientQueries {
  get(id: string): Promise<ClientView | undefined>;
  getByClientId(clientId: string): Promise<ClientView | undefined>;
  /**
   * Ordered by id; `orgId` keeps that organization's clients only; `withinSubtreesOf` and `withinOrgs` restrict
   * as for orgs (the union of the two; the clients of those organizations).
   */
  list(
    filter: { orgId?: string; withinSubtreesOf?: string[]; withinOrgs?: string[] },
    page: PageRequest,
  ): Promise<Page<ClientView>>;
}

/**
 * The read side of the access decision searches (AuthZEN search/resource and search/subject, contract
 * "Access decisions"). Every method returns at most `limit` distinct ids greater than `afterId` ('' for
 * the first page), ascending in code-unit order (both engines order ids bytewise), so a caller pages with
 * the last id returned as a keyset: no page repeats an id of an earlier page, whatever changes in between,
 * and an id present throughout appears exactly once. Each costs index range scans of at most about `limit`
 * rows per root or grant, never the whole result: a page deep in the result is no slower than the first.
 */
export interface AccessSearchQueries {
  /**
   * Organizations that are one of `scope.subtreeRoots` or lie below one, or are one of `scope.orgIds`;
   * `'all'` is every organization. Unknown ids contribute nothing.
   */
  orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    afterId: string,
    limit: number,
  ): Promise<string[]>;
  /**
   * Active users (status `active`) holding a confirmed direct membership on one of the grants' organizations
   * with at least one of that grant's roles, and, with `platformAdmins`, every active platform admin.
   */
  userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    afterId: string,
    limit: number,
  ): Promise<string[]>;
  /**
   * Client credentials of one of `orgIds` whose scopes include `scope`, and (design13: in access decisions a
   * client holds its scopes and its roles) those holding one of a role grant's roles on that grant's
   * organization (`roleGrants`, none when absent), ordered by their resource id (`id`, the keyset), each once,
   * returned with their `client_id`.
   */
  clientsAfter(
    orgIds: readonly string[],
    scope: string,
    afterId: string,
    limit: number,
    roleGrants?: ReadonlyArray<{ orgId: string; roles: readonly string[] }>,
  ): Promise<Array<{ id: string; clientId: string }>>;
}

/**
 * A custom role as the read models hold it (issue 13, contract section 4.1): the definition of its latest
 * `RoleDefined`/`RoleUpdated` event, on the organization that defines it.
 */
export interface RoleView {
  /** `role_<ulid>`. */
  id: string;
  /** The defining organization: the role may be held there and anywhere below it. */
  orgId: string;
  name: string;
  description: string;
  /** Built-in and application permissions, in the order the event gave them. */
  permissions: string[];
  appliesTo: 'subtree' | 'organization';
  createdAt: string;
  updatedAt: string;
  /** The role stream's version (`role-<id>`): its ETag. */
  version: number;
}

/** An application permission as the read models hold it (issue 13, contract section 4.1). */
export interface ApplicationPermissionView {
  /** E.g. `billing:invoices:approve`; unique within its tree. */
  name: string;
  /** The defining organization: visible there and anywhere below it. */
  orgId: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  /** The permission stream's version (`permission-<orgId>-<name>`): its ETag. */
  version: number;
}

/**
 * Custom role and application permission definitions. Definitions are few per organization (the domain caps
 * them), so lists are whole, not paged. "Visible at O" means defined on O or on one of its ancestors (the
 * closure table: one indexed lookup), ordered root first (by the defining organization's depth), then by id
 * (roles) or name (permissions).
 */
export interface RoleQueries {
  get(roleId: string): Promise<RoleView | undefined>;
  /** The custom roles defined on `orgId` or above it; empty for an unknown organization. */
  visibleAt(orgId: string): Promise<RoleView[]>;
  /** The application permission `name` defined on `orgId` itself. */
  permission(orgId: string, name: string): Promise<ApplicationPermissionView | undefined>;
  /** The application permissions defined on `orgId` or above it; empty for an unknown organization. */
  permissionsVisibleAt(orgId: string): Promise<ApplicationPermissionView[]>;
  /**
   * Every application permission named `name`, one per tree at most (names are unique within a tree), ordered
   * by defining organization id: where an owner-level role holds it (the access searches, design13).
   */
  permissionsNamed(name: string): Promise<ApplicationPermissionView[]>;
  /** Every custom role, ordered by id (the gateway's RoleCatalog loads them). */
  all(): Promise<RoleView[]>;
  /**
   * The log position of the last role event applied (0 for none): the gateway's catalog reloads `all()` only
   * when this moved. Application-permission events do not move it (they change no role's grants).
   */
  catalogPosition(): Promise<number>;
}

/**
 * WebhookSubscriptionQueries and the management API's list of one organization's own subscriptions (not those
 * of organizations below it), in id order (creation order), keyset-paged.
 */
export interface WebhookReadQueries extends WebhookSubscriptionQueries {
  listByOrg(orgId: string, page: PageRequest): Promise<Page<WebhookSubscriptionView>>;
}

/** Personal data as the projector hands it over, opened; null when its key has been destroyed. */
export interface PersonalData {
  email: string;
  name: string;
}

/** An event on its way into the read models, with any sealed personal data already opened. */
export interface ProjectableEvent extends StoredEvent {
  personal?: PersonalData | null;
}

/**
 * The read side. Invariants every adapter keeps:
 * - `apply` writes a batch and the new checkpoint in one transaction, and skips events at or below the
 *   checkpoint, so an event applied twice changes nothing;
 * - queries read only these tables, never the event log.
 */
export interface ReadModels {
  orgs: OrgQueries;
  users: UserQueries;
  memberships: MembershipQueries;
  clients: ClientQueries;
  search: AccessSearchQueries;
  /** Custom roles and application permissions (issue 13). */
  roles: RoleQueries;
  /** The same read models as they were at a past log position (issue 14, point in time). */
  history: HistoryQueries;
  /** Webhook subscriptions (issue 14 item 6): the dispatcher's list and the management API's reads. */
  webhooks: WebhookReadQueries;
  checkpoint(): Promise<number>;
  apply(events: ProjectableEvent[]): Promise<number>;
  /** Drops every read model and the checkpoint, ready for a rebuild from position 0. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

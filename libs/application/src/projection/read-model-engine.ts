import type { RolesGrantedBy } from '../ports/read-models';
import type { WebhookSubscriptionView } from '../ports/webhooks';
import type { Role } from '@arbor/domain';

/**
 * A value now (a synchronous engine: SQLite through better-sqlite3) or later (an asynchronous one:
 * PostgreSQL through node-postgres). The shared projection (`projectEventSync` / `projectEventAsync`) is
 * written once over both.
 */
export type Step<T> = T | Promise<T>;

/** An organization row as `OrgCreated` makes it. Times are the event's `occurredAt` (ISO 8601 text). */
export interface NewOrgRow {
  id: string;
  name: string;
  /** `nameKey(name)`: what sibling-name ordering and uniqueness compare. */
  nameKey: string;
  parentId: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  at: string;
  /** The organization stream's version: the org's ETag. */
  version: number;
}

/** What `OrgUpdated` replaces (name, its key, description, metadata) and the new `updated_at`/version. */
export interface OrgChange {
  id: string;
  name: string;
  nameKey: string;
  description: string | null;
  metadata: Record<string, unknown>;
  at: string;
  version: number;
}

/** Opened personal data and the case-folded keys that searches and the email lookup compare. */
export interface PersonalColumns {
  email: string;
  emailKey: string;
  name: string;
  nameKey: string;
}

/** A user row as `UserCreated` makes it; `personal` null means its key is gone (the user is erased). */
export interface NewUserRow {
  id: string;
  personal: PersonalColumns | null;
  status: 'active' | 'erased';
  platformAdmin: boolean;
  at: string;
  version: number;
}

/**
 * A status change; `endSessions` true also sets `sessions_not_before = at` and clears the kept session. `erased`
 * is for good: no later change leaves it.
 */
export interface UserStatusChange {
  id: string;
  status: 'active' | 'disabled' | 'erased';
  endSessions: boolean;
  at: string;
  version: number;
}

/** A membership as `UserAddedToOrg` makes (or makes again) it. */
export interface MembershipRow {
  orgId: string;
  userId: string;
  roles: Role[];
  at: string;
  pending: boolean;
}

/** A client credential row (the secret's hash lives in the vault, never here). */
export interface ClientRow {
  id: string;
  clientId: string;
  name: string;
  orgId: string;
  scopes: string[];
  /** Role ids held on `orgId` (issue 13). */
  roles: string[];
  /** The event that last set non-empty `roles`; null while the client holds none. */
  rolesGrantedBy: RolesGrantedBy | null;
  at: string;
  version: number;
}

/**
 * A custom role as `RoleDefined`/`RoleUpdated` leave it (issue 13). `at` is the event's `occurredAt`: the row's
 * `updated_at`, and its `created_at` when the row is new (an existing row keeps its `created_at`).
 */
export interface RoleRow {
  id: string;
  orgId: string;
  name: string;
  description: string;
  permissions: string[];
  appliesTo: 'subtree' | 'organization';
  at: string;
  /** The role stream's version: its ETag. */
  version: number;
}

/** An application permission as `ApplicationPermissionDefined`/`Updated` leave it; `at` as for RoleRow. */
export interface ApplicationPermissionRow {
  orgId: string;
  name: string;
  description: string;
  at: string;
  version: number;
}

/**
 * A row of the temporal read model (HistoryQueries), by its key: the present row it versions is the organization,
 * membership, user, client credential, custom role or application permission with that key.
 */
export type VersionedRow =
  | { kind: 'org'; orgId: string }
  | { kind: 'membership'; orgId: string; userId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'client'; id: string }
  | { kind: 'role'; roleId: string }
  | { kind: 'permission'; orgId: string; name: string };

/** `validTo` of a version still valid (the largest safe integer: no log position reaches it). */
export const OPEN_VERSION = Number.MAX_SAFE_INTEGER;

/**
 * The primitives one storage engine supplies to the shared read-model projection: each one changes rows
 * of one read model (or the closure table), keyed by id, inside the caller's transaction. Which primitives
 * run, in which order and with which arguments for each event is decided once, in `read-model-projection.ts`;
 * an engine only stores. Rules an engine keeps because they depend on the stored row (so that deciding them
 * in the shared part would cost a read per event):
 *
 * - Idempotence: inserts keep an existing row (`createOrg`, `insertUser`), upserts replace it; applying an
 *   event twice leaves the same rows.
 * - An erased user stays erased: `setUserStatus` to `erased` is for good, no later status change revives it.
 * - A membership's version (its ETag) starts at 1 and grows by one on every change (`upsertMembership`,
 *   `confirmMembership`, `setMembershipRoles`).
 * - Closure table: one link (ancestor, descendant, distance, the descendant's name key) per pair, the self
 *   pair (distance 0) included. `depth` of an organization is its distance from its root.
 *
 * Engines without SQL (a later MongoDB adapter) implement the same list; nothing here names a table.
 */
export interface ReadModelEngine {
  /** The stored depth of an organization, undefined when it has no row. */
  orgDepth(orgId: string): Step<number | undefined>;
  /**
   * Inserts the organization at depth one below its parent's row (0 for a root) and its closure links: the
   * self link and one from each ancestor of the parent (the parent included), one step further. Rows that
   * already exist are kept.
   */
  createOrg(org: NewOrgRow): Step<void>;
  /** Updates the row and the name key on every closure link to the organization. */
  updateOrg(change: OrgChange): Step<void>;
  /** Deletes the links from the organization's strict ancestors to any node of its subtree (inner links stay). */
  unlinkSubtree(orgId: string): Step<void>;
  /** Links every ancestor of `parentId` (itself included) to every node of the subtree, replacing clashes. */
  linkSubtree(orgId: string, parentId: string): Step<void>;
  /** Adds `delta` (a whole number, never 0) to the depth of every node of the subtree. */
  shiftSubtreeDepth(orgId: string, delta: number): Step<void>;
  /** Sets `parent_id` (null for a root), `updated_at` and the version. */
  setParent(orgId: string, parentId: string | null, at: string, version: number): Step<void>;
  /** Deletes the organization's row and every closure link to or from it. */
  deleteOrg(orgId: string): Step<void>;
  /** Deletes the memberships, client credentials and webhook subscriptions of an organization. */
  deleteOrgAccess(orgId: string): Step<void>;

  insertUser(user: NewUserRow): Step<void>;
  /** Replaces the personal data whole; null clears it (its key is gone). The status is left alone. */
  setPersonalData(userId: string, personal: PersonalColumns | null, at: string, version: number): Step<void>;
  /** A status change that leaves an erased user erased. */
  setUserStatus(change: UserStatusChange): Step<void>;
  /** Sessions begun before `at` end, but `keptSessionId` (null: none is kept). */
  endSessions(userId: string, at: string, keptSessionId: string | null, version: number): Step<void>;

  upsertMembership(membership: MembershipRow): Step<void>;
  confirmMembership(orgId: string, userId: string): Step<void>;
  setMembershipRoles(orgId: string, userId: string, roles: Role[]): Step<void>;
  deleteMembership(orgId: string, userId: string): Step<void>;

  /** Inserts or replaces the credential, also replacing any other row holding the same `clientId`. */
  putClient(client: ClientRow): Step<void>;
  deleteClient(id: string): Step<void>;
  /** Replaces a client's roles (and what granted them) and its version; no row, no change. */
  setClientRoles(id: string, roles: string[], rolesGrantedBy: RolesGrantedBy | null, version: number): Step<void>;

  /** Inserts or replaces the role's definition, keeping `created_at` of an existing row. */
  putRole(role: RoleRow): Step<void>;
  deleteRole(roleId: string): Step<void>;
  /** Inserts or replaces the permission (keyed by organization and name), keeping an existing `created_at`. */
  putApplicationPermission(permission: ApplicationPermissionRow): Step<void>;
  deleteApplicationPermission(orgId: string, name: string): Step<void>;
  /** Deletes the roles and application permissions defined on an organization (a backstop of OrgDeleted). */
  deleteOrgDefinitions(orgId: string): Step<void>;
  /**
   * Records `position` as the role catalog's position (RoleQueries.catalogPosition), in the same transaction
   * as the role change it follows.
   */
  setRoleCatalogPosition(position: number): Step<void>;
  /** The webhook subscription's row (issue 14 item 6), undefined when it has none. */
  webhookSubscription(subscriptionId: string): Step<WebhookSubscriptionView | undefined>;
  /** Inserts or replaces the subscription's row whole. */
  putWebhookSubscription(row: WebhookSubscriptionView): Step<void>;
  deleteWebhookSubscription(subscriptionId: string): Step<void>;

  /**
   * The temporal read model: ends the row's open version at `position` (its `validTo`; OPEN_VERSION while open)
   * and, when the present row exists, opens a new one from `position` holding a copy of it. Runs after the event's
   * other steps, so it copies the row as the event left it. A version whose `validFrom` equals `position` already
   * (the event applied again) is replaced, so a repeated event leaves the same versions.
   */
  recordVersion(row: VersionedRow, position: number): Step<void>;
  /**
   * Ends at `position` every open version of a membership, client credential, custom role or application
   * permission of the organization (OrgDeleted's backstop deleted their present rows).
   */
  endOrgVersions(orgId: string, position: number): Step<void>;
}

/** `ReadModelEngine` with every primitive synchronous, as SQLite's. */
export type SyncReadModelEngine = {
  [K in keyof ReadModelEngine]: (...args: Parameters<ReadModelEngine[K]>) => Awaited<ReturnType<ReadModelEngine[K]>>;
};

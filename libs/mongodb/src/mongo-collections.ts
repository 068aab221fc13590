import type { Collection, Db, Document, IndexDescription } from 'mongodb';

/**
 * The documents of the MongoDB read models, one collection each. Field names are camelCase; `_id` is the
 * row's key. Ids and keys never hold U+0000 (FerretDB stores documents in PostgreSQL jsonb, which cannot): the
 * queries answer "nothing" for such a value instead of sending it.
 */

/**
 * An organization. `ancestors` lists its ancestors root first, the direct parent last (the closure table of
 * the SQL adapters, as one array): "everything below O" is `{ancestors: O}`, "the parents of O" are the
 * documents whose `_id` is in O's array. `depth` is the distance from its root, the array's length, except
 * after the backstop of a deleted middle organization (see `MongoReadModelEngine.deleteOrg`), where it stays
 * what it was, as the SQL adapters' closure distances do.
 */
export interface OrgDoc {
  _id: string;
  name: string;
  /** `nameKey(name)`: sibling ordering and the `q` filter compare it. */
  nameKey: string;
  parentId: string | null;
  description: string | null;
  /** The metadata as JSON text: its keys are the client's and may hold `$` or `.`, which field names may not. */
  metadata: string;
  ancestors: string[];
  depth: number;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** The log position of the last event that wrote it (see `recordVersion` in mongo-versions.ts). */
  position: number;
}

export interface UserDoc {
  _id: string;
  email: string | null;
  /** `caselessKey(email)`; null for an erased user, so no `q` or `email` filter matches it. */
  emailKey: string | null;
  name: string | null;
  nameKey: string | null;
  status: 'active' | 'disabled' | 'erased';
  platformAdmin: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
  sessionsNotBefore: string | null;
  keptSessionId: string | null;
  /** The log position of the last event that wrote it (see `recordVersion` in mongo-versions.ts). */
  position: number;
}

/**
 * A direct membership. `_id` is `membershipId(orgId, userId)`. `position` is the log position of the last event
 * applied to it: `version` grows by one per change, which is not idempotent, so every write of a membership
 * is conditional on `position` being below the event's (a batch re-applied after a crash skips it).
 */
export interface MembershipDoc {
  _id: string;
  orgId: string;
  userId: string;
  roles: string[];
  addedAt: string;
  version: number;
  pending: boolean;
  position: number;
}

export interface ClientDoc {
  _id: string;
  clientId: string;
  name: string;
  orgId: string;
  scopes: string[];
  roles: string[];
  rolesGrantedBy: { eventId: string; position: number } | null;
  createdAt: string;
  version: number;
  /** The log position of the last event that wrote it (see `recordVersion` in mongo-versions.ts). */
  position: number;
}

/** A custom role: its latest definition, on the organization that defines it. */
export interface RoleDoc {
  _id: string;
  orgId: string;
  name: string;
  description: string;
  permissions: string[];
  appliesTo: 'subtree' | 'organization';
  createdAt: string;
  updatedAt: string;
  version: number;
  /** The log position of the last event that wrote it (see `recordVersion` in mongo-versions.ts). */
  position: number;
}

/** An application permission; `_id` is `pairId(orgId, name)`. */
export interface PermissionDoc {
  _id: string;
  orgId: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** The log position of the last event that wrote it (see `recordVersion` in mongo-versions.ts). */
  position: number;
}

/** A webhook subscription (WebhookSubscriptionView, keyed by its subscription id). */
export interface WebhookDoc {
  _id: string;
  orgId: string;
  url: string;
  eventTypes: string[];
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  createdPosition: number;
  replay: { fromPosition: number; requestedPosition: number } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/**
 * What every version of the temporal read model holds (HistoryQueries): the present document's key (`_id`) and the
 * half-open range of log positions `[validFrom, validTo)` over which it was the present; `_id` is
 * `pairId(key, String(validFrom))`. The rest is a copy of the present document's fields then (without its
 * ancestors, depth and position: the past tree is walked through `parentId`).
 */
export interface VersionKeys {
  _id: string;
  key: string;
  validFrom: number;
  validTo: number;
}

type Copied<T> = Omit<T, '_id' | 'position' | 'ancestors' | 'depth'> & VersionKeys;
export type OrgVersionDoc = Copied<OrgDoc>;
export type UserVersionDoc = Copied<UserDoc>;
export type MembershipVersionDoc = Copied<MembershipDoc>;
export type ClientVersionDoc = Copied<ClientDoc>;
export type RoleVersionDoc = Copied<RoleDoc>;
export type PermissionVersionDoc = Copied<PermissionDoc>;

/** A position kept by name: the projector's checkpoint (`PROJECTOR_CHECKPOINT`) and the role catalog's. */
export interface CheckpointDoc {
  _id: string;
  position: number;
}

export const PROJECTOR_CHECKPOINT = 'projector';
export const ROLE_CATALOG_CHECKPOINT = 'role-catalog';

/** A key of two parts (a membership's, a permission's): JSON keeps them apart whatever they contain. */
export const pairId = (first: string, second: string): string => JSON.stringify([first, second]);

/** A membership's key. */
export const membershipId = (orgId: string, userId: string): string => pairId(orgId, userId);

/** The read models' collections of one database. */
export class ReadModelCollections {
  readonly orgs: Collection<OrgDoc>;
  readonly users: Collection<UserDoc>;
  readonly memberships: Collection<MembershipDoc>;
  readonly clients: Collection<ClientDoc>;
  readonly roles: Collection<RoleDoc>;
  readonly permissions: Collection<PermissionDoc>;
  readonly webhooks: Collection<WebhookDoc>;
  readonly checkpoints: Collection<CheckpointDoc>;
  readonly orgVersions: Collection<OrgVersionDoc>;
  readonly userVersions: Collection<UserVersionDoc>;
  readonly membershipVersions: Collection<MembershipVersionDoc>;
  readonly clientVersions: Collection<ClientVersionDoc>;
  readonly roleVersions: Collection<RoleVersionDoc>;
  readonly permissionVersions: Collection<PermissionVersionDoc>;

  constructor(readonly db: Db) {
    this.orgs = db.collection<OrgDoc>('orgs');
    this.users = db.collection<UserDoc>('users');
    this.memberships = db.collection<MembershipDoc>('memberships');
    this.clients = db.collection<ClientDoc>('clients');
    this.roles = db.collection<RoleDoc>('roles');
    this.permissions = db.collection<PermissionDoc>('application_permissions');
    this.webhooks = db.collection<WebhookDoc>('webhook_subscriptions');
    this.checkpoints = db.collection<CheckpointDoc>('checkpoints');
    this.orgVersions = db.collection<OrgVersionDoc>('org_versions');
    this.userVersions = db.collection<UserVersionDoc>('user_versions');
    this.membershipVersions = db.collection<MembershipVersionDoc>('membership_versions');
    this.clientVersions = db.collection<ClientVersionDoc>('client_versions');
    this.roleVersions = db.collection<RoleVersionDoc>('role_versions');
    this.permissionVersions = db.collection<PermissionVersionDoc>('application_permission_versions');
  }

  /** Every collection `reset()` empties, the checkpoints first (see `MongoReadModels.reset`). */
  all(): Array<Collection<Document>> {
    return [
      this.checkpoints,
      this.orgs,
      this.users,
      this.memberships,
      this.clients,
      this.roles,
      this.permissions,
      this.webhooks,
      this.orgVersions,
      this.userVersions,
      this.membershipVersions,
      this.clientVersions,
      this.roleVersions,
      this.permissionVersions,
    ] as unknown as Array<Collection<Document>>;
  }
}

/**
 * The indexes, created if absent (see `createIndexes`):
 * - `orgs_subtree` {ancestors, depth, nameKey, _id}: children-with-depth (a descendant's distance from O is its
 *   depth minus O's) and "everything below" are one range of it, in the order `children` returns;
 * - `orgs_parent` {parentId, _id}: `list({parentId})` in id order; parents are read by `_id`;
 * - `users_email` {emailKey}; memberships by organization {orgId, userId} and by user {userId, orgId};
 * - `clients_client_id` (unique) and `clients_org` {orgId, _id};
 * - definitions by organization (`roles_org`, `permissions_org`; "visible at O" reads O's array's), permissions
 *   by name (`permissions_name`), webhook subscriptions by organization (`webhooks_org`);
 * - versions by key and `validFrom`, and by what the past queries look up: an organization's children then
 *   (`parentId`), an organization's or a user's memberships then, a client by `clientId`, permissions by name.
 */
type Indexed =
  | 'orgs'
  | 'users'
  | 'memberships'
  | 'clients'
  | 'roles'
  | 'permissions'
  | 'webhooks'
  | 'orgVersions'
  | 'userVersions'
  | 'membershipVersions'
  | 'clientVersions'
  | 'roleVersions'
  | 'permissionVersions';
const byKey: IndexDescription = { name: 'versions_key', key: { key: 1, validFrom: 1 } };
const INDEXES: Array<[Indexed, IndexDescription[]]> = [
  [
    'orgs',
    [
      { name: 'orgs_subtree', key: { ancestors: 1, depth: 1, nameKey: 1, _id: 1 } },
      { name: 'orgs_parent', key: { parentId: 1, _id: 1 } },
    ],
  ],
  ['users', [{ name: 'users_email', key: { emailKey: 1 } }]],
  [
    'memberships',
    [
      { name: 'memberships_org', key: { orgId: 1, userId: 1 } },
      { name: 'memberships_user', key: { userId: 1, orgId: 1 } },
    ],
  ],
  [
    'clients',
    [
      { name: 'clients_client_id', key: { clientId: 1 }, unique: true },
      { name: 'clients_org', key: { orgId: 1, _id: 1 } },
    ],
  ],
  ['roles', [{ name: 'roles_org', key: { orgId: 1, _id: 1 } }]],
  [
    'permissions',
    [
      { name: 'permissions_org', key: { orgId: 1, name: 1 } },
      { name: 'permissions_name', key: { name: 1, orgId: 1 } },
    ],
  ],
  ['webhooks', [{ name: 'webhooks_org', key: { orgId: 1, _id: 1 } }]],
  ['orgVersions', [byKey, { name: 'org_versions_parent', key: { parentId: 1, validFrom: 1 } }]],
  ['userVersions', [byKey]],
  [
    'membershipVersions',
    [
      byKey,
      { name: 'membership_versions_org', key: { orgId: 1, userId: 1 } },
      { name: 'membership_versions_user', key: { userId: 1, orgId: 1 } },
    ],
  ],
  [
    'clientVersions',
    [
      byKey,
      { name: 'client_versions_client_id', key: { clientId: 1 } },
      { name: 'client_versions_org', key: { orgId: 1 } },
    ],
  ],
  ['roleVersions', [byKey]],
  ['permissionVersions', [byKey, { name: 'permission_versions_name', key: { name: 1, orgId: 1 } }]],
];

/**
 * Creates the indexes a collection lacks, by name. Only the missing ones are sent: FerretDB 1.24 drops the
 * connection (a panic) when asked to create a compound index that already exists.
 */
export async function createIndexes(collections: ReadModelCollections): Promise<void> {
  for (const [name, indexes] of INDEXES) {
    const collection = collections[name] as unknown as Collection<Document>;
    const existing = new Set(
      (
        await collection
          .listIndexes()
          .toArray()
          .catch(() => [] as Document[])
      ).map((index) => String(index.name)),
    );
    const missing = indexes.filter((index) => !existing.has(index.name!));
    if (missing.length > 0) await collection.createIndexes(missing);
  }
}

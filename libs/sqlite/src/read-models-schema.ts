/**
 * Schema of the read models, one entry per version (see `applyMigrations`). Everything here can be
 * rebuilt from the event log, so a migration may simply drop and recreate tables and reset the checkpoint.
 *
 * `org_closure` holds one row per (ancestor, descendant) pair, the self pair (distance 0) included, and
 * copies the descendant's name key (`d_name_key`) so that a page of descendants ordered by depth, then
 * name, then id is a single range scan of `org_closure_children` with no sort.
 * `org_closure_parents` serves the ancestors of a node and, with the primary key it carries, subtree moves.
 *
 * Version 2 adds memberships, clients and `users.name_key` (NFC + lower case, as `email_key`: SQLite's
 * `lower()` folds ASCII only). It empties every table and the checkpoint, so the next start rebuilds from
 * position 0 and the new tables see the whole history. Roles and scopes are JSON arrays of strings.
 * `memberships_user` serves a user's memberships; inherited roles go through `org_closure_parents` and the
 * memberships primary key.
 *
 * Version 4 adds `memberships.pending` (a membership linking an account its adder could not see: it grants
 * nothing until confirmed); every earlier membership was confirmed, so the default needs no rebuild.
 *
 * Version 5 empties every table and the checkpoint, so the next start rebuilds from the log: the key columns
 * (`orgs.name_key`, `org_closure.d_name_key`, `users.email_key`, `users.name_key`) hold the full case fold of
 * `caselessKey` (`Straße` → `strasse`), no longer NFC + lower case, and a membership's version counts its own
 * changes from 1. Version 6 adds `users.kept_session_id` (the session a user's own password change kept; see
 * UserView). No event before it ends sessions but UserDisabled, which leaves it empty, so it needs no rebuild.
 * Version 7 adds the partial index `users_platform_admin` (the platform admins in id order, for the access
 * searches); an index only, so it needs no rebuild.
 *
 * Version 3 adds `users.sessions_not_before` (when the user was last disabled: tokens issued before it never
 * work again). It empties every table and the checkpoint, so the rebuild fills it from the whole history.
 *
 * Versions 8 and 9 (issue 13) add client credentials' roles and the custom role catalog; version 10 the covering
 * indexes of access questions (`orgs_access`, `users_access`, `memberships_user` widened to pending and roles):
 * indexes only, no rebuild. A statement that must keep another index names it with INDEXED BY or fixes its join
 * order with CROSS JOIN (query-plans.int.spec.ts checks the hot ones).
 *
 * Version 11 (issue 14) adds the temporal read model (the `*_versions` tables) and rebuilds from the log.
 */
export const READ_MODELS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    parent_id TEXT,
    depth INTEGER NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX orgs_parent ON orgs (parent_id, id);
  CREATE TABLE org_closure (
    ancestor_id TEXT NOT NULL,
    descendant_id TEXT NOT NULL,
    distance INTEGER NOT NULL,
    d_name_key TEXT NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
  ) WITHOUT ROWID;
  CREATE INDEX org_closure_children ON org_closure (ancestor_id, distance, d_name_key, descendant_id);
  CREATE INDEX org_closure_parents ON org_closure (descendant_id, distance);
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT,
    email_key TEXT,
    name TEXT,
    status TEXT NOT NULL,
    platform_admin INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  -- Not UNIQUE on purpose: the command side enforces unique emails, and a projector must never be
  -- unable to apply a fact that is already in the log.
  CREATE INDEX users_email_key ON users (email_key);
  CREATE TABLE checkpoint (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  );
  `,
  `
  DELETE FROM orgs;
  DELETE FROM org_closure;
  DELETE FROM users;
  DELETE FROM checkpoint;
  ALTER TABLE users ADD COLUMN name_key TEXT;
  CREATE TABLE memberships (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    roles TEXT NOT NULL,
    added_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX memberships_user ON memberships (user_id, org_id);
  CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX clients_org ON clients (org_id, id);
  `,
  `
  DELETE FROM orgs;
  DELETE FROM org_closure;
  DELETE FROM users;
  DELETE FROM memberships;
  DELETE FROM clients;
  DELETE FROM checkpoint;
  ALTER TABLE users ADD COLUMN sessions_not_before TEXT;
  `,
  `
  ALTER TABLE memberships ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
  `,
  `
  DELETE FROM orgs;
  DELETE FROM org_closure;
  DELETE FROM users;
  DELETE FROM memberships;
  DELETE FROM clients;
  DELETE FROM checkpoint;
  `,
  `
  ALTER TABLE users ADD COLUMN kept_session_id TEXT;
  `,
  // access-search: the platform admins in id order, for AuthZEN search/subject (they hold everything).
  `
  CREATE INDEX users_platform_admin ON users (id) WHERE platform_admin = 1;
  `,
  // "client-credential-roles" (issue 13): roles held by client credentials and the event (id, position) that
  // last set them. Rows of before hold no roles: '[]' and no granting event is right for them.
  `
  ALTER TABLE clients ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE clients ADD COLUMN roles_granted_by_event_id TEXT;
  ALTER TABLE clients ADD COLUMN roles_granted_by_position INTEGER;
  `,
  // "custom-role-definitions" (issue 13): custom roles and application permissions, and the role catalog's
  // position (a `checkpoint` row, 'role-catalog'). No public surface wrote role or permission events before
  // this migration, so no rebuild is needed. `roles_org` serves "visible at" (the ancestors' ids from
  // `org_closure_parents`, then one range per ancestor); `application_permissions_name` the trees defining a name.
  `
  CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    applies_to TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE INDEX roles_org ON roles (org_id, id);
  CREATE TABLE application_permissions (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
  ) WITHOUT ROWID;
  CREATE INDEX application_permissions_name ON application_permissions (name, org_id);
  `,
  // "access-question-indexes" (issue 13): what an access question reads of an organization, a user and a user's
  // memberships, each in one index search without visiting the table (MembershipQueries.accessQuestions names
  // the first two with INDEXED BY: the planner prefers the primary key's own index). `memberships_user` keeps its
  // name and its order (user, organization) and now covers pending and roles. A batch of 20 questions: 71 -> 56 µs
  // (bench/access-questions-micro.mjs); the projection writes one more index entry per organization and user.
  `
  CREATE INDEX orgs_access ON orgs (id, parent_id);
  CREATE INDEX users_access ON users (id, status, platform_admin);
  DROP INDEX memberships_user;
  CREATE INDEX memberships_user ON memberships (user_id, org_id, pending, roles);
  `,
  // "temporal-read-model" (issue 14, point in time): one version per change of each row, valid over the log
  // positions [valid_from, valid_to) (valid_to 9007199254740991 while open; see HistoryQueries). A version is
  // found by its key and the last valid_from at or below P (the primary keys); children at P by `parent_id`.
  // Empties every table and the checkpoint: the next start rebuilds from the log, so the versions cover it all.
  `
  DELETE FROM orgs;
  DELETE FROM org_closure;
  DELETE FROM users;
  DELETE FROM memberships;
  DELETE FROM clients;
  DELETE FROM roles;
  DELETE FROM application_permissions;
  DELETE FROM checkpoint;
  CREATE TABLE org_versions (
    org_id TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    parent_id TEXT,
    description TEXT,
    metadata TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, valid_from)
  ) WITHOUT ROWID;
  CREATE INDEX org_versions_parent ON org_versions (parent_id, valid_from, valid_to);
  CREATE TABLE user_versions (
    user_id TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    status TEXT NOT NULL,
    platform_admin INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (user_id, valid_from)
  ) WITHOUT ROWID;
  CREATE TABLE membership_versions (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    roles TEXT NOT NULL,
    pending INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, valid_from)
  ) WITHOUT ROWID;
  CREATE INDEX membership_versions_user ON membership_versions (user_id, org_id, valid_from);
  CREATE TABLE client_versions (
    id TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    org_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    roles TEXT NOT NULL,
    roles_granted_by_event_id TEXT,
    roles_granted_by_position INTEGER,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (id, valid_from)
  ) WITHOUT ROWID;
  CREATE INDEX client_versions_client_id ON client_versions (client_id, valid_from);
  CREATE INDEX client_versions_org ON client_versions (org_id, id);
  CREATE TABLE role_versions (
    id TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    applies_to TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (id, valid_from)
  ) WITHOUT ROWID;
  CREATE TABLE application_permission_versions (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (org_id, name, valid_from)
  ) WITHOUT ROWID;
  `,
  // "webhook-subscriptions" (issue 14 item 6): one row per subscription not deleted. No event of a webhook was
  // written before this migration, so no rebuild is needed. `webhook_subscriptions_org` serves an organization's list.
  `
  CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    description TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    created_position INTEGER NOT NULL,
    replay_from INTEGER,
    replay_requested_at INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions (org_id, id);
  `,
];

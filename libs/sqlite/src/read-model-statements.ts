import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';

type Params = Record<string, unknown>;

/** The `checkpoint` row holding the position of the last role event applied (RoleQueries.catalogPosition). */
export const ROLE_CATALOG_CHECKPOINT = 'role-catalog';

/** The statements of the SQLite read-model engine (`ReadModelProjection`), prepared once per database. */
export interface ProjectionStatements {
  orgDepth: Statement<[string], number>;
  insertOrg: Statement<Params>;
  insertSelfLink: Statement<Params>;
  insertAncestorLinks: Statement<Params>;
  updateOrg: Statement<Params>;
  updateLinkNameKey: Statement<Params>;
  unlinkSubtree: Statement<Params>;
  linkSubtree: Statement<Params>;
  shiftSubtreeDepth: Statement<Params>;
  setParent: Statement<Params>;
  deleteOrg: Statement<[string]>;
  deleteLinksTo: Statement<[string]>;
  deleteLinksFrom: Statement<[string]>;
  insertUser: Statement<Params>;
  updatePersonal: Statement<Params>;
  setStatus: Statement<Params>;
  endSessions: Statement<Params>;
  upsertMembership: Statement<Params>;
  confirmMembership: Statement<Params>;
  setRoles: Statement<Params>;
  deleteMembership: Statement<[string, string]>;
  insertClient: Statement<Params>;
  setClientRoles: Statement<Params>;
  deleteClient: Statement<[string]>;
  deleteOrgMemberships: Statement<[string]>;
  deleteOrgClients: Statement<[string]>;
  putRole: Statement<Params>;
  deleteRole: Statement<[string]>;
  putPermission: Statement<Params>;
  deletePermission: Statement<[string, string]>;
  deleteOrgRoles: Statement<[string]>;
  deleteOrgPermissions: Statement<[string]>;
  setCatalogPosition: Statement<[number]>;
}

/**
 * Every write is an upsert, an update or a delete keyed by id, so applying an event twice leaves the same
 * rows (the rules `ReadModelEngine` lists are kept here, in SQL).
 */
export function prepareProjectionStatements(db: SqliteDatabase): ProjectionStatements {
  return {
    orgDepth: db.prepare<[string], number>('SELECT depth FROM orgs WHERE id = ?').pluck(),
    insertOrg: db.prepare(
      `INSERT OR IGNORE INTO orgs
         (id, name, name_key, parent_id, depth, description, metadata, created_at, updated_at, version)
       VALUES (@id, @name, @key, @parentId, @depth, @description, @metadata, @at, @at, @version)`,
    ),
    insertSelfLink: db.prepare(
      `INSERT OR IGNORE INTO org_closure (ancestor_id, descendant_id, distance, d_name_key)
       VALUES (@id, @id, 0, @key)`,
    ),
    // The new node sits one step further from each of its parent's ancestors (the parent's self row included).
    insertAncestorLinks: db.prepare(
      `INSERT OR IGNORE INTO org_closure (ancestor_id, descendant_id, distance, d_name_key)
       SELECT ancestor_id, @id, distance + 1, @key FROM org_closure WHERE descendant_id = @parentId`,
    ),
    updateOrg: db.prepare(
      `UPDATE orgs SET name = @name, name_key = @key, description = @description, metadata = @metadata,
         updated_at = @at, version = @version
       WHERE id = @id`,
    ),
    updateLinkNameKey: db.prepare('UPDATE org_closure SET d_name_key = @key WHERE descendant_id = @id'),
    // Links from the moved node's former strict ancestors to anything in its subtree. Links inside the
    // subtree are kept: the subtree's shape does not change.
    unlinkSubtree: db.prepare(
      `DELETE FROM org_closure
       WHERE descendant_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = @id)
         AND ancestor_id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = @id AND distance > 0)`,
    ),
    // Every ancestor of the new parent (itself included) times every node of the subtree.
    linkSubtree: db.prepare(
      `INSERT OR REPLACE INTO org_closure (ancestor_id, descendant_id, distance, d_name_key)
       SELECT a.ancestor_id, d.descendant_id, a.distance + d.distance + 1, d.d_name_key
       FROM org_closure a JOIN org_closure d ON d.ancestor_id = @id
       WHERE a.descendant_id = @toParentId`,
    ),
    shiftSubtreeDepth: db.prepare(
      `UPDATE orgs SET depth = depth + @delta
       WHERE id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = @id)`,
    ),
    setParent: db.prepare(
      'UPDATE orgs SET parent_id = @toParentId, updated_at = @at, version = @version WHERE id = @id',
    ),
    deleteOrg: db.prepare('DELETE FROM orgs WHERE id = ?'),
    deleteLinksTo: db.prepare('DELETE FROM org_closure WHERE descendant_id = ?'),
    deleteLinksFrom: db.prepare('DELETE FROM org_closure WHERE ancestor_id = ?'),
    insertUser: db.prepare(
      `INSERT OR IGNORE INTO users
         (id, email, email_key, name, name_key, status, platform_admin, created_at, updated_at, version)
       VALUES (@id, @email, @emailKey, @name, @nameKey, @status, @platformAdmin, @at, @at, @version)`,
    ),
    // Opened personal data replaces the old one whole; none (its key is gone) clears it. The status is the events'.
    updatePersonal: db.prepare(
      `UPDATE users SET email = @email, email_key = @emailKey, name = @name, name_key = @nameKey,
         updated_at = @at, version = @version
       WHERE id = @id`,
    ),
    // An erased user stays erased: enabling it again must not bring back an account without personal data.
    setStatus: db.prepare(
      `UPDATE users SET status = CASE WHEN status = 'erased' THEN status ELSE @status END,
         sessions_not_before = CASE WHEN @endSessions THEN @at ELSE sessions_not_before END,
         kept_session_id = CASE WHEN @endSessions THEN NULL ELSE kept_session_id END,
         updated_at = @at, version = @version
       WHERE id = @id`,
    ),
    endSessions: db.prepare(
      'UPDATE users SET sessions_not_before = @at, kept_session_id = @kept, updated_at = @at, version = @version WHERE id = @id',
    ),
    upsertMembership: db.prepare(
      `INSERT INTO memberships (org_id, user_id, roles, added_at, version, pending)
       VALUES (@orgId, @userId, @roles, @at, 1, @pending)
       ON CONFLICT (org_id, user_id) DO UPDATE SET roles = excluded.roles, added_at = excluded.added_at,
         version = memberships.version + 1, pending = excluded.pending`,
    ),
    confirmMembership: db.prepare(
      'UPDATE memberships SET pending = 0, version = version + 1 WHERE org_id = @orgId AND user_id = @userId',
    ),
    setRoles: db.prepare(
      'UPDATE memberships SET roles = @roles, version = version + 1 WHERE org_id = @orgId AND user_id = @userId',
    ),
    deleteMembership: db.prepare('DELETE FROM memberships WHERE org_id = ? AND user_id = ?'),
    // OR REPLACE also on a client_id clash: a projector must never be unable to apply a fact of the log
    // (the command side keeps client ids unique).
    insertClient: db.prepare(
      `INSERT OR REPLACE INTO clients (id, client_id, name, org_id, scopes, created_at, version, roles,
         roles_granted_by_event_id, roles_granted_by_position)
       VALUES (@id, @clientId, @name, @orgId, @scopes, @at, @version, @roles, @grantedByEventId, @grantedByPosition)`,
    ),
    setClientRoles: db.prepare(
      `UPDATE clients SET roles = @roles, roles_granted_by_event_id = @grantedByEventId,
         roles_granted_by_position = @grantedByPosition, version = @version WHERE id = @id`,
    ),
    deleteClient: db.prepare('DELETE FROM clients WHERE id = ?'),
    deleteOrgMemberships: db.prepare('DELETE FROM memberships WHERE org_id = ?'),
    deleteOrgClients: db.prepare('DELETE FROM clients WHERE org_id = ?'),
    // A role's defining organization never changes; an existing row keeps its created_at.
    putRole: db.prepare(
      `INSERT INTO roles (id, org_id, name, description, permissions, applies_to, created_at, updated_at, version)
       VALUES (@id, @orgId, @name, @description, @permissions, @appliesTo, @at, @at, @version)
       ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name,
         description = excluded.description, permissions = excluded.permissions, applies_to = excluded.applies_to,
         updated_at = excluded.updated_at, version = excluded.version`,
    ),
    deleteRole: db.prepare('DELETE FROM roles WHERE id = ?'),
    putPermission: db.prepare(
      `INSERT INTO application_permissions (org_id, name, description, created_at, updated_at, version)
       VALUES (@orgId, @name, @description, @at, @at, @version)
       ON CONFLICT (org_id, name) DO UPDATE SET description = excluded.description,
         updated_at = excluded.updated_at, version = excluded.version`,
    ),
    deletePermission: db.prepare('DELETE FROM application_permissions WHERE org_id = ? AND name = ?'),
    deleteOrgRoles: db.prepare('DELETE FROM roles WHERE org_id = ?'),
    deleteOrgPermissions: db.prepare('DELETE FROM application_permissions WHERE org_id = ?'),
    setCatalogPosition: db.prepare(
      `INSERT INTO checkpoint (name, position) VALUES ('${ROLE_CATALOG_CHECKPOINT}', ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
    ),
  };
}

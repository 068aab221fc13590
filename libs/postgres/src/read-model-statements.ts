import { ROLE_CATALOG_CHECKPOINT, type ReadModelSql } from './read-models-schema';

/**
 * The SQL of the PostgreSQL read-model engine (`ReadModelProjection`), run as named prepared statements
 * (`ReadModelSql`). Every write is an upsert, an update or a delete keyed by id, so applying an event twice
 * leaves the same rows (the rules `ReadModelEngine` lists are kept here, in SQL). Positional parameters are
 * documented on each engine method that binds them.
 */
export function projectionStatements(sql: ReadModelSql) {
  const orgs = sql.table('orgs');
  const closure = sql.table('org_closure');
  const users = sql.table('users');
  const memberships = sql.table('memberships');
  const clients = sql.table('clients');
  const roles = sql.table('roles');
  const permissions = sql.table('application_permissions');
  return {
    orgDepth: `SELECT depth FROM ${orgs} WHERE id = $1`,
    // The row, its self link and one link from each of the parent's ancestors (the parent's self row
    // included), one step further: one statement. The closure rows read are the parent's, which the
    // orgs insert does not touch. Existing rows are kept (INSERT OR IGNORE in the SQLite engine).
    createOrg: `
      WITH parent AS (SELECT depth FROM ${orgs} WHERE id = $3),
      org AS (
        INSERT INTO ${orgs}
          (id, name, name_key, parent_id, depth, description, metadata, created_at, updated_at, version)
        VALUES ($1, $2, $4, $3, COALESCE((SELECT depth + 1 FROM parent), 0), $5, $6::jsonb, $7, $7, $8)
        ON CONFLICT (id) DO NOTHING
      )
      INSERT INTO ${closure} (ancestor_id, descendant_id, distance, d_name_key)
      SELECT $1::text, $1::text, 0, $4::text
      UNION ALL
      SELECT ancestor_id, $1::text, distance + 1, $4::text FROM ${closure} WHERE descendant_id = $3
      ON CONFLICT (ancestor_id, descendant_id) DO NOTHING`,
    updateOrg: `
      UPDATE ${orgs} SET name = $2, name_key = $3, description = $4, metadata = $5::jsonb, updated_at = $6,
        version = $7
      WHERE id = $1`,
    updateLinkNameKey: `UPDATE ${closure} SET d_name_key = $2 WHERE descendant_id = $1`,
    // Links from the moved node's former strict ancestors to anything in its subtree. Links inside the
    // subtree are kept: the subtree's shape does not change.
    unlinkSubtree: `
      DELETE FROM ${closure}
      WHERE descendant_id IN (SELECT descendant_id FROM ${closure} WHERE ancestor_id = $1)
        AND ancestor_id IN (SELECT ancestor_id FROM ${closure} WHERE descendant_id = $1 AND distance > 0)`,
    // Every ancestor of the new parent (itself included) times every node of the subtree.
    linkSubtree: `
      INSERT INTO ${closure} (ancestor_id, descendant_id, distance, d_name_key)
      SELECT a.ancestor_id, d.descendant_id, a.distance + d.distance + 1, d.d_name_key
      FROM ${closure} a JOIN ${closure} d ON d.ancestor_id = $1
      WHERE a.descendant_id = $2
      ON CONFLICT (ancestor_id, descendant_id)
        DO UPDATE SET distance = excluded.distance, d_name_key = excluded.d_name_key`,
    shiftSubtreeDepth: `
      UPDATE ${orgs} SET depth = depth + $2
      WHERE id IN (SELECT descendant_id FROM ${closure} WHERE ancestor_id = $1)`,
    setParent: `UPDATE ${orgs} SET parent_id = $2, updated_at = $3, version = $4 WHERE id = $1`,
    // Deleted organizations are leaves, but all their links go either way, so a stray row cannot survive.
    deleteOrg: `
      WITH org AS (DELETE FROM ${orgs} WHERE id = $1)
      DELETE FROM ${closure} WHERE descendant_id = $1 OR ancestor_id = $1`,
    deleteOrgAccess: `
      WITH m AS (DELETE FROM ${memberships} WHERE org_id = $1),
      w AS (DELETE FROM ${sql.table('webhook_subscriptions')} WHERE org_id = $1)
      DELETE FROM ${clients} WHERE org_id = $1`,
    insertUser: `
      INSERT INTO ${users}
        (id, email, email_key, name, name_key, status, platform_admin, created_at, updated_at, version)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
      ON CONFLICT (id) DO NOTHING`,
    // Opened personal data replaces the old one whole; none (its key is gone) clears it. The status is the events'.
    updatePersonal: `
      UPDATE ${users} SET email = $2::text, email_key = $3, name = $4, name_key = $5,
        updated_at = $6, version = $7
      WHERE id = $1`,
    // An erased user stays erased: enabling it again must not bring back an account without personal data.
    setStatus: `
      UPDATE ${users} SET status = CASE WHEN status = 'erased' THEN status ELSE $2 END,
        sessions_not_before = CASE WHEN $5::boolean THEN $3 ELSE sessions_not_before END,
        kept_session_id = CASE WHEN $5::boolean THEN NULL ELSE kept_session_id END, updated_at = $3, version = $4
      WHERE id = $1`,
    endSessions: `UPDATE ${users} SET sessions_not_before = $2, kept_session_id = $3, updated_at = $2, version = $4 WHERE id = $1`,
    upsertMembership: `
      INSERT INTO ${memberships} AS m (org_id, user_id, roles, added_at, version, pending)
      VALUES ($1, $2, $3::jsonb, $4, 1, $5)
      ON CONFLICT (org_id, user_id) DO UPDATE SET roles = excluded.roles, added_at = excluded.added_at,
        version = m.version + 1, pending = excluded.pending`,
    confirmMembership: `UPDATE ${memberships} SET pending = false, version = version + 1 WHERE org_id = $1 AND user_id = $2`,
    setRoles: `UPDATE ${memberships} SET roles = $3::jsonb, version = version + 1 WHERE org_id = $1 AND user_id = $2`,
    deleteMembership: `DELETE FROM ${memberships} WHERE org_id = $1 AND user_id = $2`,
    // INSERT OR REPLACE in the SQLite engine, on either unique key: a projector must never be unable to
    // apply a fact of the log (the command side keeps client ids unique). ON CONFLICT names one key only,
    // so a row holding the same client_id under another id goes first.
    deleteClashingClient: `DELETE FROM ${clients} WHERE client_id = $2 AND id <> $1`,
    upsertClient: `
      INSERT INTO ${clients} (id, client_id, name, org_id, scopes, created_at, version, roles,
        roles_granted_by_event_id, roles_granted_by_position)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10)
      ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, name = excluded.name, org_id = excluded.org_id,
        scopes = excluded.scopes, created_at = excluded.created_at, version = excluded.version,
        roles = excluded.roles, roles_granted_by_event_id = excluded.roles_granted_by_event_id,
        roles_granted_by_position = excluded.roles_granted_by_position`,
    setClientRoles: `
      UPDATE ${clients} SET roles = $2::jsonb, roles_granted_by_event_id = $3, roles_granted_by_position = $4,
        version = $5 WHERE id = $1`,
    deleteClient: `DELETE FROM ${clients} WHERE id = $1`,
    // A role's defining organization never changes; an existing row keeps its created_at.
    putRole: `
      INSERT INTO ${roles} (id, org_id, name, description, permissions, applies_to, created_at, updated_at, version)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $7, $8)
      ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name,
        description = excluded.description, permissions = excluded.permissions, applies_to = excluded.applies_to,
        updated_at = excluded.updated_at, version = excluded.version`,
    deleteRole: `DELETE FROM ${roles} WHERE id = $1`,
    putPermission: `
      INSERT INTO ${permissions} (org_id, name, description, created_at, updated_at, version)
      VALUES ($1, $2, $3, $4, $4, $5)
      ON CONFLICT (org_id, name) DO UPDATE SET description = excluded.description,
        updated_at = excluded.updated_at, version = excluded.version`,
    deletePermission: `DELETE FROM ${permissions} WHERE org_id = $1 AND name = $2`,
    deleteOrgDefinitions: `
      WITH r AS (DELETE FROM ${roles} WHERE org_id = $1)
      DELETE FROM ${permissions} WHERE org_id = $1`,
    // The projector's checkpoint row is locked by this transaction; this is another row of the same table.
    setCatalogPosition: `
      INSERT INTO ${sql.table('checkpoint')} (name, position) VALUES ('${ROLE_CATALOG_CHECKPOINT}', $1)
      ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  };
}

export type ProjectionStatements = ReturnType<typeof projectionStatements>;

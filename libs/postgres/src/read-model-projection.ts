import type { ProjectableEvent } from '@arbor/application';
import {
  isKnownEvent,
  nameKey,
  type OrgCreatedData,
  type OrgDeletedData,
  type OrgMovedData,
  type OrgUpdatedData,
  type StoredEvent,
} from '@arbor/domain';
import type { PoolClient } from 'pg';
import type { ReadModelSql } from './read-models-schema';
import { ReadModelUserAccessProjection } from './read-model-user-access-projection';

/**
 * Folds events into the read-model tables, one event at a time, on named prepared statements. It runs
 * inside the caller's transaction (see `PostgresReadModels.apply`) and does not track positions itself.
 * Every write is an upsert or a delete keyed by id, so applying an event twice leaves the same rows.
 * A port of the SQLite adapter's `ReadModelProjection`, statement for statement.
 */
export class ReadModelProjection {
  private readonly orgDepth: string;
  private readonly createOrg: string;
  private readonly updateOrg: string;
  private readonly updateLinkNameKey: string;
  private readonly unlinkSubtree: string;
  private readonly linkSubtree: string;
  private readonly shiftSubtreeDepth: string;
  private readonly setParent: string;
  private readonly deleteOrg: string;
  private readonly access: ReadModelUserAccessProjection;

  constructor(private readonly sql: ReadModelSql) {
    const orgs = sql.table('orgs');
    const closure = sql.table('org_closure');
    this.access = new ReadModelUserAccessProjection(sql);
    this.orgDepth = `SELECT depth FROM ${orgs} WHERE id = $1`;
    // The row, its self link and one link from each of the parent's ancestors (the parent's self row
    // included), one step further: one statement. The closure rows read are the parent's, which the
    // orgs insert does not touch. Existing rows are kept (INSERT OR IGNORE in the SQLite adapter).
    this.createOrg = `
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
      ON CONFLICT (ancestor_id, descendant_id) DO NOTHING`;
    this.updateOrg = `
      UPDATE ${orgs} SET name = $2, name_key = $3, description = $4, metadata = $5::jsonb, updated_at = $6,
        version = $7
      WHERE id = $1`;
    this.updateLinkNameKey = `UPDATE ${closure} SET d_name_key = $2 WHERE descendant_id = $1`;
    // Links from the moved node's former strict ancestors to anything in its subtree. Links inside the
    // subtree are kept: the subtree's shape does not change.
    this.unlinkSubtree = `
      DELETE FROM ${closure}
      WHERE descendant_id IN (SELECT descendant_id FROM ${closure} WHERE ancestor_id = $1)
        AND ancestor_id IN (SELECT ancestor_id FROM ${closure} WHERE descendant_id = $1 AND distance > 0)`;
    // Every ancestor of the new parent (itself included) times every node of the subtree.
    this.linkSubtree = `
      INSERT INTO ${closure} (ancestor_id, descendant_id, distance, d_name_key)
      SELECT a.ancestor_id, d.descendant_id, a.distance + d.distance + 1, d.d_name_key
      FROM ${closure} a JOIN ${closure} d ON d.ancestor_id = $1
      WHERE a.descendant_id = $2
      ON CONFLICT (ancestor_id, descendant_id)
        DO UPDATE SET distance = excluded.distance, d_name_key = excluded.d_name_key`;
    this.shiftSubtreeDepth = `
      UPDATE ${orgs} SET depth = depth + $2
      WHERE id IN (SELECT descendant_id FROM ${closure} WHERE ancestor_id = $1)`;
    this.setParent = `UPDATE ${orgs} SET parent_id = $2, updated_at = $3, version = $4 WHERE id = $1`;
    // Deleted organizations are leaves, but all their links go either way, so a stray row cannot survive.
    this.deleteOrg = `
      WITH org AS (DELETE FROM ${orgs} WHERE id = $1)
      DELETE FROM ${closure} WHERE descendant_id = $1 OR ancestor_id = $1`;
  }

  /** Applies one event; unknown types are ignored (the caller still advances the checkpoint). */
  async apply(db: PoolClient, event: ProjectableEvent): Promise<void> {
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'OrgCreated':
        return this.orgCreated(db, event, event.data);
      case 'OrgUpdated':
        return this.orgUpdated(db, event, event.data);
      case 'OrgMoved':
        return this.orgMoved(db, event, event.data);
      case 'OrgDeleted':
        return this.orgDeleted(db, event.data);
      case 'UserCreated':
        return this.access.userCreated(db, event, event.data);
      case 'UserUpdated':
        return this.access.userUpdated(db, event, event.data);
      case 'UserDisabled':
        return this.access.userStatus(db, event, event.data, 'disabled');
      case 'UserEnabled':
        return this.access.userStatus(db, event, event.data, 'active');
      case 'UserPasswordChanged':
      case 'UserPasswordSet':
        return this.access.userPassword(db, event, event.data);
      case 'UserAddedToOrg':
        return this.access.userAddedToOrg(db, event, event.data);
      case 'MembershipConfirmed':
        return this.access.membershipConfirmed(db, event, event.data);
      case 'OrgUserUpdated':
        return this.access.orgUserUpdated(db, event, event.data);
      case 'UserRemovedFromOrg':
        return this.access.userRemovedFromOrg(db, event.data);
      case 'ClientCredentialIssued':
        return this.access.clientIssued(db, event, event.data);
      case 'ClientCredentialRevoked':
        return this.access.clientRevoked(db, event.data);
    }
  }

  private async orgCreated(db: PoolClient, event: StoredEvent, d: OrgCreatedData): Promise<void> {
    await this.sql.run(db, this.createOrg, [
      d.orgId,
      d.name,
      d.parentId,
      nameKey(d.name),
      d.description,
      JSON.stringify(d.metadata ?? {}),
      event.occurredAt,
      event.streamVersion,
    ]);
  }

  private async orgUpdated(db: PoolClient, event: StoredEvent, d: OrgUpdatedData): Promise<void> {
    const key = nameKey(d.name);
    await this.sql.run(db, this.updateOrg, [
      d.orgId,
      d.name,
      key,
      d.description,
      JSON.stringify(d.metadata ?? {}),
      event.occurredAt,
      event.streamVersion,
    ]);
    await this.sql.run(db, this.updateLinkNameKey, [d.orgId, key]);
  }

  /** The closure-table subtree move, in SQL: unlink from the old ancestors, link to the new ones, shift depths. */
  private async orgMoved(db: PoolClient, event: StoredEvent, d: OrgMovedData): Promise<void> {
    const oldDepth = await this.depthOf(db, d.orgId);
    if (oldDepth === undefined) return;
    const parentDepth = d.toParentId === null ? undefined : await this.depthOf(db, d.toParentId);
    const newDepth = parentDepth === undefined ? 0 : parentDepth + 1;
    await this.sql.run(db, this.unlinkSubtree, [d.orgId]);
    if (d.toParentId !== null) await this.sql.run(db, this.linkSubtree, [d.orgId, d.toParentId]);
    if (newDepth !== oldDepth) await this.sql.run(db, this.shiftSubtreeDepth, [d.orgId, newDepth - oldDepth]);
    await this.sql.run(db, this.setParent, [d.orgId, d.toParentId, event.occurredAt, event.streamVersion]);
  }

  private async orgDeleted(db: PoolClient, d: OrgDeletedData): Promise<void> {
    await this.sql.run(db, this.deleteOrg, [d.orgId]);
    await this.access.orgDeleted(db, d.orgId);
  }

  private async depthOf(db: PoolClient, id: string): Promise<number | undefined> {
    const rows = await this.sql.rows<{ depth: number }>(db, this.orgDepth, [id]);
    return rows[0]?.depth;
  }
}

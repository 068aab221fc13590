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
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { UserAccessProjection } from './user-access-projection';

type Params = Record<string, unknown>;

/**
 * Folds events into the read-model tables, one event at a time, on statements prepared once. It runs
 * inside the caller's transaction (see `SqliteReadModels.apply`) and does not track positions itself.
 * Every write is an upsert or a delete keyed by id, so applying an event twice leaves the same rows.
 */
export class ReadModelProjection {
  private readonly orgDepth: Statement<[string], number>;
  private readonly insertOrg: Statement<Params>;
  private readonly insertSelfLink: Statement<Params>;
  private readonly insertAncestorLinks: Statement<Params>;
  private readonly updateOrg: Statement<Params>;
  private readonly updateLinkNameKey: Statement<Params>;
  private readonly unlinkSubtree: Statement<Params>;
  private readonly linkSubtree: Statement<Params>;
  private readonly shiftSubtreeDepth: Statement<Params>;
  private readonly setParent: Statement<Params>;
  private readonly deleteOrg: Statement<[string]>;
  private readonly deleteLinksTo: Statement<[string]>;
  private readonly deleteLinksFrom: Statement<[string]>;
  private readonly access: UserAccessProjection;

  constructor(db: SqliteDatabase) {
    this.access = new UserAccessProjection(db);
    this.orgDepth = db.prepare<[string], number>('SELECT depth FROM orgs WHERE id = ?').pluck();
    this.insertOrg = db.prepare(
      `INSERT OR IGNORE INTO orgs
         (id, name, name_key, parent_id, depth, description, metadata, created_at, updated_at, version)
       VALUES (@id, @name, @key, @parentId, @depth, @description, @metadata, @at, @at, @version)`,
    );
    this.insertSelfLink = db.prepare(
      `INSERT OR IGNORE INTO org_closure (ancestor_id, descendant_id, distance, d_name_key)
       VALUES (@id, @id, 0, @key)`,
    );
    // The new node sits one step further from each of its parent's ancestors (the parent's self row included).
    this.insertAncestorLinks = db.prepare(
      `INSERT OR IGNORE INTO org_closure (ancestor_id, descendant_id, distance, d_name_key)
       SELECT ancestor_id, @id, distance + 1, @key FROM org_closure WHERE descendant_id = @parentId`,
    );
    this.updateOrg = db.prepare(
      `UPDATE orgs SET name = @name, name_key = @key, description = @description, metadata = @metadata,
         updated_at = @at, version = @version
       WHERE id = @id`,
    );
    this.updateLinkNameKey = db.prepare('UPDATE org_closure SET d_name_key = @key WHERE descendant_id = @id');
    // Links from the moved node's former strict ancestors to anything in its subtree. Links inside the
    // subtree are kept: the subtree's shape does not change.
    this.unlinkSubtree = db.prepare(
      `DELETE FROM org_closure
       WHERE descendant_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = @id)
         AND ancestor_id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = @id AND distance > 0)`,
    );
    // Every ancestor of the new parent (itself included) times every node of the subtree.
    this.linkSubtree = db.prepare(
      `INSERT OR REPLACE INTO org_closure (ancestor_id, descendant_id, distance, d_name_key)
       SELECT a.ancestor_id, d.descendant_id, a.distance + d.distance + 1, d.d_name_key
       FROM org_closure a JOIN org_closure d ON d.ancestor_id = @id
       WHERE a.descendant_id = @toParentId`,
    );
    this.shiftSubtreeDepth = db.prepare(
      `UPDATE orgs SET depth = depth + @delta
       WHERE id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = @id)`,
    );
    this.setParent = db.prepare(
      'UPDATE orgs SET parent_id = @toParentId, updated_at = @at, version = @version WHERE id = @id',
    );
    this.deleteOrg = db.prepare('DELETE FROM orgs WHERE id = ?');
    this.deleteLinksTo = db.prepare('DELETE FROM org_closure WHERE descendant_id = ?');
    this.deleteLinksFrom = db.prepare('DELETE FROM org_closure WHERE ancestor_id = ?');
  }

  /** Applies one event; unknown types are ignored (the caller still advances the checkpoint). */
  apply(event: ProjectableEvent): void {
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'OrgCreated':
        return this.orgCreated(event, event.data);
      case 'OrgUpdated':
        return this.orgUpdated(event, event.data);
      case 'OrgMoved':
        return this.orgMoved(event, event.data);
      case 'OrgDeleted':
        return this.orgDeleted(event.data);
      case 'UserCreated':
        return this.access.userCreated(event, event.data);
      case 'UserUpdated':
        return this.access.userUpdated(event, event.data);
      case 'UserDisabled':
        return this.access.userStatus(event, event.data, 'disabled');
      case 'UserEnabled':
        return this.access.userStatus(event, event.data, 'active');
      case 'UserPasswordChanged':
      case 'UserPasswordSet':
        return this.access.userPassword(event, event.data);
      case 'UserAddedToOrg':
        return this.access.userAddedToOrg(event, event.data);
      case 'MembershipConfirmed':
        return this.access.membershipConfirmed(event, event.data);
      case 'OrgUserUpdated':
        return this.access.orgUserUpdated(event, event.data);
      case 'UserRemovedFromOrg':
        return this.access.userRemovedFromOrg(event.data);
      case 'ClientCredentialIssued':
        return this.access.clientIssued(event, event.data);
      case 'ClientCredentialRevoked':
        return this.access.clientRevoked(event.data);
    }
  }

  private orgCreated(event: StoredEvent, d: OrgCreatedData): void {
    const parentDepth = d.parentId === null ? undefined : this.orgDepth.get(d.parentId);
    const key = nameKey(d.name);
    this.insertOrg.run({
      id: d.orgId,
      name: d.name,
      key,
      parentId: d.parentId,
      depth: parentDepth === undefined ? 0 : parentDepth + 1,
      description: d.description,
      metadata: JSON.stringify(d.metadata ?? {}),
      at: event.occurredAt,
      version: event.streamVersion,
    });
    this.insertSelfLink.run({ id: d.orgId, key });
    if (d.parentId !== null) this.insertAncestorLinks.run({ id: d.orgId, key, parentId: d.parentId });
  }

  private orgUpdated(event: StoredEvent, d: OrgUpdatedData): void {
    const key = nameKey(d.name);
    this.updateOrg.run({
      id: d.orgId,
      name: d.name,
      key,
      description: d.description,
      metadata: JSON.stringify(d.metadata ?? {}),
      at: event.occurredAt,
      version: event.streamVersion,
    });
    this.updateLinkNameKey.run({ id: d.orgId, key });
  }

  private orgMoved(event: StoredEvent, d: OrgMovedData): void {
    const oldDepth = this.orgDepth.get(d.orgId);
    if (oldDepth === undefined) return;
    const parentDepth = d.toParentId === null ? undefined : this.orgDepth.get(d.toParentId);
    const newDepth = parentDepth === undefined ? 0 : parentDepth + 1;
    this.unlinkSubtree.run({ id: d.orgId });
    if (d.toParentId !== null) this.linkSubtree.run({ id: d.orgId, toParentId: d.toParentId });
    if (newDepth !== oldDepth) this.shiftSubtreeDepth.run({ id: d.orgId, delta: newDepth - oldDepth });
    this.setParent.run({ id: d.orgId, toParentId: d.toParentId, at: event.occurredAt, version: event.streamVersion });
  }

  /** Deleted organizations are leaves, but all their links go either way, so a stray row cannot survive. */
  private orgDeleted(d: OrgDeletedData): void {
    this.deleteOrg.run(d.orgId);
    this.deleteLinksTo.run(d.orgId);
    this.deleteLinksFrom.run(d.orgId);
    this.access.orgDeleted(d.orgId);
  }
}

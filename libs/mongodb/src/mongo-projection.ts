import type {
  ApplicationPermissionRow,
  ClientRow,
  MembershipRow,
  NewOrgRow,
  NewUserRow,
  OrgChange,
  PersonalColumns,
  ReadModelEngine,
  RoleRow,
  RolesGrantedBy,
  UserStatusChange,
  VersionedRow,
  WebhookSubscriptionView,
} from '@arbor/application';
import type { Role } from '@arbor/domain';
import { MongoServerError, type AnyBulkWriteOperation } from 'mongodb';
import {
  membershipId,
  pairId,
  ROLE_CATALOG_CHECKPOINT,
  type OrgDoc,
  type ReadModelCollections,
} from './mongo-collections';
import { endOrgVersions, recordVersion } from './mongo-versions';
import { toWebhookView, webhookDoc } from './mongo-webhook-queries';

/**
 * FerretDB 1.24 hangs on one `update` command with as many statements as its connection pool: bulk writes go in
 * chunks of at most this many.
 */
export const BULK_CHUNK = 20;

/** MongoDB's duplicate key error. */
const DUPLICATE_KEY = 11000;

/** Called after each write of the projection; a test throws from it to simulate a crash mid-batch. */
export type AfterWrite = () => void | Promise<void>;

/**
 * The MongoDB engine of the shared projection (`projectEventAsync`), bound to one event (`position`). No
 * transaction holds a batch together (FerretDB has none), so every write is safe to run again, also over a
 * state that later events of the same batch have already changed, as after a crash between a batch's writes
 * and its checkpoint:
 * - writes set absolute values (`$set`, replace, upsert with `$setOnInsert`), never `$inc` on their own:
 *   re-applying the batch's events in order ends in the state they left the first time;
 * - a membership's version is the one counter: its writes are conditional on the membership's `position`
 *   being below this event's, so a re-applied event skips a membership it already changed;
 * - a subtree move computes each node's new `ancestors` array and `$set`s it (never `$pull`/`$push`, which
 *   FerretDB gets wrong with `$in` and `$position`), and depth with it.
 */
export class MongoReadModelEngine implements ReadModelEngine {
  /** An organization whose subtree `unlinkSubtree` detached and no `linkSubtree` has attached yet. */
  private detached: string | undefined;

  constructor(
    private readonly c: ReadModelCollections,
    private readonly position: number,
    private readonly afterWrite: AfterWrite | undefined,
  ) {}

  async orgDepth(orgId: string): Promise<number | undefined> {
    const org = await this.c.orgs.findOne({ _id: orgId }, { projection: { depth: 1 } });
    return org?.depth;
  }

  /** A parent without a row (its creation not projected) gives a root-like row, as the closure tables do. */
  async createOrg(o: NewOrgRow): Promise<void> {
    const ancestors = o.parentId === null ? [] : await this.pathTo(o.parentId);
    await this.insertOrKeep(
      this.c.orgs.insertOne({
        _id: o.id,
        name: o.name,
        nameKey: o.nameKey,
        parentId: o.parentId,
        description: o.description,
        metadata: JSON.stringify(o.metadata),
        ancestors,
        depth: ancestors.length,
        createdAt: o.at,
        updatedAt: o.at,
        version: o.version,
        position: this.position,
      }),
    );
  }

  async updateOrg(c: OrgChange): Promise<void> {
    await this.wrote(
      this.c.orgs.updateOne(
        { _id: c.id },
        {
          $set: {
            name: c.name,
            nameKey: c.nameKey,
            description: c.description,
            metadata: JSON.stringify(c.metadata),
            updatedAt: c.at,
            version: c.version,
            position: this.position,
          },
        },
      ),
    );
  }

  /**
   * Writes nothing yet: `linkSubtree` (a new parent) or `setParent` (to the root) rewrites the subtree's arrays
   * once, from the state it finds then.
   */
  unlinkSubtree(orgId: string): Promise<void> {
    this.detached = orgId;
    return Promise.resolve();
  }

  async linkSubtree(orgId: string, parentId: string): Promise<void> {
    this.detached = undefined;
    await this.rewriteSubtree(orgId, await this.pathTo(parentId));
  }

  /** Depths are set with the arrays, absolutely (a shift applied twice would count twice). */
  shiftSubtreeDepth(): Promise<void> {
    return Promise.resolve();
  }

  async setParent(orgId: string, parentId: string | null, at: string, version: number): Promise<void> {
    if (this.detached === orgId) {
      this.detached = undefined;
      await this.rewriteSubtree(orgId, []);
    }
    await this.wrote(
      this.c.orgs.updateOne({ _id: orgId }, { $set: { parentId, updatedAt: at, version, position: this.position } }),
    );
  }

  /**
   * Deleted organizations are leaves; a node that still names it (a log where it was not) loses it from its array
   * and keeps its depth, as the SQL adapters keep the other closure distances.
   */
  async deleteOrg(orgId: string): Promise<void> {
    await this.wrote(this.c.orgs.deleteOne({ _id: orgId }));
    const strays = await this.c.orgs.find({ ancestors: orgId }, { projection: { ancestors: 1 } }).toArray();
    await this.bulk(
      strays.map((node) => ({
        updateOne: {
          filter: { _id: node._id },
          update: { $set: { ancestors: node.ancestors.filter((id) => id !== orgId), position: this.position } },
        },
      })),
    );
  }

  async deleteOrgAccess(orgId: string): Promise<void> {
    await this.wrote(this.c.memberships.deleteMany({ orgId }));
    await this.wrote(this.c.clients.deleteMany({ orgId }));
    await this.wrote(this.c.webhooks.deleteMany({ orgId }));
  }

  async insertUser(u: NewUserRow): Promise<void> {
    await this.insertOrKeep(
      this.c.users.insertOne({
        _id: u.id,
        ...personalFields(u.personal),
        status: u.status,
        platformAdmin: u.platformAdmin,
        createdAt: u.at,
        updatedAt: u.at,
        version: u.version,
        sessionsNotBefore: null,
        keptSessionId: null,
        position: this.position,
      }),
    );
  }

  /** Opened data replaces the old one whole; none (its key is gone) clears it. The status is the events' alone. */
  async setPersonalData(userId: string, personal: PersonalColumns | null, at: string, version: number): Promise<void> {
    await this.wrote(
      this.c.users.updateOne(
        { _id: userId },
        { $set: { ...personalFields(personal), updatedAt: at, version, position: this.position } },
      ),
    );
  }

  /** Two writes (no pipeline updates on FerretDB): the status unless erased, then the rest; each idempotent. */
  async setUserStatus(c: UserStatusChange): Promise<void> {
    await this.wrote(
      this.c.users.updateOne(
        { _id: c.id, status: { $ne: 'erased' } },
        { $set: { status: c.status, position: this.position } },
      ),
    );
    const sessions = c.endSessions ? { sessionsNotBefore: c.at, keptSessionId: null } : {};
    await this.wrote(
      this.c.users.updateOne(
        { _id: c.id },
        { $set: { ...sessions, updatedAt: c.at, version: c.version, position: this.position } },
      ),
    );
  }

  async endSessions(userId: string, at: string, keptSessionId: string | null, version: number): Promise<void> {
    await this.wrote(
      this.c.users.updateOne(
        { _id: userId },
        { $set: { sessionsNotBefore: at, keptSessionId, updatedAt: at, version, position: this.position } },
      ),
    );
  }

  /** Version 1 for a new membership, one more over an existing one; skipped if this event already wrote it. */
  async upsertMembership(m: MembershipRow): Promise<void> {
    const _id = membershipId(m.orgId, m.userId);
    const existing = await this.c.memberships.findOne({ _id }, { projection: { version: 1, position: 1 } });
    if (existing !== null && existing.position >= this.position) return;
    await this.wrote(
      this.c.memberships.replaceOne(
        { _id },
        {
          orgId: m.orgId,
          userId: m.userId,
          roles: m.roles,
          addedAt: m.at,
          version: existing === null ? 1 : existing.version + 1,
          pending: m.pending,
          position: this.position,
        },
        { upsert: true },
      ),
    );
  }

  async confirmMembership(orgId: string, userId: string): Promise<void> {
    await this.changeMembership(orgId, userId, { pending: false });
  }

  async setMembershipRoles(orgId: string, userId: string, roles: Role[]): Promise<void> {
    await this.changeMembership(orgId, userId, { roles });
  }

  async deleteMembership(orgId: string, userId: string): Promise<void> {
    const _id = membershipId(orgId, userId);
    await this.wrote(this.c.memberships.deleteOne({ _id, position: { $lt: this.position } }));
  }

  async putClient(cl: ClientRow): Promise<void> {
    await this.wrote(this.c.clients.deleteMany({ clientId: cl.clientId, _id: { $ne: cl.id } }));
    await this.wrote(
      this.c.clients.replaceOne(
        { _id: cl.id },
        {
          clientId: cl.clientId,
          name: cl.name,
          orgId: cl.orgId,
          scopes: cl.scopes,
          roles: cl.roles,
          rolesGrantedBy: cl.rolesGrantedBy,
          createdAt: cl.at,
          version: cl.version,
          position: this.position,
        },
        { upsert: true },
      ),
    );
  }

  async setClientRoles(id: string, roles: string[], by: RolesGrantedBy | null, version: number): Promise<void> {
    await this.wrote(
      this.c.clients.updateOne({ _id: id }, { $set: { roles, rolesGrantedBy: by, version, position: this.position } }),
    );
  }

  async deleteClient(id: string): Promise<void> {
    await this.wrote(this.c.clients.deleteOne({ _id: id }));
  }

  /** Keeps an existing row's `createdAt` (a read, then a replace: both idempotent). */
  async putRole(r: RoleRow): Promise<void> {
    const existing = await this.c.roles.findOne({ _id: r.id }, { projection: { createdAt: 1 } });
    await this.wrote(
      this.c.roles.replaceOne(
        { _id: r.id },
        {
          orgId: r.orgId,
          name: r.name,
          description: r.description,
          permissions: r.permissions,
          appliesTo: r.appliesTo,
          createdAt: existing?.createdAt ?? r.at,
          updatedAt: r.at,
          version: r.version,
          position: this.position,
        },
        { upsert: true },
      ),
    );
  }

  async deleteRole(roleId: string): Promise<void> {
    await this.wrote(this.c.roles.deleteOne({ _id: roleId }));
  }

  async putApplicationPermission(p: ApplicationPermissionRow): Promise<void> {
    const _id = pairId(p.orgId, p.name);
    const existing = await this.c.permissions.findOne({ _id }, { projection: { createdAt: 1 } });
    await this.wrote(
      this.c.permissions.replaceOne(
        { _id },
        {
          orgId: p.orgId,
          name: p.name,
          description: p.description,
          createdAt: existing?.createdAt ?? p.at,
          updatedAt: p.at,
          version: p.version,
          position: this.position,
        },
        { upsert: true },
      ),
    );
  }

  async deleteApplicationPermission(orgId: string, name: string): Promise<void> {
    await this.wrote(this.c.permissions.deleteOne({ _id: pairId(orgId, name) }));
  }

  async deleteOrgDefinitions(orgId: string): Promise<void> {
    await this.wrote(this.c.roles.deleteMany({ orgId }));
    await this.wrote(this.c.permissions.deleteMany({ orgId }));
  }

  async setRoleCatalogPosition(position: number): Promise<void> {
    await this.wrote(
      this.c.checkpoints.updateOne({ _id: ROLE_CATALOG_CHECKPOINT }, { $set: { position } }, { upsert: true }),
    );
  }

  async webhookSubscription(subscriptionId: string): Promise<WebhookSubscriptionView | undefined> {
    const doc = await this.c.webhooks.findOne({ _id: subscriptionId });
    return doc === null ? undefined : toWebhookView(doc);
  }

  async putWebhookSubscription(row: WebhookSubscriptionView): Promise<void> {
    await this.wrote(this.c.webhooks.replaceOne({ _id: row.subscriptionId }, webhookDoc(row), { upsert: true }));
  }

  async deleteWebhookSubscription(subscriptionId: string): Promise<void> {
    await this.wrote(this.c.webhooks.deleteOne({ _id: subscriptionId }));
  }

  /** See `recordVersion` in mongo-versions.ts: idempotent, also over a state later events have changed. */
  async recordVersion(row: VersionedRow, position: number): Promise<void> {
    await recordVersion(this.c, row, position, this.afterWrite);
  }

  async endOrgVersions(orgId: string, position: number): Promise<void> {
    await endOrgVersions(this.c, orgId, position, this.afterWrite);
  }

  /** One membership change: the version grows by one, once per event (see the class comment). */
  private async changeMembership(orgId: string, userId: string, fields: Partial<{ pending: boolean; roles: Role[] }>) {
    const _id = membershipId(orgId, userId);
    await this.wrote(
      this.c.memberships.updateOne(
        { _id, position: { $lt: this.position } },
        { $set: { ...fields, position: this.position }, $inc: { version: 1 } },
      ),
    );
  }

  /** The ancestors of a child of `parentId`: the parent's own array and the parent; [] for a parent without a row. */
  private async pathTo(parentId: string): Promise<string[]> {
    const parent = await this.c.orgs.findOne({ _id: parentId }, { projection: { ancestors: 1 } });
    return parent === null ? [] : [...parent.ancestors, parentId];
  }

  /**
   * Gives `orgId` the ancestors `path` and every node below it `path`, `orgId` and the part of its array below
   * `orgId` (the subtree keeps its shape); depth is each array's length. Computed from the arrays as they are
   * now, so running it again (a re-applied batch) writes the same values.
   */
  private async rewriteSubtree(orgId: string, path: string[]): Promise<void> {
    const org = await this.c.orgs.findOne({ _id: orgId }, { projection: { ancestors: 1 } });
    if (org === null) return;
    const below = await this.c.orgs.find({ ancestors: orgId }, { projection: { ancestors: 1 } }).toArray();
    const set = (node: Pick<OrgDoc, '_id'>, ancestors: string[]): AnyBulkWriteOperation<OrgDoc> => ({
      updateOne: {
        filter: { _id: node._id },
        update: { $set: { ancestors, depth: ancestors.length, position: this.position } },
      },
    });
    await this.bulk([
      set(org, path),
      ...below.map((node) => set(node, [...path, ...node.ancestors.slice(node.ancestors.indexOf(orgId))])),
    ]);
  }

  /** Unordered bulk writes to `orgs`, in chunks of BULK_CHUNK; each chunk counts as one write. */
  private async bulk(operations: Array<AnyBulkWriteOperation<OrgDoc>>): Promise<void> {
    for (let i = 0; i < operations.length; i += BULK_CHUNK) {
      await this.wrote(this.c.orgs.bulkWrite(operations.slice(i, i + BULK_CHUNK), { ordered: false }));
    }
  }

  /**
   * An insert that keeps an existing document (a re-applied event): a duplicate `_id` is success. Not an upsert
   * with `$setOnInsert`: FerretDB 1.24 drops its null and empty-array fields.
   */
  private async insertOrKeep(insert: Promise<unknown>): Promise<void> {
    await this.wrote(
      insert.catch((e: unknown) => {
        if (!(e instanceof MongoServerError && e.code === DUPLICATE_KEY)) throw e;
      }),
    );
  }

  private async wrote(write: Promise<unknown>): Promise<void> {
    await write;
    await this.afterWrite?.();
  }
}

/** email, emailKey, name, nameKey: all null when the personal data could not be opened. */
function personalFields(p: PersonalColumns | null) {
  return p
    ? { email: p.email, emailKey: p.emailKey, name: p.name, nameKey: p.nameKey }
    : { email: null, emailKey: null, name: null, nameKey: null };
}

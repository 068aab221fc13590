import { OPEN_VERSION, type VersionedRow } from '@arbor/application';
import { MongoServerError, type Collection, type Document } from 'mongodb';
import { membershipId, pairId, type ReadModelCollections } from './mongo-collections';
import type { AfterWrite } from './mongo-projection';

/** A document of the present or versioned collections, handled alike here. */
interface AnyDoc extends Document {
  _id: string;
}

/** MongoDB's duplicate key error. */
const DUPLICATE_KEY = 11000;

/** The present collection, the versions collection and the present document's `_id` of a versioned row. */
function locate(
  c: ReadModelCollections,
  row: VersionedRow,
): { present: Collection<AnyDoc>; versions: Collection<AnyDoc>; key: string } {
  const pick = (present: unknown, versions: unknown, key: string) => ({
    present: present as Collection<AnyDoc>,
    versions: versions as Collection<AnyDoc>,
    key,
  });
  switch (row.kind) {
    case 'org':
      return pick(c.orgs, c.orgVersions, row.orgId);
    case 'user':
      return pick(c.users, c.userVersions, row.userId);
    case 'membership':
      return pick(c.memberships, c.membershipVersions, membershipId(row.orgId, row.userId));
    case 'client':
      return pick(c.clients, c.clientVersions, row.id);
    case 'role':
      return pick(c.roles, c.roleVersions, row.roleId);
    case 'permission':
      return pick(c.permissions, c.permissionVersions, pairId(row.orgId, row.name));
  }
}

/** A version's `_id`: its key and where it begins. */
export const versionId = (key: string, validFrom: number): string => pairId(key, String(validFrom));

/**
 * ReadModelEngine.recordVersion without a transaction: ends the row's open version at `position` and, when the
 * present document exists, opens one from `position` copying it. Safe to run again, also when the batch is
 * re-applied over a state that later events of it had already changed (their writes done, the checkpoint not):
 * - a version from `position` already there was written the first time this event got this far, when the
 *   present was exactly as this event left it: it stays, and nothing else is done;
 * - otherwise, a present document a later event has written (its `position` above this one) is ahead: this
 *   event had no version the first time (the row was gone then, or the membership's write was skipped as
 *   already applied), so none is made now;
 * - only versions opened before `position` are ended, never one a later event opened.
 * SQL adapters replace a version from `position` instead: there the present is never ahead of the event.
 */
export async function recordVersion(
  c: ReadModelCollections,
  row: VersionedRow,
  position: number,
  afterWrite: AfterWrite | undefined,
): Promise<void> {
  const { present, versions, key } = locate(c, row);
  const _id = versionId(key, position);
  if ((await versions.findOne({ _id }, { projection: { _id: 1 } })) !== null) return;
  const doc = await present.findOne({ _id: key });
  if (doc !== null && Number(doc.position) > position) return;
  await versions.updateMany(
    { key, validTo: OPEN_VERSION, validFrom: { $lt: position } },
    { $set: { validTo: position } },
  );
  await afterWrite?.();
  if (doc === null) return;
  const { _id: _present, position: _position, ancestors: _ancestors, depth: _depth, ...copy } = doc;
  await versions.insertOne({ ...copy, _id, key, validFrom: position, validTo: OPEN_VERSION }).catch((e: unknown) => {
    if (!(e instanceof MongoServerError && e.code === DUPLICATE_KEY)) throw e;
  });
  await afterWrite?.();
}

/**
 * ReadModelEngine.endOrgVersions: ends at `position` the open versions of the organization's memberships, client
 * credentials, roles and application permissions (opened before `position`; an organization id is never reused).
 */
export async function endOrgVersions(
  c: ReadModelCollections,
  orgId: string,
  position: number,
  afterWrite: AfterWrite | undefined,
): Promise<void> {
  for (const versions of [c.membershipVersions, c.clientVersions, c.roleVersions, c.permissionVersions]) {
    await (versions as unknown as Collection<AnyDoc>).updateMany(
      { orgId, validTo: OPEN_VERSION, validFrom: { $lt: position } },
      { $set: { validTo: position } },
    );
    await afterWrite?.();
  }
}

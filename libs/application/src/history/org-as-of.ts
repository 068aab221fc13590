import { orgStreamId, type EventDataByType, type StoredEvent } from '@arbor/domain';
import type { EventStore } from '../ports/event-store';
import type { OrgView } from '../ports/read-models';

/** The organization events, the only ones its stream `org-<id>` holds (org-decisions.ts). */
type OrgEventType = 'OrgCreated' | 'OrgUpdated' | 'OrgMoved' | 'OrgDeleted';
type Folded = Omit<OrgView, 'depth'> | undefined;

/**
 * How each organization event changes the organization as the read model holds it (read-model-projection.ts):
 * `version` is the stream version of its last event, `updatedAt` that event's time. Typed against every
 * organization event: one added to the stream without a case here fails the build.
 */
const FOLD: { [K in OrgEventType]: (org: Folded, data: EventDataByType[K], e: StoredEvent) => Folded } = {
  OrgCreated: (_org, d, e) => ({
    id: d.orgId,
    name: d.name,
    parentId: d.parentId,
    description: d.description,
    metadata: d.metadata ?? {},
    createdAt: e.occurredAt,
    updatedAt: e.occurredAt,
    version: e.streamVersion,
  }),
  OrgUpdated: (org, d, e) =>
    org && {
      ...org,
      name: d.name,
      description: d.description,
      metadata: d.metadata ?? {},
      updatedAt: e.occurredAt,
      version: e.streamVersion,
    },
  OrgMoved: (org, d, e) => org && { ...org, parentId: d.toParentId, updatedAt: e.occurredAt, version: e.streamVersion },
  OrgDeleted: () => undefined,
};

/** The organization `orgId` folded from its stream up to `position`, without its depth. */
async function foldOrg(store: Pick<EventStore, 'readStream'>, orgId: string, position: number): Promise<Folded> {
  let org: Folded;
  for (const e of await store.readStream(orgStreamId(orgId))) {
    if (e.position > position) break;
    const fold = FOLD[e.type as OrgEventType] as ((o: Folded, d: unknown, e: StoredEvent) => Folded) | undefined;
    if (fold !== undefined) org = fold(org, e.data, e);
  }
  return org;
}

/**
 * The organization and its ancestors as they were when the log ended at `position`, the organization first and
 * the root last, each without its depth; undefined when the organization did not exist then.
 */
async function chainAsOf(
  store: Pick<EventStore, 'readStream'>,
  orgId: string,
  position: number,
): Promise<Array<NonNullable<Folded>> | undefined> {
  const org = await foldOrg(store, orgId, position);
  if (org === undefined) return undefined;
  const chain = [org];
  for (let parentId = org.parentId; parentId !== null;) {
    const parent = await foldOrg(store, parentId, position);
    // A parent always exists while a child does (the domain deletes leaves only); stop rather than loop.
    if (parent === undefined) break;
    chain.push(parent);
    parentId = parent.parentId;
  }
  return chain;
}

/**
 * The view with its depth, its members in the read models' order: an ETag hashes the body as written
 * (representationTag), so the same version must read the same, byte for byte, now and in the past.
 */
const withDepth = (org: NonNullable<Folded>, depth: number): OrgView => ({
  id: org.id,
  name: org.name,
  parentId: org.parentId,
  description: org.description,
  metadata: org.metadata,
  depth,
  createdAt: org.createdAt,
  updatedAt: org.updatedAt,
  version: org.version,
});

/**
 * An organization as it was when the log ended at `position` (issue 14, point in time; contract section 8): the
 * OrgView the read model held then, folded from the organization's stream and, for its depth, its ancestors'
 * streams, each read up to `position`. Undefined when it did not exist then (not yet created, or deleted).
 * Reads one stream per level of the tree (at most the depth limit), each small: no temporal read model needed.
 */
export async function orgAsOf(
  store: Pick<EventStore, 'readStream'>,
  orgId: string,
  position: number,
): Promise<OrgView | undefined> {
  const chain = await chainAsOf(store, orgId, position);
  return chain && withDepth(chain[0], chain.length - 1);
}

/**
 * The ancestors of an organization as they were when the log ended at `position`, root first and the direct
 * parent last (as OrgQueries.parents answers now); undefined when the organization did not exist then.
 */
export async function parentsAsOf(
  store: Pick<EventStore, 'readStream'>,
  orgId: string,
  position: number,
): Promise<OrgView[] | undefined> {
  const chain = await chainAsOf(store, orgId, position);
  return (
    chain &&
    chain
      .slice(1)
      .reverse()
      .map((org, depth) => ({ ...org, depth }))
  );
}

/**
 * The position the log had reached at `instant` (an ISO 8601 UTC instant as `toISOString` writes it): the last
 * event whose `occurredAt` is at or before it, 0 when none. A binary search over positions, one indexed read of
 * one event per step (about 20 at a million events), relying on event times growing with positions (the stores
 * stamp them in write order).
 */
export async function positionAtInstant(
  store: Pick<EventStore, 'readAll' | 'headPosition'>,
  instant: string,
): Promise<number> {
  let lo = 0;
  let hi = await store.headPosition();
  // Invariant: every event at or below `lo` happened at or before `instant`; none after `hi` did (or none exists).
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [next] = await store.readAll({ after: mid, limit: 1 });
    if (next === undefined || next.position > hi || next.occurredAt > instant) hi = mid;
    else lo = next.position;
  }
  return lo;
}

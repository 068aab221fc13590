import {
  MembershipIndex,
  OrgTree,
  RoleIndex,
  UserDirectory,
  WebhookIndex,
  normaliseRoles,
  type IdentityState,
  type FromRef,
  type OrgNode,
  type Role,
  type StoredEvent,
} from '@arbor/domain';
import type { AccessFacts } from '../auth/access-facts';
import { SNAPSHOT_FORMAT, type CommandModelSnapshot } from './command-model-snapshot-file';

/**
 * What the command side decides against: the identity state folded from the log up to `position`, and the
 * version of every stream (the expected versions of the next appends). Folding is deterministic, so a model
 * restored from a snapshot of position P and then fed the events after P equals one fed the whole log.
 */
export class CommandModel {
  /** `roles` is always present here: the live catalog of built-in and custom roles (issue 13). */
  readonly state: IdentityState & { roles: RoleIndex; webhooks: WebhookIndex };
  position: number;
  /** The id of the event at `position`; a snapshot records it so that it can be matched with the log. */
  lastEventId: string | null;
  /** Events folded since this model was created or restored (catch-up sizes for logs and snapshots). */
  folded = 0;
  /**
   * Stream versions that the state does not tell: streams whose entity is gone (a deleted organization, a
   * removed membership, a revoked client) or that the state does not know. Every other stream's version is
   * its entity's `version`, which saves a map entry per stream (300k at 100k users and organizations).
   * Invariant, kept by `apply`: for every stream in the log, `streamVersion` returns its last version.
   */
  private readonly otherVersions: Map<string, number>;

  constructor(from?: CommandModelSnapshot) {
    const orgs = from ? OrgTree.fromSnapshot(from.orgs) : new OrgTree();
    const ancestorsOf = (orgId: string): string[] => orgs.ancestors(orgId);
    this.state = from
      ? {
          orgs,
          users: UserDirectory.fromSnapshot(from.users),
          memberships: MembershipIndex.fromSnapshot(from.memberships, rowIds(from)),
          roles: RoleIndex.fromSnapshot(from.roles, ancestorsOf),
          webhooks: WebhookIndex.fromSnapshot(from.webhooks, from.position),
        }
      : {
          orgs,
          users: new UserDirectory(),
          memberships: new MembershipIndex(),
          roles: new RoleIndex(ancestorsOf),
          webhooks: new WebhookIndex(),
        };
    this.otherVersions = new Map(from?.streamVersions);
    this.position = from?.position ?? 0;
    this.lastEventId = from?.lastEventId ?? null;
  }

  /**
   * The ids of the client credentials (`kind` 'client') or webhook subscriptions ('webhook') that existed and have
   * ended: revoked, deleted. Their streams are in the log, their entities no longer in the state. Used at start to
   * destroy again the secrets a crash may have left between an ending's commit and their destruction.
   */
  endedIds(kind: 'client' | 'webhook'): string[] {
    const prefix = `${kind}-`;
    const ids: string[] = [];
    for (const streamId of this.otherVersions.keys())
      if (streamId.startsWith(prefix) && this.entityVersion(streamId) === undefined)
        ids.push(streamId.slice(prefix.length));
    return ids;
  }

  streamVersion(streamId: string): number | undefined {
    return this.otherVersions.get(streamId) ?? this.entityVersion(streamId);
  }

  /** The version the state holds for the entity of a stream named by the domain's `*StreamId` helpers. */
  private entityVersion(streamId: string): number | undefined {
    const dash = streamId.indexOf('-');
    const id = streamId.slice(dash + 1);
    switch (streamId.slice(0, dash)) {
      case 'org':
        return this.state.orgs.get(id)?.version;
      case 'user':
        return this.state.users.get(id)?.version;
      case 'membership': {
        // membership-<orgId>-<userId>; generated ids hold no '-'.
        const split = id.indexOf('-');
        return split < 0 ? undefined : this.state.memberships.get(id.slice(0, split), id.slice(split + 1))?.version;
      }
      case 'client':
        return this.state.memberships.client(id)?.version;
      case 'role':
      case 'permission':
        return this.state.roles.version(streamId);
      case 'webhook':
        return this.state.webhooks.get(id)?.version;
      default:
        return undefined;
    }
  }

  /**
   * Folds one event. For events with sealed personal data, `emailIndex` is the email index entry of the
   * opened record (see UserDirectory), null when it cannot be opened (its key is gone: the user is erased).
   */
  apply(event: StoredEvent, emailIndex: string | null): void {
    if (event.position > this.position) {
      this.position = event.position;
      this.lastEventId = event.id;
    }
    this.folded++;
    this.state.orgs.apply(event);
    this.state.memberships.apply(event);
    this.state.users.apply(event, emailIndex);
    this.state.roles.apply(event);
    this.state.webhooks.apply(event);
    // Only an event of a stream changes the version its entity holds (deletions of other streams' entities
    // come as events of those streams), so checking the event's own stream keeps the invariant.
    if (this.entityVersion(event.streamId) === event.streamVersion) this.otherVersions.delete(event.streamId);
    else this.otherVersions.set(event.streamId, event.streamVersion);
  }

  /**
   * The access policy's facts read from this model: commands are authorized against the very state they are
   * decided on. Reads are synchronous map lookups; the promises only fit the shared interface.
   */
  readonly accessFacts: AccessFacts<OrgNode> = {
    org: async (orgId) => this.state.orgs.get(orgId),
    ancestorIds: async (orgId) => this.state.orgs.ancestors(orgId),
    effectiveRoles: async (userId, orgId) => {
      if (!this.state.orgs.get(orgId)) return [];
      const roles: Role[] = [];
      for (const id of this.state.orgs.path(orgId)) {
        const membership = this.state.memberships.get(id, userId);
        if (membership && !membership.pending) roles.push(...membership.roles);
      }
      return normaliseRoles(roles);
    },
    membershipRoots: async (userId) =>
      this.state.memberships
        .orgsOf(userId)
        .map((orgId) => ({ orgId, membership: this.state.memberships.get(orgId, userId)! }))
        .filter(({ membership }) => !membership.pending)
        .map(({ orgId, membership }) => ({ orgId, roles: membership.roles })),
    directRoles: async (orgId, userId) => this.state.memberships.get(orgId, userId)?.roles,
    isPendingMember: async (orgId, userId) => this.state.memberships.get(orgId, userId)?.pending === true,
    clientOrg: async (id) => this.state.memberships.client(id)?.orgId,
    clientRoles: async (id) => this.state.memberships.client(id)?.roles,
    isPlatformAdminUser: async (userId) => this.state.users.get(userId)?.platformAdmin === true,
    applicationPermissionsAt: async (orgId) => this.state.roles.permissionsVisibleAt(orgId).map((p) => p.name),
    webhookOrg: async (id) => this.state.webhooks.get(id)?.orgId,
  };

  /** Plain data; the rows are copies or immutable values, so later folds do not change a taken snapshot. */
  toSnapshot(): CommandModelSnapshot {
    const orgs = this.state.orgs.toSnapshot();
    const users = this.state.users.toSnapshot();
    const rows = { org: new Map(orgs.ids.map((id, i) => [id, i])), user: new Map(users.ids.map((id, i) => [id, i])) };
    return {
      format: SNAPSHOT_FORMAT,
      position: this.position,
      lastEventId: this.lastEventId,
      orgs,
      users,
      memberships: this.state.memberships.toSnapshot((kind, id) => rows[kind].get(id) ?? id),
      roles: this.state.roles.toSnapshot(),
      webhooks: this.state.webhooks.toSnapshot(),
      streamVersions: [...this.otherVersions],
    };
  }
}

/** Memberships and clients name organizations and users by row; ids not in the columns stay strings. */
function rowIds(from: CommandModelSnapshot): FromRef {
  const column = { org: from.orgs.ids, user: from.users.ids };
  return (kind, ref) => {
    if (typeof ref === 'string') return ref;
    const found = column[kind][ref];
    if (found === undefined) throw new Error(`command-model snapshot: no ${kind} at row ${ref}.`);
    return found;
  };
}

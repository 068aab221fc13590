import type { Role, StoredEvent } from './events';
import { isKnownEvent } from './events';
import { unhandledEventType } from './event-catalogue';

export interface MembershipEntry {
  roles: Role[];
  /** The membership's own changes, from 1 when it began (not its stream's version: see `apply`). */
  version: number;
  /** A membership that links an account its adder could not see: it grants nothing until confirmed. */
  pending?: true;
}

/** An organization or user id, or its index in the snapshot's `ids` of that kind (see `SnapshotRefs`). */
export type IdRef = string | number;

/** Names an organization or user in a snapshot being written (by row where the caller knows it). */
export type ToRef = (kind: 'org' | 'user', id: string) => IdRef;
/** Resolves a reference of a snapshot being read. */
export type FromRef = (kind: 'org' | 'user', ref: IdRef) => string;

/** Columns, like OrgTreeSnapshot; roles as indexes into `roleSets`. */
export interface MembershipIndexSnapshot {
  roleSets: Role[][];
  /** In insertion order per organization. */
  members: { orgs: IdRef[]; users: IdRef[]; roles: number[]; versions: number[] };
  /** Indexes into `members` of the pending memberships (few); absent in snapshots older than pending ones. */
  pending?: number[];
  /** `roles` (each client's role ids) is absent in snapshots older than roles on clients: none held. */
  /**
   * `scopeless` (indexes into `ids` of the clients issued with roles and no scopes) is absent in snapshots older
   * than such clients, when every client had a scope.
   */
  clients: {
    ids: string[];
    orgs: IdRef[];
    clientIds: string[];
    versions: number[];
    roles?: Role[][];
    scopeless?: number[];
  };
  /** Kept apart from `clients`: an organization's deletion empties its set but leaves `clients` as they are. */
  clientsByOrg: Array<[IdRef, string[]]>;
}

/** Role lists are few and never edited in place: every membership with the same roles shares one array. */
const roleSets = new Map<string, Role[]>();
const internRoles = (roles: Role[]): Role[] => {
  const key = roles.join(',');
  let shared = roleSets.get(key);
  if (!shared) roleSets.set(key, (shared = Object.freeze([...roles]) as Role[]));
  return shared;
};

/**
 * An organization's direct members: most organizations have one, and a Map per organization would cost
 * ~180 bytes more each (15 MB of the model at 100k organizations), so a lone member is a plain record and
 * the Map comes with the second. Invariant: a `Map` here always holds at least one entry.
 */
type Members = { userId: string; entry: MembershipEntry } | Map<string, MembershipEntry>;

const memberIn = (members: Members | undefined, userId: string): MembershipEntry | undefined =>
  members === undefined
    ? undefined
    : members instanceof Map
      ? members.get(userId)
      : members.userId === userId
        ? members.entry
        : undefined;

const entriesOf = (members: Members | undefined): Array<[string, MembershipEntry]> =>
  members === undefined ? [] : members instanceof Map ? [...members] : [[members.userId, members.entry]];

/**
 * The organizations a user is a direct member of: one id for most users (a Set per user would cost ~100
 * bytes more each), a Set from the second on. Invariant: a `Set` here always holds at least two entries.
 */
type OrgsOfUser = string | Set<string>;

/** A client credential as the command side knows it: its organization, `client_id`, stream version, roles. */
export interface ClientEntry {
  orgId: string;
  clientId: string;
  version: number;
  /** Role ids held on `orgId`, normalised; `[]` for none. */
  roles: readonly Role[];
  /** Issued with no scopes (its roles alone give it anything): it must keep at least one role. */
  scopeless?: true;
}

/** The command side's view of direct memberships and client credentials, folded from the log. */
export class MembershipIndex {
  private readonly byOrg = new Map<string, Members>();
  /** The inverse of `byOrg`: kept in step by `setMember` and `removeMember`. */
  private readonly byUser = new Map<string, OrgsOfUser>();
  private readonly clientsByOrg = new Map<string, Set<string>>();
  private readonly clients = new Map<string, ClientEntry>();

  get(orgId: string, userId: string): MembershipEntry | undefined {
    return memberIn(this.byOrg.get(orgId), userId);
  }

  membersOf(orgId: string): Array<[string, MembershipEntry]> {
    return entriesOf(this.byOrg.get(orgId));
  }

  /** The organizations where the user holds a direct membership, in no particular order. */
  orgsOf(userId: string): string[] {
    const orgs = this.byUser.get(userId);
    return orgs === undefined ? [] : typeof orgs === 'string' ? [orgs] : [...orgs];
  }

  client(clientCredentialId: string): ClientEntry | undefined {
    return this.clients.get(clientCredentialId);
  }

  clientsOf(orgId: string): string[] {
    return [...(this.clientsByOrg.get(orgId) ?? [])];
  }

  toSnapshot(ref: ToRef): MembershipIndexSnapshot {
    const sets = new Map<Role[], number>();
    const snapshot: MembershipIndexSnapshot = {
      roleSets: [],
      members: { orgs: [], users: [], roles: [], versions: [] },
      pending: [] as number[],
      clients: { ids: [], orgs: [], clientIds: [], versions: [], roles: [], scopeless: [] as number[] },
      clientsByOrg: [],
    };
    for (const [orgId, members] of this.byOrg) {
      const org = ref('org', orgId);
      for (const [userId, m] of entriesOf(members)) {
        let set = sets.get(m.roles);
        if (set === undefined) sets.set(m.roles, (set = snapshot.roleSets.push(m.roles) - 1));
        if (m.pending) snapshot.pending!.push(snapshot.members.orgs.length);
        snapshot.members.orgs.push(org);
        snapshot.members.users.push(ref('user', userId));
        snapshot.members.roles.push(set);
        snapshot.members.versions.push(m.version);
      }
    }
    for (const [id, c] of this.clients) {
      if (c.scopeless) snapshot.clients.scopeless!.push(snapshot.clients.ids.length);
      snapshot.clients.ids.push(id);
      snapshot.clients.orgs.push(ref('org', c.orgId));
      snapshot.clients.clientIds.push(c.clientId);
      snapshot.clients.versions.push(c.version);
      snapshot.clients.roles?.push([...c.roles]);
    }
    for (const [orgId, ids] of this.clientsByOrg) snapshot.clientsByOrg.push([ref('org', orgId), [...ids]]);
    return snapshot;
  }

  static fromSnapshot(snapshot: MembershipIndexSnapshot, id: FromRef): MembershipIndex {
    const index = new MembershipIndex();
    const sets = snapshot.roleSets.map(internRoles);
    const { orgs, users, roles, versions } = snapshot.members;
    const pending = new Set(snapshot.pending ?? []);
    let orgId = '';
    let lastOrg: IdRef | undefined;
    for (let i = 0; i < orgs.length; i++) {
      if (orgs[i] !== lastOrg) orgId = id('org', (lastOrg = orgs[i]));
      const entry: MembershipEntry = { roles: sets[roles[i]], version: versions[i] };
      if (pending.has(i)) entry.pending = true;
      index.setMember(orgId, id('user', users[i]), entry);
    }
    const c = snapshot.clients;
    const scopeless = new Set(c.scopeless ?? []);
    for (let i = 0; i < c.ids.length; i++) {
      const entry: ClientEntry = {
        orgId: id('org', c.orgs[i]),
        clientId: c.clientIds[i],
        version: c.versions[i],
        roles: c.roles?.[i] ?? [],
      };
      if (scopeless.has(i)) entry.scopeless = true;
      index.clients.set(c.ids[i], entry);
    }
    for (const [org, ids] of snapshot.clientsByOrg) index.clientsByOrg.set(id('org', org), new Set(ids));
    return index;
  }

  apply(event: StoredEvent): void {
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'UserAddedToOrg': {
        const { orgId, userId, roles, pending } = event.data;
        // A membership's version counts its own changes from 1 (contract section 1): a user added again after
        // a removal starts a new membership at 1, while its stream goes on (the command model keeps that apart).
        const version = (this.get(orgId, userId)?.version ?? 0) + 1;
        this.setMember(
          orgId,
          userId,
          pending ? { roles: internRoles(roles), version, pending } : { roles: internRoles(roles), version },
        );
        return;
      }
      case 'OrgUserUpdated':
      case 'MembershipConfirmed': {
        const { orgId, userId } = event.data;
        const current = this.get(orgId, userId);
        if (!current) return;
        const roles = event.type === 'OrgUserUpdated' ? internRoles(event.data.roles) : current.roles;
        // An update keeps a pending membership pending; only a confirmation ends that.
        const pending = event.type === 'OrgUserUpdated' ? current.pending : undefined;
        const version = current.version + 1;
        this.setMember(orgId, userId, pending ? { roles, version, pending } : { roles, version });
        return;
      }
      case 'UserRemovedFromOrg':
        this.removeMember(event.data.orgId, event.data.userId);
        return;
      case 'ClientCredentialIssued': {
        const { clientCredentialId, orgId, clientId, roles, scopes } = event.data;
        const entry: ClientEntry = { orgId, clientId, version: event.streamVersion, roles: roles ?? [] };
        if (scopes.length === 0) entry.scopeless = true;
        this.clients.set(clientCredentialId, entry);
        let set = this.clientsByOrg.get(orgId);
        if (!set) this.clientsByOrg.set(orgId, (set = new Set()));
        set.add(clientCredentialId);
        return;
      }
      case 'ClientCredentialRolesChanged': {
        const client = this.clients.get(event.data.clientCredentialId);
        if (client)
          this.clients.set(event.data.clientCredentialId, {
            ...client,
            roles: event.data.roles,
            version: event.streamVersion,
          });
        return;
      }
      case 'ClientCredentialRevoked':
        this.clients.delete(event.data.clientCredentialId);
        this.clientsByOrg.get(event.data.orgId)?.delete(event.data.clientCredentialId);
        return;
      case 'OrgDeleted':
        // The deciders remove every member first; a log written otherwise must not leave dangling entries.
        for (const [userId] of this.membersOf(event.data.orgId)) this.removeMember(event.data.orgId, userId);
        this.byOrg.delete(event.data.orgId);
        this.clientsByOrg.delete(event.data.orgId);
        return;
      // The rest of the hierarchy, retention settings and the users' own records hold no memberships or clients.
      case 'OrgAuditRetentionSet':
      case 'OrgCreated':
      case 'OrgUpdated':
      case 'OrgMoved':
      case 'RequestMetadataDropped':
      case 'UserCreated':
      case 'UserUpdated':
      case 'UserDisabled':
      case 'UserEnabled':
      case 'UserPasswordChanged':
      case 'UserPasswordSet':
      case 'UserErased': // (its memberships ended before it, each by a UserRemovedFromOrg of the same command)
      case 'ApplicationPermissionDefined':
      case 'ApplicationPermissionUpdated':
      case 'ApplicationPermissionDeleted':
      case 'RoleDefined':
      case 'RoleUpdated':
      case 'RoleDeleted':
      case 'WebhookSubscriptionCreated':
      case 'WebhookSubscriptionUpdated':
      case 'WebhookSecretRotated':
      case 'WebhookSubscriptionDisabled':
      case 'WebhookSubscriptionEnabled':
      case 'WebhookReplayRequested':
      case 'WebhookSubscriptionDeleted':
        return;
      default:
        return unhandledEventType(event);
    }
  }

  private setMember(orgId: string, userId: string, entry: MembershipEntry): void {
    const orgs = this.byUser.get(userId);
    if (orgs === undefined) this.byUser.set(userId, orgId);
    else if (typeof orgs === 'string') {
      if (orgs !== orgId) this.byUser.set(userId, new Set([orgs, orgId]));
    } else orgs.add(orgId);
    const members = this.byOrg.get(orgId);
    if (members === undefined || (!(members instanceof Map) && members.userId === userId)) {
      this.byOrg.set(orgId, { userId, entry });
    } else if (members instanceof Map) {
      members.set(userId, entry);
    } else {
      this.byOrg.set(
        orgId,
        new Map([
          [members.userId, members.entry],
          [userId, entry],
        ]),
      );
    }
  }

  private removeMember(orgId: string, userId: string): void {
    const orgs = this.byUser.get(userId);
    if (orgs === orgId) this.byUser.delete(userId);
    else if (typeof orgs === 'object') {
      orgs.delete(orgId);
      if (orgs.size === 1) this.byUser.set(userId, orgs.values().next().value as string);
    }
    const members = this.byOrg.get(orgId);
    if (members === undefined) return;
    if (members instanceof Map) {
      members.delete(userId);
      if (members.size === 0) this.byOrg.delete(orgId);
    } else if (members.userId === userId) {
      this.byOrg.delete(orgId);
    }
  }
}

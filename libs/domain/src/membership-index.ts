import type { Role, StoredEvent } from './events';
import { isKnownEvent } from './events';

export interface MembershipEntry {
  roles: Role[];
  version: number;
}

export interface MembershipIndexSnapshot {
  /** orgId, userId, roles, version; in insertion order per organization. */
  members: Array<[string, string, Role[], number]>;
  /** clientCredentialId, orgId, clientId, version. */
  clients: Array<[string, string, string, number]>;
  /** Kept apart from `clients`: an organization's deletion empties its set but leaves `clients` as they are. */
  clientsByOrg: Array<[string, string[]]>;
}

/** The command side's view of direct memberships and client credentials, folded from the log. */
export class MembershipIndex {
  private readonly byOrg = new Map<string, Map<string, MembershipEntry>>();
  private readonly clientsByOrg = new Map<string, Set<string>>();
  private readonly clients = new Map<string, { orgId: string; clientId: string; version: number }>();

  get(orgId: string, userId: string): MembershipEntry | undefined {
    return this.byOrg.get(orgId)?.get(userId);
  }

  membersOf(orgId: string): Array<[string, MembershipEntry]> {
    return [...(this.byOrg.get(orgId)?.entries() ?? [])];
  }

  client(clientCredentialId: string): { orgId: string; clientId: string; version: number } | undefined {
    return this.clients.get(clientCredentialId);
  }

  clientsOf(orgId: string): string[] {
    return [...(this.clientsByOrg.get(orgId) ?? [])];
  }

  toSnapshot(): MembershipIndexSnapshot {
    const members: MembershipIndexSnapshot['members'] = [];
    for (const [orgId, byUser] of this.byOrg) for (const [userId, m] of byUser) members.push([orgId, userId, m.roles, m.version]);
    return {
      members,
      clients: [...this.clients].map(([id, c]) => [id, c.orgId, c.clientId, c.version]),
      clientsByOrg: [...this.clientsByOrg].map(([orgId, ids]) => [orgId, [...ids]]),
    };
  }

  static fromSnapshot(snapshot: MembershipIndexSnapshot): MembershipIndex {
    const index = new MembershipIndex();
    for (const [orgId, userId, roles, version] of snapshot.members) {
      let byUser = index.byOrg.get(orgId);
      if (!byUser) index.byOrg.set(orgId, (byUser = new Map()));
      byUser.set(userId, { roles, version });
    }
    for (const [id, orgId, clientId, version] of snapshot.clients) index.clients.set(id, { orgId, clientId, version });
    for (const [orgId, ids] of snapshot.clientsByOrg) index.clientsByOrg.set(orgId, new Set(ids));
    return index;
  }

  apply(event: StoredEvent): void {
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'UserAddedToOrg':
      case 'OrgUserUpdated': {
        const { orgId, userId, roles } = event.data;
        let members = this.byOrg.get(orgId);
        if (!members) this.byOrg.set(orgId, (members = new Map()));
        members.set(userId, { roles, version: event.streamVersion });
        return;
      }
      case 'UserRemovedFromOrg':
        this.byOrg.get(event.data.orgId)?.delete(event.data.userId);
        return;
      case 'ClientCredentialIssued': {
        const { clientCredentialId, orgId, clientId } = event.data;
        this.clients.set(clientCredentialId, { orgId, clientId, version: event.streamVersion });
        let set = this.clientsByOrg.get(orgId);
        if (!set) this.clientsByOrg.set(orgId, (set = new Set()));
        set.add(clientCredentialId);
        return;
      }
      case 'ClientCredentialRevoked':
        this.clients.delete(event.data.clientCredentialId);
        this.clientsByOrg.get(event.data.orgId)?.delete(event.data.clientCredentialId);
        return;
      case 'OrgDeleted':
        this.byOrg.delete(event.data.orgId);
        this.clientsByOrg.delete(event.data.orgId);
        return;
      default:
        return;
    }
  }
}

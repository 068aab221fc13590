import type { Role, StoredEvent } from './events';
import { isKnownEvent } from './events';

export interface MembershipEntry {
  roles: Role[];
  version: number;
}

/** The command side's view of direct memberships and client credentials, folded from the log. */
export class MembershipIndex {
  private readonly byOrg = new Map<string, Map<string, MembershipEntry>>();
  private readonly clientsByOrg = new Map<string, Set<string>>();
  private readonly clients = new Map<string, { orgId: string; clientId: string }>();

  get(orgId: string, userId: string): MembershipEntry | undefined {
    return this.byOrg.get(orgId)?.get(userId);
  }

  membersOf(orgId: string): Array<[string, MembershipEntry]> {
    return [...(this.byOrg.get(orgId)?.entries() ?? [])];
  }

  client(clientCredentialId: string): { orgId: string; clientId: string } | undefined {
    return this.clients.get(clientCredentialId);
  }

  clientsOf(orgId: string): string[] {
    return [...(this.clientsByOrg.get(orgId) ?? [])];
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
        this.clients.set(clientCredentialId, { orgId, clientId });
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

import type { DomainEvent } from './events';
import type { OrgTree } from './org-tree';

/**
 * The `orgPath` of a decided event (root first, the organization itself last), computed against the tree
 * as it stands before the event applies. Events about no organization get an empty path.
 */
export function eventOrgPath(tree: OrgTree, event: DomainEvent): string[] {
  switch (event.type) {
    case 'OrgCreated':
      return event.data.parentId === null ? [event.data.orgId] : [...tree.path(event.data.parentId), event.data.orgId];
    case 'OrgMoved':
      return event.data.toParentId === null ? [event.data.orgId] : [...tree.path(event.data.toParentId), event.data.orgId];
    case 'OrgUpdated':
    case 'OrgDeleted':
    case 'UserAddedToOrg':
    case 'MembershipConfirmed':
    case 'OrgUserUpdated':
    case 'UserRemovedFromOrg':
    case 'ClientCredentialIssued':
    case 'ClientCredentialRevoked':
      return tree.path(event.data.orgId);
    case 'UserCreated':
    case 'UserUpdated':
    case 'UserDisabled':
    case 'UserEnabled':
    case 'UserPasswordChanged':
    case 'UserPasswordSet':
      return [];
    default:
      // Every event type is listed above: a new one fails the build here until it says its path.
      return unknownEvent(event);
  }
}

function unknownEvent(event: never): never {
  throw new Error(`No organization path for event ${JSON.stringify((event as { type?: unknown }).type)}`);
}

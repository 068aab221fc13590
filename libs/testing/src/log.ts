import type { PersonalData, ProjectableEvent } from '@arbor/application';
import type { Role } from '@arbor/domain';

/** Builds events by hand, as the store would have stored them: positions and stream versions in order. */
export class Log {
  private position = 0;
  private readonly versions = new Map<string, number>();

  event(type: string, streamId: string, data: unknown, personal?: PersonalData | null): ProjectableEvent {
    const streamVersion = (this.versions.get(streamId) ?? 0) + 1;
    this.versions.set(streamId, streamVersion);
    this.position += 1;
    const occurredAt = new Date(Date.UTC(2024, 0, 1, 0, 0, this.position)).toISOString();
    const e: ProjectableEvent = {
      id: `evt-${this.position}`,
      type,
      streamId,
      streamVersion,
      position: this.position,
      occurredAt,
      actor: { type: 'system', id: 'system' },
      data,
      orgPath: [],
    };
    if (personal !== undefined) e.personal = personal;
    return e;
  }
  /** When the next event will have occurred. */
  nextAt(): string {
    return new Date(Date.UTC(2024, 0, 1, 0, 0, this.position + 1)).toISOString();
  }
  created(orgId: string, name: string, parentId: string | null): ProjectableEvent {
    return this.event('OrgCreated', `org-${orgId}`, {
      orgId,
      name,
      parentId,
      description: null,
      metadata: { n: name },
    });
  }
  updated(orgId: string, name: string): ProjectableEvent {
    return this.event('OrgUpdated', `org-${orgId}`, { orgId, name, description: 'renamed', metadata: {} });
  }
  moved(orgId: string, fromParentId: string | null, toParentId: string | null): ProjectableEvent {
    return this.event('OrgMoved', `org-${orgId}`, { orgId, fromParentId, toParentId });
  }
  deleted(orgId: string, parentId: string | null): ProjectableEvent {
    return this.event('OrgDeleted', `org-${orgId}`, { orgId, parentId });
  }
  user(userId: string, personal: PersonalData | null, platformAdmin = false): ProjectableEvent {
    return this.event('UserCreated', `user-${userId}`, { userId, personal: 'v1.x.y', platformAdmin }, personal);
  }
  userUpdated(userId: string, personal: PersonalData | null): ProjectableEvent {
    return this.event('UserUpdated', `user-${userId}`, { userId, personal: 'v1.x.y' }, personal);
  }
  userStatus(type: 'UserDisabled' | 'UserEnabled', userId: string): ProjectableEvent {
    return this.event(type, `user-${userId}`, { userId });
  }
  added(orgId: string, userId: string, roles: Role[], options: { pending?: true } = {}): ProjectableEvent {
    return this.event('UserAddedToOrg', `membership-${orgId}-${userId}`, { orgId, userId, roles, ...options });
  }
  confirmed(orgId: string, userId: string): ProjectableEvent {
    return this.event('MembershipConfirmed', `membership-${orgId}-${userId}`, { orgId, userId });
  }
  rolesSet(orgId: string, userId: string, roles: Role[]): ProjectableEvent {
    return this.event('OrgUserUpdated', `membership-${orgId}-${userId}`, { orgId, userId, roles });
  }
  removed(orgId: string, userId: string): ProjectableEvent {
    return this.event('UserRemovedFromOrg', `membership-${orgId}-${userId}`, { orgId, userId });
  }
  /** Without `roles`, the event has the shape written before client credentials held roles (none). */
  clientIssued(id: string, clientId: string, orgId: string, scopes: string[], roles?: string[]): ProjectableEvent {
    return this.event('ClientCredentialIssued', `client-${id}`, {
      clientCredentialId: id,
      clientId,
      name: `Client ${id}`,
      orgId,
      scopes,
      ...(roles === undefined ? {} : { roles }),
    });
  }
  clientRolesChanged(id: string, clientId: string, orgId: string, roles: string[]): ProjectableEvent {
    return this.event('ClientCredentialRolesChanged', `client-${id}`, {
      clientCredentialId: id,
      clientId,
      orgId,
      roles,
    });
  }
  clientRevoked(id: string, clientId: string, orgId: string): ProjectableEvent {
    return this.event('ClientCredentialRevoked', `client-${id}`, { clientCredentialId: id, clientId, orgId });
  }
  /** A custom role defined (`RoleDefined`) or redefined whole (`RoleUpdated`) on `orgId`. */
  role(
    type: 'RoleDefined' | 'RoleUpdated',
    roleId: string,
    orgId: string,
    permissions: string[],
    options: { name?: string; description?: string; appliesTo?: 'subtree' | 'organization' } = {},
  ): ProjectableEvent {
    return this.event(type, `role-${roleId}`, {
      roleId,
      orgId,
      name: options.name ?? `Role ${roleId}`,
      description: options.description ?? `About ${roleId}`,
      permissions,
      appliesTo: options.appliesTo ?? 'subtree',
    });
  }
  roleDeleted(roleId: string, orgId: string): ProjectableEvent {
    return this.event('RoleDeleted', `role-${roleId}`, { roleId, orgId });
  }
  /** An application permission defined, its description changed, or deleted, on `orgId`. */
  permission(
    type: 'ApplicationPermissionDefined' | 'ApplicationPermissionUpdated',
    orgId: string,
    name: string,
    description = `About ${name}`,
  ): ProjectableEvent {
    return this.event(type, `permission-${orgId}-${name}`, { orgId, name, description });
  }
  permissionDeleted(orgId: string, name: string): ProjectableEvent {
    return this.event('ApplicationPermissionDeleted', `permission-${orgId}-${name}`, { orgId, name });
  }
  /** A webhook subscription's event (stream `webhook-<id>`), with `subscriptionId` and `orgId` and the rest of its data. */
  webhook(type: string, subscriptionId: string, orgId: string, data: Record<string, unknown> = {}): ProjectableEvent {
    return this.event(type, `webhook-${subscriptionId}`, { subscriptionId, orgId, ...data });
  }
}

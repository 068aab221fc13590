import type { EventDataByType } from '../events';
import { eventDataSchema, field, pathOfOrg, type EventTypeEntry } from './catalogue-entry';

type AccessEventType =
  | 'UserAddedToOrg'
  | 'MembershipConfirmed'
  | 'OrgUserUpdated'
  | 'UserRemovedFromOrg'
  | 'ClientCredentialIssued'
  | 'ClientCredentialRolesChanged'
  | 'ClientCredentialRevoked';

/** A client credential's role ids: built-in or custom (`role_<ulid>`), possibly none, no repeats. */
const clientRoles = {
  type: 'array',
  items: { type: 'string', pattern: '^(member|admin|owner|role_[0-9a-z]+)$' },
  uniqueItems: true,
} as const;

const membership = { orgId: field.orgId, userId: field.userId };

/** Memberships (streams `membership-<orgId>-<userId>`) and client credentials (`client-<id>`): each about one organization. */
export const ACCESS_EVENTS = {
  UserAddedToOrg: {
    version: 1,
    schema: eventDataSchema(
      'UserAddedToOrg',
      1,
      { ...membership, roles: field.roles, pending: { const: true } },
      ['orgId', 'userId', 'roles'],
      'pending: present (true) when the membership grants nothing until a platform admin confirms it.',
    ),
    orgPath: pathOfOrg,
  },
  MembershipConfirmed: {
    version: 1,
    schema: eventDataSchema('MembershipConfirmed', 1, membership),
    orgPath: pathOfOrg,
  },
  OrgUserUpdated: {
    version: 1,
    schema: eventDataSchema('OrgUserUpdated', 1, { ...membership, roles: field.roles }),
    orgPath: pathOfOrg,
  },
  UserRemovedFromOrg: { version: 1, schema: eventDataSchema('UserRemovedFromOrg', 1, membership), orgPath: pathOfOrg },
  ClientCredentialIssued: {
    // Still version 1: `roles` is an additive, optional field (the stores record no schema version yet, see
    // upcastStoredEvent). An event without it, written before clients held roles, means none: readers use `?? []`.
    version: 1,
    schema: eventDataSchema(
      'ClientCredentialIssued',
      1,
      {
        clientCredentialId: field.clientCredentialId,
        clientId: field.clientId,
        name: { type: 'string', minLength: 1 },
        orgId: field.orgId,
        scopes: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
        roles: clientRoles,
      },
      ['clientCredentialId', 'clientId', 'name', 'orgId', 'scopes'],
      'roles: role ids held on orgId; absent in events written before client credentials held roles (none).',
    ),
    orgPath: pathOfOrg,
  },
  ClientCredentialRolesChanged: {
    version: 1,
    schema: eventDataSchema('ClientCredentialRolesChanged', 1, {
      clientCredentialId: field.clientCredentialId,
      clientId: field.clientId,
      orgId: field.orgId,
      roles: clientRoles,
    }),
    orgPath: pathOfOrg,
  },
  ClientCredentialRevoked: {
    version: 1,
    schema: eventDataSchema('ClientCredentialRevoked', 1, {
      clientCredentialId: field.clientCredentialId,
      clientId: field.clientId,
      orgId: field.orgId,
    }),
    orgPath: pathOfOrg,
  },
} satisfies { [K in AccessEventType]: EventTypeEntry<EventDataByType[K]> };

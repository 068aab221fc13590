import type { EventDataByType } from '../events';
import { eventDataSchema, field, pathOfOrg, type EventTypeEntry } from './catalogue-entry';

type AccessEventType =
  | 'UserAddedToOrg'
  | 'MembershipConfirmed'
  | 'OrgUserUpdated'
  | 'UserRemovedFromOrg'
  | 'ClientCredentialIssued'
  | 'ClientCredentialRevoked';

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
    version: 1,
    schema: eventDataSchema('ClientCredentialIssued', 1, {
      clientCredentialId: field.clientCredentialId,
      clientId: field.clientId,
      name: { type: 'string', minLength: 1 },
      orgId: field.orgId,
      scopes: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
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

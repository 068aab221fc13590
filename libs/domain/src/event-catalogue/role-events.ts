import type { EventDataByType } from '../events';
import { eventDataSchema, field, pathOfOrg, type EventTypeEntry } from './catalogue-entry';

type RoleEventType =
  | 'ApplicationPermissionDefined'
  | 'ApplicationPermissionUpdated'
  | 'ApplicationPermissionDeleted'
  | 'RoleDefined'
  | 'RoleUpdated'
  | 'RoleDeleted';

/** 2 to 5 segments of `[a-z0-9][a-z0-9_-]{0,39}` joined by `:` (the reserved prefixes are the decider's rule). */
const permissionName = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9_-]{0,39}(:[a-z0-9][a-z0-9_-]{0,39}){1,4}$',
} as const;
const roleId = { type: 'string', pattern: '^role_[0-9a-z]+$' } as const;
const description = { type: 'string' } as const;

const roleDefinition = {
  roleId,
  orgId: field.orgId,
  name: { type: 'string', minLength: 1 },
  description,
  permissions: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
  appliesTo: { enum: ['subtree', 'organization'] },
};

/**
 * Custom roles (streams `role-<roleId>`) and application permissions (`permission-<orgId>-<name>`), each
 * defined on one organization (issue 13, contract section 4.1). Their `orgPath` is the defining organization's.
 */
export const ROLE_EVENTS = {
  ApplicationPermissionDefined: {
    version: 1,
    schema: eventDataSchema('ApplicationPermissionDefined', 1, {
      orgId: field.orgId,
      name: permissionName,
      description,
    }),
    orgPath: pathOfOrg,
  },
  ApplicationPermissionUpdated: {
    version: 1,
    schema: eventDataSchema('ApplicationPermissionUpdated', 1, {
      orgId: field.orgId,
      name: permissionName,
      description,
    }),
    orgPath: pathOfOrg,
  },
  ApplicationPermissionDeleted: {
    version: 1,
    schema: eventDataSchema('ApplicationPermissionDeleted', 1, { orgId: field.orgId, name: permissionName }),
    orgPath: pathOfOrg,
  },
  RoleDefined: { version: 1, schema: eventDataSchema('RoleDefined', 1, roleDefinition), orgPath: pathOfOrg },
  RoleUpdated: { version: 1, schema: eventDataSchema('RoleUpdated', 1, roleDefinition), orgPath: pathOfOrg },
  RoleDeleted: {
    version: 1,
    schema: eventDataSchema('RoleDeleted', 1, { roleId, orgId: field.orgId }),
    orgPath: pathOfOrg,
  },
} satisfies { [K in RoleEventType]: EventTypeEntry<EventDataByType[K]> };

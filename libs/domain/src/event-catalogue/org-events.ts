import type { EventDataByType } from '../events';
import type { OrgTree } from '../org-tree';
import { eventDataSchema, field, pathOfOrg, type EventTypeEntry } from './catalogue-entry';

type OrgEventType =
  'OrgCreated' | 'OrgUpdated' | 'OrgMoved' | 'OrgDeleted' | 'OrgAuditRetentionSet' | 'RequestMetadataDropped';

/** An organization's path under `parentId` (null: it is a root). */
const pathUnder = (tree: OrgTree, parentId: string | null, orgId: string): string[] =>
  parentId === null ? [orgId] : [...tree.path(parentId), orgId];

/** The events of the organization hierarchy (streams `org-<orgId>`). */
export const ORG_EVENTS = {
  OrgCreated: {
    version: 1,
    schema: eventDataSchema('OrgCreated', 1, {
      orgId: field.orgId,
      name: field.orgName,
      parentId: field.parentId,
      description: field.description,
      metadata: field.metadata,
    }),
    orgPath: (tree, d) => pathUnder(tree, d.parentId, d.orgId),
  },
  OrgUpdated: {
    version: 1,
    schema: eventDataSchema('OrgUpdated', 1, {
      orgId: field.orgId,
      name: field.orgName,
      description: field.description,
      metadata: field.metadata,
    }),
    orgPath: pathOfOrg,
  },
  OrgMoved: {
    version: 1,
    schema: eventDataSchema('OrgMoved', 1, {
      orgId: field.orgId,
      fromParentId: field.parentId,
      toParentId: field.parentId,
    }),
    // The path at its new place (root first, the organization last: the new root keys it on Kafka), then the former
    // ancestors it left: the move is an event of both subtrees, so a subscriber of the old one hears that it left.
    orgPath: (tree, d) => {
      const joined = pathUnder(tree, d.toParentId, d.orgId);
      const left = d.fromParentId === null ? [] : tree.path(d.fromParentId);
      return [...joined, ...left.filter((id) => !joined.includes(id))];
    },
  },
  OrgDeleted: {
    version: 1,
    schema: eventDataSchema('OrgDeleted', 1, { orgId: field.orgId, parentId: field.parentId }),
    orgPath: pathOfOrg,
  },
  // Stream `audit-retention-<orgId>`: a setting, not a change of the organization itself (its version stays).
  OrgAuditRetentionSet: {
    version: 1,
    schema: eventDataSchema(
      'OrgAuditRetentionSet',
      1,
      {
        orgId: field.orgId,
        days: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
      },
      ['orgId', 'days'],
      'How long request metadata and sign-in records concerning the subtree are kept, in days; null: no own setting.',
    ),
    orgPath: pathOfOrg,
  },
  // Stream `audit-retention-<orgId>`, or `audit-retention-server` for the server default (orgId null: no path).
  RequestMetadataDropped: {
    version: 1,
    schema: eventDataSchema(
      'RequestMetadataDropped',
      1,
      {
        // An RFC 3339 instant in UTC, as the purge's cutoffs are written (Date.prototype.toISOString).
        before: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$' },
        orgId: field.parentId,
      },
      ['before', 'orgId'],
      'The request metadata of events that occurred before `before` is dropped: in the subtree of `orgId` (as it was when each event happened), or everywhere when null.',
    ),
    orgPath: (tree, d) => (d.orgId === null ? [] : tree.path(d.orgId)),
  },
} satisfies { [K in OrgEventType]: EventTypeEntry<EventDataByType[K]> };

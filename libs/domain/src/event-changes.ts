import canonicalize from 'canonicalize';
import type { DomainEventType, EventDataByType, StoredEvent } from './events';

/**
 * The update events and the fields each one may change (issue 14, complete audit data: "for updates the fields
 * that changed, before and after"). Typed against each event's data, and checked by the compiler for every type
 * listed. An update event's data holds every such field as it stands after the event (a whole new value), so
 * the value before is the same field of the latest earlier event of the same stream that carries it: the log
 * records both, and `fieldChanges` derives the pair rather than copy it into every event.
 */
export const UPDATE_FIELDS = {
  OrgUpdated: ['name', 'description', 'metadata'],
  UserUpdated: ['personal'],
  OrgUserUpdated: ['roles'],
  ClientCredentialRolesChanged: ['roles'],
  ApplicationPermissionUpdated: ['description'],
  RoleUpdated: ['name', 'description', 'permissions', 'appliesTo'],
} as const satisfies { [K in DomainEventType]?: ReadonlyArray<keyof EventDataByType[K] & string> };

export type UpdateEventType = keyof typeof UPDATE_FIELDS;

/** Fields older events left out, read as the catalogue says (ClientCredentialIssued without `roles`: none). */
const ABSENT_MEANS: Readonly<Record<string, unknown>> = { roles: [] };

/** One changed field of an update: its value before and after the event (JSON values as the log holds them). */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export const isUpdateEventType = (type: string): type is UpdateEventType =>
  Object.prototype.hasOwnProperty.call(UPDATE_FIELDS, type);

/**
 * The fields an update event changed, before and after, given the earlier events of its stream (in stream
 * order; later ones are ignored). Undefined for an event that is not an update (see UPDATE_FIELDS). A field whose
 * value is the same before and after (RFC 8785 equal) is not listed. Sealed personal data (UserUpdated's
 * `personal`) compares as sealed: a caller that holds the key opens both sides (every reseal differs).
 */
export function fieldChanges(stream: readonly StoredEvent[], event: StoredEvent): FieldChange[] | undefined {
  if (!isUpdateEventType(event.type)) return undefined;
  const after = event.data as Record<string, unknown>;
  const earlier = stream.filter((e) => e.streamVersion < event.streamVersion);
  const changes: FieldChange[] = [];
  for (const field of UPDATE_FIELDS[event.type] as readonly string[]) {
    const before = latestValue(earlier, field);
    if (canonicalize(before) !== canonicalize(after[field] ?? null))
      changes.push({ field, before, after: after[field] ?? null });
  }
  return changes;
}

/** The field as the latest event that carries it left it; null when none did (the resource had no value). */
function latestValue(earlier: readonly StoredEvent[], field: string): unknown {
  for (let i = earlier.length - 1; i >= 0; i--) {
    const data = earlier[i].data as Record<string, unknown> | null;
    if (data !== null && typeof data === 'object' && field in data) return data[field];
  }
  return field in ABSENT_MEANS && earlier.length > 0 ? ABSENT_MEANS[field] : null;
}

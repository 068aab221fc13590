import type {
  DomainEvent,
  DomainEventType,
  EventDataByType,
  KnownStoredEvent,
  SealedPersonalData,
  StoredEvent,
} from '../events';
import type { OrgTree } from '../org-tree';
import { ACCESS_EVENTS } from './access-events';
import type { EventTypeEntry, JsonSchema, PersonalDataFields } from './catalogue-entry';
import { eventAuditedEnvelopeSchema, eventEnvelopeSchema } from './event-envelope';
import { ORG_EVENTS } from './org-events';
import { ROLE_EVENTS } from './role-events';
import { upcastEvent } from './upcast';
import { USER_EVENTS } from './user-events';
import { WEBHOOK_EVENTS } from './webhook-events';

export * from './catalogue-entry';
export {
  cloudEventTypeOf,
  eventEnvelopeSchemaId,
  eventAuditedEnvelopeSchemaId,
  EVENT_AUDIT_SCHEMA,
  publicEventEnvelope,
  type PublicEventEnvelope,
} from './event-envelope';
export { upcastEvent, type UpcastEntry } from './upcast';

/**
 * The event catalogue: for every event type, its data schema and version, its organization path, whether
 * it carries sealed personal data, and its upcasters. Typed so that an event type added to `EventDataByType`
 * without an entry fails the build here. Everything else reads these facts from here, never restates them.
 */
export const EVENT_CATALOGUE = {
  ...ORG_EVENTS,
  ...USER_EVENTS,
  ...ACCESS_EVENTS,
  ...ROLE_EVENTS,
  ...WEBHOOK_EVENTS,
} satisfies {
  [K in DomainEventType]: EventTypeEntry<EventDataByType[K]>;
};

/** The catalogue entry of `type`, loosely typed for code that handles every type alike. */
const entryOf = (type: DomainEventType): EventTypeEntry<unknown> =>
  EVENT_CATALOGUE[type] as unknown as EventTypeEntry<unknown>;

/** Every event type, in catalogue order. */
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as DomainEventType[];

/** True for the types this code knows; the log may hold others (written by newer code): models ignore them. */
export const isKnownEventType = (type: string): type is DomainEventType =>
  Object.prototype.hasOwnProperty.call(EVENT_CATALOGUE, type);

/** The JSON Schema (draft 2020-12) of `type`'s data at its current version; its `$id` names type and version. */
export const eventDataSchemaOf = (type: DomainEventType): JsonSchema => EVENT_CATALOGUE[type].schema;

/**
 * The envelope schema of `type` at its current version (`eventEnvelopeSchema`): the whole event, `data` by
 * reference to `eventDataSchemaOf(type)`.
 */
export const eventEnvelopeSchemaOf = (type: DomainEventType): JsonSchema =>
  eventEnvelopeSchema(type, EVENT_CATALOGUE[type].version);

/** The audited envelope schema of `type` at its current version (`eventAuditedEnvelopeSchema`): the event API's. */
export const eventAuditedEnvelopeSchemaOf = (type: DomainEventType): JsonSchema =>
  eventAuditedEnvelopeSchema(type, EVENT_CATALOGUE[type].version);

/**
 * The `orgPath` of a decided event (root first, the organization itself last; an `OrgMoved` then adds the former
 * ancestors it left), computed against the tree as it stands before the event applies. Events about no
 * organization get an empty path.
 */
export function eventOrgPath(tree: OrgTree, event: DomainEvent): string[] {
  return entryOf(event.type).orgPath(tree, event.data);
}

/** The event types that carry sealed personal data (those with `personalData` in the catalogue). */
export type PersonalEventType = {
  [K in DomainEventType]: (typeof EVENT_CATALOGUE)[K] extends { personalData: PersonalDataFields<never> } ? K : never;
}[DomainEventType];

export type PersonalEvent = KnownStoredEvent & { type: PersonalEventType };

/** True for a stored event that carries sealed personal data. */
export const isPersonalEvent = (event: StoredEvent): event is PersonalEvent =>
  isKnownEventType(event.type) && entryOf(event.type).personalData !== undefined;

/**
 * The sealed personal data an event carries and the subject whose key opens it, or undefined for an event
 * that carries none.
 */
export function sealedPersonalDataOf(
  event: StoredEvent,
): { subjectId: string; sealed: SealedPersonalData } | undefined {
  if (!isKnownEventType(event.type)) return undefined;
  const fields = entryOf(event.type).personalData as { sealed: string; subject: string } | undefined;
  if (!fields) return undefined;
  const data = event.data as Record<string, string>;
  return { subjectId: data[fields.subject], sealed: data[fields.sealed] };
}

/**
 * The stored event with its `data` upcast to the current schema version (see `upcastEvent`). Every adapter
 * calls this where its rows become `StoredEvent`s, so no decider, model or projection sees an older shape.
 * `storedVersion` defaults to 1: the stores keep no version today, and every event type is at version 1
 * (a unit test keeps it so until the stores record the version they wrote).
 */
export const upcastStoredEvent = (event: StoredEvent, storedVersion = 1): StoredEvent =>
  upcastEvent(EVENT_CATALOGUE, event, storedVersion);

/**
 * The `default` of a switch over event types, after every type has its case: the argument is `never`
 * there, so a type added to the catalogue without a case fails the build at the switch that lacks it.
 * Throws if reached anyway (a caller that skipped `isKnownEvent`).
 */
export function unhandledEventType(event: never): never {
  throw new Error(`No case for event type ${JSON.stringify((event as { type?: unknown }).type)}.`);
}

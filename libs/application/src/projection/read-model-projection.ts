import { caselessKey, isKnownEvent, nameKey, type DomainEventType, type EventDataByType } from '@arbor/domain';
import type { ProjectableEvent, RolesGrantedBy } from '../ports/read-models';
import type { WebhookSubscriptionView } from '../ports/webhooks';
import type {
  ApplicationPermissionRow,
  PersonalColumns,
  ReadModelEngine,
  RoleRow,
  Step,
  SyncReadModelEngine,
  VersionedRow,
} from './read-model-engine';

/**
 * The read side's decisions, written once for every engine: for each event type, which rows change, in
 * which order, with which values (keys, versions, closure links). An engine (`ReadModelEngine`) only stores.
 *
 * A handler is a generator: it yields each primitive's `Step` in order and receives its value back (a
 * depth, or nothing), so the same handler runs synchronously on SQLite (`projectEventSync`, statements
 * prepared once, inside the caller's transaction) and asynchronously on PostgreSQL (`projectEventAsync`, one
 * statement awaited after the other on the transaction's connection).
 */
type Steps = Generator<Step<unknown>, void, unknown>;
type Handler<K extends DomainEventType> = (
  event: ProjectableEvent,
  data: EventDataByType[K],
  engine: ReadModelEngine,
) => Steps;

/** `satisfies` every event type: a new event type without a handler here fails the build. */
const HANDLERS = {
  *OrgCreated(event, d, engine) {
    yield engine.createOrg({
      id: d.orgId,
      name: d.name,
      nameKey: nameKey(d.name),
      parentId: d.parentId,
      description: d.description,
      metadata: d.metadata ?? {},
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  *OrgUpdated(event, d, engine) {
    yield engine.updateOrg({
      id: d.orgId,
      name: d.name,
      nameKey: nameKey(d.name),
      description: d.description,
      metadata: d.metadata ?? {},
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  /**
   * The closure-table subtree move: unlink the subtree from its old strict ancestors, link it under the new
   * parent's ancestors (the parent included), shift every depth in it by the change of the node's own depth.
   * A move of an organization without a row (its creation not projected) changes nothing.
   */
  *OrgMoved(event, d, engine) {
    const oldDepth = (yield engine.orgDepth(d.orgId)) as number | undefined;
    if (oldDepth === undefined) return;
    const parentDepth =
      d.toParentId === null ? undefined : ((yield engine.orgDepth(d.toParentId)) as number | undefined);
    const newDepth = parentDepth === undefined ? 0 : parentDepth + 1;
    yield engine.unlinkSubtree(d.orgId);
    if (d.toParentId !== null) yield engine.linkSubtree(d.orgId, d.toParentId);
    if (newDepth !== oldDepth) yield engine.shiftSubtreeDepth(d.orgId, newDepth - oldDepth);
    yield engine.setParent(d.orgId, d.toParentId, event.occurredAt, event.streamVersion);
  },
  /**
   * Deleted organizations are leaves, but all their links go either way, so a stray row cannot survive. The
   * domain removes members, revokes clients, deletes webhook subscriptions and ends the roles and application permissions defined there
   * (RoleDeleted, ApplicationPermissionDeleted) before deleting an organization; deleting them is a backstop.
   */
  *OrgDeleted(event, d, engine) {
    yield engine.deleteOrg(d.orgId);
    yield engine.deleteOrgAccess(d.orgId);
    yield engine.deleteOrgDefinitions(d.orgId);
    // The backstop's rows end in the temporal read model too (the organization's own version ends by VERSIONED).
    yield engine.endOrgVersions(d.orgId, event.position);
  },
  /** A retention setting is read from the log by the purge (audit-retention-policy.ts); no read model holds it. */
  *OrgAuditRetentionSet() {
    // Nothing to store: the purge reads the setting from the log.
  },
  /** A record of a retention drop, read from the log by the chain verifier; no read model holds it. */
  *RequestMetadataDropped() {
    // Nothing to store.
  },
  /**
   * Personal data arrives opened; null or absent means its key is gone (the user was erased later: a rebuild). The
   * status comes from the log alone (active until UserDisabled or UserErased), so that the versions of a rebuild
   * say what the live projection said then (contract section 8: each user's status then).
   */
  *UserCreated(event, d, engine) {
    yield engine.insertUser({
      id: d.userId,
      personal: personalColumns(event),
      status: 'active',
      platformAdmin: Boolean(d.platformAdmin),
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  /** Opened personal data replaces the old one whole; none (its key is gone: a rebuild) clears it, status unchanged. */
  *UserUpdated(event, d, engine) {
    yield engine.setPersonalData(d.userId, personalColumns(event), event.occurredAt, event.streamVersion);
  },
  /** Disabling ends every session for good: tokens issued before it stay dead after a re-enable. */
  *UserDisabled(event, d, engine) {
    yield engine.setUserStatus({
      id: d.userId,
      status: 'disabled',
      endSessions: true,
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  *UserEnabled(event, d, engine) {
    yield engine.setUserStatus({
      id: d.userId,
      status: 'active',
      endSessions: false,
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  /** Sessions begun before the change end, but the one that made it (`keptSessionId`). */
  *UserPasswordChanged(event, d, engine) {
    yield engine.endSessions(d.userId, event.occurredAt, d.keptSessionId ?? null, event.streamVersion);
  },
  *UserPasswordSet(event, d, engine) {
    yield engine.endSessions(d.userId, event.occurredAt, null, event.streamVersion);
  },
  /**
   * Erased for good: email and name leave the row (as when the key is found gone), every session ends. The
   * memberships ended just before, each by its own UserRemovedFromOrg.
   */
  *UserErased(event, d, engine) {
    yield engine.setPersonalData(d.userId, null, event.occurredAt, event.streamVersion);
    yield engine.setUserStatus({
      id: d.userId,
      status: 'erased',
      endSessions: true,
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  *UserAddedToOrg(event, d, engine) {
    yield engine.upsertMembership({
      orgId: d.orgId,
      userId: d.userId,
      roles: d.roles,
      at: event.occurredAt,
      pending: d.pending === true,
    });
  },
  *MembershipConfirmed(_event, d, engine) {
    yield engine.confirmMembership(d.orgId, d.userId);
  },
  *OrgUserUpdated(_event, d, engine) {
    yield engine.setMembershipRoles(d.orgId, d.userId, d.roles);
  },
  *UserRemovedFromOrg(_event, d, engine) {
    yield engine.deleteMembership(d.orgId, d.userId);
  },
  /** Replaces a row on either key: a projector must never be unable to apply a fact of the log. */
  *ClientCredentialIssued(event, d, engine) {
    yield engine.putClient({
      id: d.clientCredentialId,
      clientId: d.clientId,
      name: d.name,
      orgId: d.orgId,
      scopes: d.scopes,
      roles: d.roles ?? [],
      rolesGrantedBy: grantedBy(event, d.roles ?? []),
      at: event.occurredAt,
      version: event.streamVersion,
    });
  },
  *ClientCredentialRolesChanged(event, d, engine) {
    yield engine.setClientRoles(d.clientCredentialId, d.roles, grantedBy(event, d.roles), event.streamVersion);
  },
  *ClientCredentialRevoked(_event, d, engine) {
    yield engine.deleteClient(d.clientCredentialId);
  },
  *ApplicationPermissionDefined(event, d, engine) {
    yield engine.putApplicationPermission(permissionRow(event, d));
  },
  *ApplicationPermissionUpdated(event, d, engine) {
    yield engine.putApplicationPermission(permissionRow(event, d));
  },
  *ApplicationPermissionDeleted(_event, d, engine) {
    yield engine.deleteApplicationPermission(d.orgId, d.name);
  },
  /** Every role event also moves the catalog's position, which the gateway's RoleCatalog polls. */
  *RoleDefined(event, d, engine) {
    yield engine.putRole(roleRow(event, d));
    yield engine.setRoleCatalogPosition(event.position);
  },
  *RoleUpdated(event, d, engine) {
    yield engine.putRole(roleRow(event, d));
    yield engine.setRoleCatalogPosition(event.position);
  },
  *RoleDeleted(event, d, engine) {
    yield engine.deleteRole(d.roleId);
    yield engine.setRoleCatalogPosition(event.position);
  },
  /** A new row: enabled, no replay; `createdPosition` is this event's (deliveries begin after it). */
  *WebhookSubscriptionCreated(event, d, engine) {
    yield engine.putWebhookSubscription({
      subscriptionId: d.subscriptionId,
      orgId: d.orgId,
      url: d.url,
      eventTypes: d.eventTypes,
      description: d.description,
      enabled: true,
      disabledReason: null,
      createdPosition: event.position,
      replay: null,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
      version: event.streamVersion,
    });
  },
  *WebhookSubscriptionUpdated(event, d, engine) {
    yield* changeWebhook(event, d.subscriptionId, engine, {
      url: d.url,
      eventTypes: d.eventTypes,
      description: d.description,
    });
  },
  /** Only the version moves: the secrets are the vault's. */
  *WebhookSecretRotated(event, d, engine) {
    yield* changeWebhook(event, d.subscriptionId, engine, {});
  },
  *WebhookSubscriptionDisabled(event, d, engine) {
    yield* changeWebhook(event, d.subscriptionId, engine, { enabled: false, disabledReason: d.reason });
  },
  *WebhookSubscriptionEnabled(event, d, engine) {
    yield* changeWebhook(event, d.subscriptionId, engine, { enabled: true, disabledReason: null });
  },
  /** The latest replay asked for replaces any earlier one; the dispatcher tells them apart by `requestedPosition`. */
  *WebhookReplayRequested(event, d, engine) {
    yield* changeWebhook(event, d.subscriptionId, engine, {
      replay: { fromPosition: d.fromPosition, requestedPosition: event.position },
    });
  },
  *WebhookSubscriptionDeleted(_event, d, engine) {
    yield engine.deleteWebhookSubscription(d.subscriptionId);
  },
} satisfies { [K in DomainEventType]: Handler<K> };

/** Reads the subscription's row and puts it back changed, with the event's time and version; no row, no change. */
function* changeWebhook(
  event: ProjectableEvent,
  subscriptionId: string,
  engine: ReadModelEngine,
  change: Partial<WebhookSubscriptionView>,
): Steps {
  const row = (yield engine.webhookSubscription(subscriptionId)) as WebhookSubscriptionView | undefined;
  if (row === undefined) return;
  yield engine.putWebhookSubscription({
    ...row,
    ...change,
    updatedAt: event.occurredAt,
    version: event.streamVersion,
  });
}

const roleRow = (event: ProjectableEvent, d: EventDataByType['RoleDefined']): RoleRow => ({
  id: d.roleId,
  orgId: d.orgId,
  name: d.name,
  description: d.description,
  permissions: d.permissions,
  appliesTo: d.appliesTo,
  at: event.occurredAt,
  version: event.streamVersion,
});

const permissionRow = (
  event: ProjectableEvent,
  d: EventDataByType['ApplicationPermissionDefined'],
): ApplicationPermissionRow => ({
  orgId: d.orgId,
  name: d.name,
  description: d.description,
  at: event.occurredAt,
  version: event.streamVersion,
});

/** What the read model records as the origin of a role list: the event, unless the list is empty. */
const grantedBy = (event: ProjectableEvent, roles: readonly string[]): RolesGrantedBy | null =>
  roles.length === 0 ? null : { eventId: event.id, position: event.position };

const org = (orgId: string): VersionedRow => ({ kind: 'org', orgId });
const user = (userId: string): VersionedRow => ({ kind: 'user', userId });
const membership = (orgId: string, userId: string): VersionedRow => ({ kind: 'membership', orgId, userId });
const client = (id: string): VersionedRow => ({ kind: 'client', id });
const role = (roleId: string): VersionedRow => ({ kind: 'role', roleId });
const permission = (orgId: string, name: string): VersionedRow => ({ kind: 'permission', orgId, name });

/**
 * The rows of the temporal read model (HistoryQueries) each event changes: after the event's own steps, each gets a
 * new version from the event's position (or none, once the row is gone). `satisfies` every event type, so a new
 * one fails the build until it says which rows it versions. OrgDeleted versions the organization only: the domain
 * ends its memberships, clients, roles and permissions by their own events first (the handler's deletions are a
 * backstop for logs that did not).
 */
const VERSIONED = {
  OrgCreated: (d) => [org(d.orgId)],
  OrgUpdated: (d) => [org(d.orgId)],
  OrgMoved: (d) => [org(d.orgId)],
  OrgDeleted: (d) => [org(d.orgId)],
  // A setting the purge reads from the log (audit-retention.ts); no read-model row.
  OrgAuditRetentionSet: () => [],
  // A record the chain verifier reads from the log; no read-model row.
  RequestMetadataDropped: () => [],
  UserCreated: (d) => [user(d.userId)],
  UserUpdated: (d) => [user(d.userId)],
  UserDisabled: (d) => [user(d.userId)],
  UserEnabled: (d) => [user(d.userId)],
  UserPasswordChanged: (d) => [user(d.userId)],
  UserPasswordSet: (d) => [user(d.userId)],
  UserErased: (d) => [user(d.userId)],
  UserAddedToOrg: (d) => [membership(d.orgId, d.userId)],
  MembershipConfirmed: (d) => [membership(d.orgId, d.userId)],
  OrgUserUpdated: (d) => [membership(d.orgId, d.userId)],
  UserRemovedFromOrg: (d) => [membership(d.orgId, d.userId)],
  ClientCredentialIssued: (d) => [client(d.clientCredentialId)],
  ClientCredentialRolesChanged: (d) => [client(d.clientCredentialId)],
  ClientCredentialRevoked: (d) => [client(d.clientCredentialId)],
  ApplicationPermissionDefined: (d) => [permission(d.orgId, d.name)],
  ApplicationPermissionUpdated: (d) => [permission(d.orgId, d.name)],
  ApplicationPermissionDeleted: (d) => [permission(d.orgId, d.name)],
  RoleDefined: (d) => [role(d.roleId)],
  RoleUpdated: (d) => [role(d.roleId)],
  RoleDeleted: (d) => [role(d.roleId)],
  // Webhook subscriptions need no versions: no question of the past (HistoryQueries) is about them, and the
  // log itself keeps every change of them.
  WebhookSubscriptionCreated: () => [],
  WebhookSubscriptionUpdated: () => [],
  WebhookSecretRotated: () => [],
  WebhookSubscriptionDisabled: () => [],
  WebhookSubscriptionEnabled: () => [],
  WebhookReplayRequested: () => [],
  WebhookSubscriptionDeleted: () => [],
} satisfies { [K in DomainEventType]: (data: EventDataByType[K]) => VersionedRow[] };

/** The event's own steps, then one version of each row it changed (see VERSIONED). */
function* withVersions(steps: Steps, event: ProjectableEvent, engine: ReadModelEngine): Steps {
  yield* steps;
  const rows = (VERSIONED[event.type as DomainEventType] as (data: unknown) => VersionedRow[])(event.data);
  for (const row of rows) yield engine.recordVersion(row, event.position);
}

/** The steps of one event, or undefined for a type this version does not know (the caller still advances). */
function stepsOf(event: ProjectableEvent, engine: ReadModelEngine): Steps | undefined {
  if (!isKnownEvent(event)) return undefined;
  const handler = HANDLERS[event.type] as Handler<DomainEventType>;
  return withVersions(handler(event, event.data as never, engine), event, engine);
}

/**
 * Applies one event through a synchronous engine, inside the caller's transaction. Throws if a primitive
 * returns a promise (an engine bug: the transaction would commit without it).
 */
export function projectEventSync(engine: SyncReadModelEngine, event: ProjectableEvent): void {
  const steps = stepsOf(event, engine);
  if (steps === undefined) return;
  for (let next = steps.next(); !next.done;) {
    const value = next.value;
    if (value instanceof Promise) throw new Error('A synchronous read-model engine returned a promise.');
    next = steps.next(value);
  }
}

/** Applies one event through an engine whose primitives may be asynchronous, each awaited before the next. */
export async function projectEventAsync(engine: ReadModelEngine, event: ProjectableEvent): Promise<void> {
  const steps = stepsOf(event, engine);
  if (steps === undefined) return;
  for (let next = steps.next(); !next.done;) next = steps.next(await next.value);
}

/** email, email_key, name, name_key from the opened personal data; null when it could not be opened. */
function personalColumns(event: ProjectableEvent): PersonalColumns | null {
  const personal = event.personal ?? null;
  if (!personal) return null;
  return {
    email: personal.email,
    emailKey: caselessKey(personal.email),
    name: personal.name,
    nameKey: caselessKey(personal.name),
  };
}

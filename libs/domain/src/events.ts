import type { Actor } from './actor';
import { isKnownEventType } from './event-catalogue';
import type { RoleId } from './roles';

/**
 * The domain events, named in the past tense (contract section 8). Their `data` never holds a secret:
 * no password, hash, client secret or key. Personal data (email, name) is only ever carried sealed
 * (see `SealedPersonalData`), so that destroying one key erases it from the whole history.
 */

/** `v1.<iv>.<ciphertext+tag>` in base64url, AES-256-GCM under the subject's own data key. */
export type SealedPersonalData = string;

export interface OrgCreatedData {
  orgId: string;
  name: string;
  parentId: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
}

export interface OrgUpdatedData {
  orgId: string;
  name: string;
  description: string | null;
  metadata: Record<string, unknown>;
}

export interface OrgMovedData {
  orgId: string;
  fromParentId: string | null;
  toParentId: string | null;
}

export interface OrgDeletedData {
  orgId: string;
  parentId: string | null;
}

/**
 * How long the request metadata of events concerning the organization's subtree is kept (issue 14 item 7), and
 * the sign-in records of its members and clients: `days` (1-36500), or null (the organization's own setting removed:
 * its ancestors' and the server default apply). Each event's metadata is kept for the shortest of the server default
 * (IAM_AUDIT_RETENTION_DAYS) and the settings of the organization it concerns and of its ancestors at the time.
 * Stream `audit-retention-<orgId>` (`auditRetentionStreamId`), so the organization's own version (its ETag) stays.
 */
export interface OrgAuditRetentionSetData {
  orgId: string;
  days: number | null;
}

/**
 * The server is about to drop (set NULL) the request metadata of events that occurred before `before` (RFC 3339),
 * for organization `orgId`'s subtree (as it was when each event happened), or everywhere (`orgId` null: the server
 * default, IAM_AUDIT_RETENTION_DAYS). Recorded by the retention purge as the system BEFORE the drop it covers, and
 * only when the drop would change something: the chain verifier accepts an event's dropped metadata only where a
 * later RequestMetadataDropped covers it (issue 14, tamper evidence). Stream `audit-retention-<orgId>`
 * (`auditRetentionStreamId`), or `audit-retention-server` (SERVER_AUDIT_RETENTION_STREAM) for the server default.
 */
export interface RequestMetadataDroppedData {
  before: string;
  orgId: string | null;
}

export interface UserCreatedData {
  userId: string;
  /** Sealed `{email, name}`. */
  personal: SealedPersonalData;
  platformAdmin: boolean;
}

/** A new sealed `{email, name}`: the whole personal record is sealed again on every change. */
export interface UserUpdatedData {
  userId: string;
  personal: SealedPersonalData;
}

export interface UserStatusData {
  userId: string;
}

/**
 * The user changed their own password, proving the current one. The hash is not here (the vault holds it).
 * Every session of the user that began before this event ends, except the one that made the change:
 * `keptSessionId` is that session's `sid` (its refresh-token family), absent when the token had none.
 */
export interface UserPasswordChangedData {
  userId: string;
  keptSessionId?: string;
}

/**
 * A platform admin, or an operator on the server (actor `system`), set the user's password. Every session
 * of the user that began before this event ends. The hash is not here (the vault holds it).
 */
export interface UserPasswordSetData {
  userId: string;
}

/** A role id (roles.ts: RoleId): any string a RoleCatalog knows; the built-in ones are `member`, `admin`, `owner`. */
export type Role = RoleId;

export interface UserAddedToOrgData {
  orgId: string;
  userId: string;
  roles: Role[];
  /**
   * Present (true) when the membership links an existing account that the adding caller could not see: it
   * grants nothing until a platform admin confirms it (MembershipConfirmed). Absent in every older event.
   */
  pending?: true;
}

/** A pending membership takes effect. */
export interface MembershipConfirmedData {
  orgId: string;
  userId: string;
}

export interface OrgUserUpdatedData {
  orgId: string;
  userId: string;
  roles: Role[];
}

export interface UserRemovedFromOrgData {
  orgId: string;
  userId: string;
}

/** The secret is not here: only its keyed hash, and only in the vault. */
export interface ClientCredentialIssuedData {
  clientCredentialId: string;
  clientId: string;
  name: string;
  orgId: string;
  scopes: string[];
  /**
   * Role ids held on `orgId` (issue 13: client credentials hold roles like a membership there). Absent in
   * events written before client credentials held roles: read it as `roles ?? []` (none).
   */
  roles?: string[];
}

/** A client credential's roles replaced (PATCH .../client-credentials/{id}); `roles` is the whole new list. */
export interface ClientCredentialRolesChangedData {
  clientCredentialId: string;
  clientId: string;
  orgId: string;
  roles: string[];
}

export interface ClientCredentialRevokedData {
  clientCredentialId: string;
  clientId: string;
  orgId: string;
}

/** An application permission defined on `orgId` (issue 13, contract section 4.1); visible there and below. */
export interface ApplicationPermissionDefinedData {
  orgId: string;
  /** E.g. `billing:invoices:approve` (role-rules.ts: applicationPermissionNameProblem); unique within its tree. */
  name: string;
  description: string;
}

/** An application permission's description replaced (its name and defining organization never change). */
export interface ApplicationPermissionUpdatedData {
  orgId: string;
  name: string;
  description: string;
}

/** An application permission ended: no role granted it any more (the delete rule). */
export interface ApplicationPermissionDeletedData {
  orgId: string;
  name: string;
}

/**
 * A custom role defined on `orgId` (issue 13, contract section 4.1): usable there and below. `permissions` are
 * built-in permissions and application permissions visible at `orgId`, in canonical order, no repeats.
 */
export interface RoleDefinedData {
  roleId: string;
  orgId: string;
  name: string;
  description: string;
  permissions: string[];
  appliesTo: 'subtree' | 'organization';
}

/** A custom role's whole new definition (PATCH): every field but `roleId` and `orgId` as it now stands. */
export type RoleUpdatedData = RoleDefinedData;

/** A custom role ended; every grant of it ended before, in the same command (the delete rule). */
export interface RoleDeletedData {
  roleId: string;
  orgId: string;
}

/**
 * A user erased (contract section 6): their data key is destroyed once this is committed, so every sealed copy of
 * their email and name, in the log and elsewhere, reads as erased from then on. Their memberships ended just before,
 * in the same command (one UserRemovedFromOrg each). Subscribers must forget what they opened of this user.
 */
export interface UserErasedData {
  userId: string;
}

/**
 * A webhook subscription created (issue 14 item 6, contract section 10): deliveries of the events of `orgId`'s
 * subtree whose type is one of `eventTypes` (empty: every type) to `url`. Its signing secret is not here: only
 * the vault holds it.
 */
export interface WebhookSubscriptionCreatedData {
  subscriptionId: string;
  orgId: string;
  url: string;
  eventTypes: string[];
  description: string;
}

/** A webhook subscription's whole new target and filter (PATCH): every field as it now stands. */
export type WebhookSubscriptionUpdatedData = WebhookSubscriptionCreatedData;

/** A new signing secret (in the vault, never here); the previous one keeps signing until `previousSecretExpiresAt`. */
export interface WebhookSecretRotatedData {
  subscriptionId: string;
  orgId: string;
  /** ISO 8601. */
  previousSecretExpiresAt: string;
}

/** Deliveries stop: by the owner (`disabled by <actor>`) or by the dispatcher after repeated failures. */
export interface WebhookSubscriptionDisabledData {
  subscriptionId: string;
  orgId: string;
  reason: string;
}

/** Deliveries resume from where they stopped. */
export interface WebhookSubscriptionEnabledData {
  subscriptionId: string;
  orgId: string;
}

/** Deliver again every matching event from log position `fromPosition` (inclusive). */
export interface WebhookReplayRequestedData {
  subscriptionId: string;
  orgId: string;
  fromPosition: number;
}

/** A webhook subscription ended (by its owner, or before its organization is deleted); its secrets go with it. */
export interface WebhookSubscriptionDeletedData {
  subscriptionId: string;
  orgId: string;
}

export interface EventDataByType {
  OrgCreated: OrgCreatedData;
  OrgUpdated: OrgUpdatedData;
  OrgMoved: OrgMovedData;
  OrgDeleted: OrgDeletedData;
  OrgAuditRetentionSet: OrgAuditRetentionSetData;
  RequestMetadataDropped: RequestMetadataDroppedData;
  UserCreated: UserCreatedData;
  UserUpdated: UserUpdatedData;
  UserDisabled: UserStatusData;
  UserEnabled: UserStatusData;
  UserPasswordChanged: UserPasswordChangedData;
  UserPasswordSet: UserPasswordSetData;
  UserErased: UserErasedData;
  UserAddedToOrg: UserAddedToOrgData;
  MembershipConfirmed: MembershipConfirmedData;
  OrgUserUpdated: OrgUserUpdatedData;
  UserRemovedFromOrg: UserRemovedFromOrgData;
  ClientCredentialIssued: ClientCredentialIssuedData;
  ClientCredentialRolesChanged: ClientCredentialRolesChangedData;
  ClientCredentialRevoked: ClientCredentialRevokedData;
  ApplicationPermissionDefined: ApplicationPermissionDefinedData;
  ApplicationPermissionUpdated: ApplicationPermissionUpdatedData;
  ApplicationPermissionDeleted: ApplicationPermissionDeletedData;
  RoleDefined: RoleDefinedData;
  RoleUpdated: RoleUpdatedData;
  RoleDeleted: RoleDeletedData;
  WebhookSubscriptionCreated: WebhookSubscriptionCreatedData;
  WebhookSubscriptionUpdated: WebhookSubscriptionUpdatedData;
  WebhookSecretRotated: WebhookSecretRotatedData;
  WebhookSubscriptionDisabled: WebhookSubscriptionDisabledData;
  WebhookSubscriptionEnabled: WebhookSubscriptionEnabledData;
  WebhookReplayRequested: WebhookReplayRequestedData;
  WebhookSubscriptionDeleted: WebhookSubscriptionDeletedData;
}

export type DomainEventType = keyof EventDataByType;

/** An event as decided by the domain, before the store gives it an id, a position and a version. */
export type DomainEvent = {
  [K in DomainEventType]: { type: K; streamId: string; data: EventDataByType[K] };
}[DomainEventType];

/** An event as the log holds it: the envelope of contract section 8. */
export interface StoredEvent<T = unknown> {
  id: string;
  type: string;
  streamId: string;
  streamVersion: number;
  position: number;
  occurredAt: string;
  actor: Actor;
  data: T;
  /**
   * The organization the event is about and its ancestors, root first, at the time of the event (empty for
   * events about no organization); an `OrgMoved` then lists the former ancestors it left, so that the move is
   * an event of both subtrees. Not part of the public envelope: it serves the `orgId` filter of the event API
   * and webhooks, and its first element keys the distributed bus so that each tree keeps its order.
   */
  orgPath: string[];
  /**
   * The request that caused the event (issue 14, complete audit data), as stored: absent on events written
   * before it was recorded and on events no request caused (actor `system`); null once retention dropped it.
   * Kept beside the event, not in its hashed content: the chain hashes `metadataDigest` in its place, so
   * dropping it leaves every link intact. Not part of the public envelope.
   */
  requestMetadata?: StoredRequestMetadata | null;
  /**
   * Unpadded base64url SHA-256 of the RFC 8785 form of `requestMetadata` as written (event-chain.ts:
   * `requestMetadataDigest`). Present exactly when the event was written with request metadata; it stays
   * when retention drops the metadata.
   */
  metadataDigest?: string;
}

/**
 * What a request tells of itself and its caller, recorded with every event it causes (issue 14). Never a
 * token or a secret: only the token's identifiers.
 */
export interface RequestMetadata {
  /** The request's `X-Request-ID` when well-formed (1-200 visible ASCII characters), else one generated. */
  requestId: string;
  /** The client's IP address, as the trusted-proxy rule resolves it (IAM_TRUSTED_PROXIES). */
  sourceAddress?: string;
  /** The `User-Agent` header, at most 500 characters. */
  userAgent?: string;
  /**
   * The access token the actor used (RFC 9068 claims): its `jti`, its `sub` (the user's id; a client's
   * `client_id`), for a client's token its `client_id`, for a user's its session (`sid`) when it has one.
   */
  token?: { jti: string; sub: string; clientId?: string; sid?: string };
}

/**
 * Request metadata as the log keeps it. For a user actor it is their personal data, sealed like their email
 * and name (`{sealed, subjectId}`: `v1.` AES-256-GCM under the acting user's own data key), so that erasing
 * the user erases it too. For a client actor (a machine, no person's data key) it is kept in clear.
 */
export type StoredRequestMetadata = { sealed: SealedPersonalData; subjectId: string } | RequestMetadata;

export type KnownStoredEvent = {
  [K in DomainEventType]: StoredEvent<EventDataByType[K]> & { type: K };
}[DomainEventType];

/** True for an event of a type this code knows (one in the event catalogue). */
export const isKnownEvent = (e: StoredEvent): e is KnownStoredEvent => isKnownEventType(e.type);

export const orgStreamId = (orgId: string): string => `org-${orgId}`;
/** The stream of an organization's audit retention setting (OrgAuditRetentionSet). */
export const auditRetentionStreamId = (orgId: string): string => `audit-retention-${orgId}`;
/** The stream of the server-wide retention drops (RequestMetadataDropped with `orgId` null). */
export const SERVER_AUDIT_RETENTION_STREAM = 'audit-retention-server';
export const userStreamId = (userId: string): string => `user-${userId}`;
export const membershipStreamId = (orgId: string, userId: string): string => `membership-${orgId}-${userId}`;
export const clientStreamId = (clientCredentialId: string): string => `client-${clientCredentialId}`;
/** Streams of custom role definitions (`role-role_<ulid>`) and of application permissions (`permission-<orgId>-<name>`). */
export const roleStreamId = (roleId: string): string => `role-${roleId}`;
export const applicationPermissionStreamId = (orgId: string, name: string): string => `permission-${orgId}-${name}`;
/** Streams of webhook subscriptions: `webhook-whk_<ulid>`. */
export const webhookStreamId = (subscriptionId: string): string => `webhook-${subscriptionId}`;

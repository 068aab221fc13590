import { SYSTEM_ACTOR, type Actor, type StoredEvent } from '@arbor/domain';
import type { AddUserToOrgInput } from '../use-cases/add-user-to-org';
import type { BootstrapPlatformAdminInput } from '../use-cases/bootstrap-platform-admin';
import type { ChangeOwnPasswordInput } from '../use-cases/change-own-password';
import type { ConfirmMembershipInput } from '../use-cases/confirm-membership';
import type { CreateOrgInput } from '../use-cases/create-org';
import type { DeleteOrgInput } from '../use-cases/delete-org';
import type { IssueClientCredentialInput } from '../use-cases/issue-client-credential';
import type { RemoveUserFromOrgInput } from '../use-cases/remove-user-from-org';
import type { ReplaceOrgInput } from '../use-cases/replace-org';
import type { RevokeClientCredentialInput } from '../use-cases/revoke-client-credential';
import type { ChangeClientRolesInput } from '../use-cases/change-client-roles';
import type {
  DefinePermissionInput,
  DeletePermissionInput,
  UpdatePermissionInput,
} from '../use-cases/application-permissions';
import type { DefineRoleInput, DeleteRoleInput, UpdateRoleInput } from '../use-cases/custom-roles';
import type { RecordRequestMetadataDropInput, SetAuditRetentionInput } from '../use-cases/set-audit-retention';
import type { SetUserPasswordInput } from '../use-cases/set-user-password';
import type { UpdateOrgUserInput } from '../use-cases/update-org-user';
import type { UpdateUserInput } from '../use-cases/update-user';
import type { EraseUserInput } from '../use-cases/erase-user';
import type {
  CreateWebhookSubscriptionInput,
  DeleteWebhookSubscriptionInput,
  DisableWebhookSubscriptionInput,
  RequestWebhookReplayInput,
  RotateWebhookSecretInput,
  UpdateWebhookSubscriptionInput,
} from '../use-cases/webhook-subscriptions';
import { actorOf } from '../auth/principal';
import type { IdempotencyRecord, StoredResponse } from '../ports/event-store';
import type { CommandPrincipal } from './authorize-command';
import type { RequestOrigin } from './request-metadata';

/**
 * How a write's `If-Match` (RFC 9110 section 13.1.1) reaches the command side. The gateway evaluates the
 * header against the resource's current representation (libs/api write-flow): when it matched, the command
 * carries the versions of what it matched (`expectedVersion` and the like), so that a change committed in
 * between is refused (412) by the decider; when it did not, `preconditionFailed`, and the command service
 * refuses with 412 once it has authorized the command, so that a caller who may not see the resource or
 * do this learns 404 or 403 first, as without the header (RFC 9110 section 13.2.1).
 */
export interface Conditional {
  preconditionFailed?: true;
}

/**
 * Everything the command side can be asked to do: one member per use case (libs/application/src/use-cases),
 * each DERIVED from that use case's input schema (`Static<typeof ...Input>`), which the command service
 * validates every command against. Secrets arrive in clear and never leave this process.
 */
export type Command =
  | CreateOrgInput
  | ReplaceOrgInput
  | DeleteOrgInput
  | BootstrapPlatformAdminInput
  | AddUserToOrgInput
  | UpdateOrgUserInput
  | RemoveUserFromOrgInput
  | ConfirmMembershipInput
  | UpdateUserInput
  | EraseUserInput
  | ChangeOwnPasswordInput
  | SetUserPasswordInput
  | IssueClientCredentialInput
  | RevokeClientCredentialInput
  | ChangeClientRolesInput
  | DefinePermissionInput
  | UpdatePermissionInput
  | DeletePermissionInput
  | DefineRoleInput
  | UpdateRoleInput
  | DeleteRoleInput
  | SetAuditRetentionInput
  | RecordRequestMetadataDropInput
  | CreateWebhookSubscriptionInput
  | UpdateWebhookSubscriptionInput
  | RotateWebhookSecretInput
  | RequestWebhookReplayInput
  | DeleteWebhookSubscriptionInput
  | DisableWebhookSubscriptionInput;

export type CommandType = Command['type'];

/** The command of one type, e.g. `CommandOf<'CreateOrg'>`. */
export type CommandOf<K extends CommandType> = Extract<Command, { type: K }>;

export interface CommandContext {
  /**
   * Who asks. The command service authorizes the command for this principal itself, against the model it
   * decides on, and records the principal as the events' actor. `'system'` (no authorization) exists only
   * in-process, for the bootstrap; the internal command API builds principals from verified access tokens.
   */
  principal: CommandPrincipal;
  /**
   * Present when the request carried an `Idempotency-Key`; the key is stored with the command's events,
   * under the principal's own scope (see `idempotencyScopeOf`), whatever scope a caller passes.
   */
  idempotency?: { scope?: string; key: string; requestHash: string; provisionalResponse: StoredResponse };
  /**
   * The request that carries the command, when one does: recorded with every event the command writes (see
   * `requestMetadataOf`, which adds the token's identifiers from the principal).
   */
  request?: RequestOrigin;
  /**
   * When the caller stops waiting (ms since the epoch, this process's clock): a gateway answers 503 "may have been
   * applied" after its timeout, and a client then retries, perhaps without an Idempotency-Key. A command that reaches
   * the log's write lock, or its decision, only after this is not written (IAM_ERR_UNAVAILABLE, "not applied"), so
   * it cannot be applied after its caller gave up on it. Unset: no deadline (in-process callers).
   */
  deadline?: number;
}

/** Idempotency keys are the caller's own: the same key sent by two principals names two requests. */
export const idempotencyScopeOf = (principal: CommandPrincipal): string =>
  principal === 'system' ? 'system:system' : `${principal.type}:${principal.id}`;

/** Who the events of a command name as their actor. */
export const actorOfCommand = (principal: CommandPrincipal): Actor =>
  principal === 'system' ? SYSTEM_ACTOR : actorOf(principal);

export type CommandOutcome =
  { kind: 'applied'; events: StoredEvent[]; position: number } | { kind: 'replayed'; record: IdempotencyRecord };

import {
  SYSTEM_ACTOR,
  type Actor,
  type CreateOrgCommand,
  type DeleteOrgCommand,
  type OrgUserPrecondition,
  type ReplaceOrgCommand,
  type StoredEvent,
} from '@arbor/domain';
import { actorOf } from '../auth/principal';
import type { IdempotencyRecord, StoredResponse } from '../ports/event-store';
import type { CommandPrincipal } from './authorize-command';

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

/** Everything the command side can be asked to do. Secrets arrive in clear and never leave this process. */
export type Command =
  | ({ type: 'CreateOrg' } & CreateOrgCommand)
  | ({ type: 'ReplaceOrg' } & ReplaceOrgCommand & Conditional)
  | ({ type: 'DeleteOrg' } & DeleteOrgCommand & Conditional)
  | { type: 'BootstrapPlatformAdmin'; userId: string; email: string; name: string; password: string }
  | {
      type: 'AddUserToOrg';
      orgId: string;
      roles: unknown;
      existingUserId?: string;
      newUser?: { userId: string; email: unknown; name: unknown; password?: unknown };
    }
  | ({ type: 'UpdateOrgUser'; orgId: string; userId: string; roles?: unknown; name?: unknown } & OrgUserPrecondition & Conditional)
  | ({ type: 'RemoveUserFromOrg'; orgId: string; userId: string } & OrgUserPrecondition & Conditional)
  /** A pending membership (an account linked by a caller who could not see it) takes effect. */
  | ({ type: 'ConfirmMembership'; orgId: string; userId: string } & OrgUserPrecondition)
  /** A user's own record: their profile (name) and, for platform admins, their status. */
  | ({ type: 'UpdateUser'; userId: string; name?: unknown; status?: 'active' | 'disabled'; expectedVersion?: number } & Conditional)
  /**
   * The calling user changes their own password, proving the current one (checked by the command service,
   * throttled like a login). `source`: the caller's address as the gateway saw it (`req.ip`), the source the
   * login throttle counts. Ends the user's other sessions (the caller's own, its `sid`, survives).
   */
  | { type: 'ChangeOwnPassword'; userId: string; currentPassword: unknown; newPassword: unknown; source?: string }
  /** A platform admin, or the operator as `system` (`arbor reset-admin-password`), sets a user's password; ends every session of the user. */
  | { type: 'SetUserPassword'; userId: string; password: unknown }
  /** The command service mints the `client_id` itself; `secret` must be 256-bit random (ClientSecretHasher.newSecret). */
  | { type: 'IssueClientCredential'; clientCredentialId: string; name: unknown; orgId: string; scopes: unknown; secret: string }
  | ({ type: 'RevokeClientCredential'; clientCredentialId: string; expectedVersion?: number } & Conditional);

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
}

/** Idempotency keys are the caller's own: the same key sent by two principals names two requests. */
export const idempotencyScopeOf = (principal: CommandPrincipal): string => (principal === 'system' ? 'system:system' : `${principal.type}:${principal.id}`);

/** Who the events of a command name as their actor. */
export const actorOfCommand = (principal: CommandPrincipal): Actor => (principal === 'system' ? SYSTEM_ACTOR : actorOf(principal));

export type CommandOutcome =
  | { kind: 'applied'; events: StoredEvent[]; position: number }
  | { kind: 'replayed'; record: IdempotencyRecord };


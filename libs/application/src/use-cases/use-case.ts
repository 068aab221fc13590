import { Type, type TLiteral, type TSchema } from '@sinclair/typebox';
import { changedRoles, type DomainEvent, type IdentityState, type OrgNode, type Role } from '@arbor/domain';
import type { AccessPolicy } from '../auth/access-policy';
import type { Principal } from '../auth/principal';
import type { CommandPrincipal } from '../commands/authorize-command';
import type { CommandOf, CommandType } from '../commands/command';
import type { PreparationDeps, Prepared, SealedAt } from '../commands/command-preparation';
import type { PersonalDataCipher } from '../security/personal-data-cipher';

/**
 * A secret a decision needs stored, as data: the deciders stay pure, and the command service's commit step
 * writes it (inside the write transaction, after the check that every stream the decision opens is new and
 * before the events are appended: a rollback leaves an unused vault row, never an overwritten one).
 */
export type SecretToStore =
  | { kind: 'passwordHash'; userId: string; hash: string }
  | { kind: 'clientSecretHash'; clientCredentialId: string; hash: string }
  /** A webhook signing secret (in clear: it signs); `previousSecretExpiresAt` set on a rotation (SecretVault.setWebhookSecret). */
  | { kind: 'webhookSecret'; subscriptionId: string; secret: string; previousSecretExpiresAt: string | null };

/** What a use case decides: the events to append, and the secrets they need stored first. */
export interface Decision {
  events: DomainEvent[];
  secrets?: SecretToStore[];
}

/**
 * What a use case's reconcile step may use, inside the write transaction on the caught-up model:
 * the cipher and the log (to reopen a record another command changed since preparation), the principal,
 * and the access policy over the model as it is now.
 */
export interface ReconcileEnv {
  cipher: PersonalDataCipher;
  sealedAt: SealedAt;
  principal: CommandPrincipal;
  policy: AccessPolicy<OrgNode>;
}

/**
 * One thing the command side can do (contract section 4 says who may): everything about it in one module.
 * - `input`: the command's JSON Schema (TypeBox). The command's TypeScript type is DERIVED from it
 *   (`Static<typeof input>`, see commands/command.ts), and the command service validates every command
 *   against it, for every transport, so schema and type cannot drift. Fields the decider validates itself
 *   (names, roles: with precise field errors) are `unknown` here.
 * - `authorize`: who may run it, asked of the access policy inside the write transaction (and once before,
 *   to spare an unauthorized caller the preparation). Throws IamError IAM_ERR_NOT_FOUND where the caller
 *   may not see the resource, IAM_ERR_FORBIDDEN where they may see it but not do this.
 * - `prepare`: slow or secret work before the write transaction (hashing, sealing); validates secret-bearing
 *   input first, so a bad password never costs a hash. Default: nothing.
 * - `reconcile`: inside the write transaction, what preparation found out or what depends on the caught-up
 *   model (an erasure, a concurrent rename, a hidden account). Default: `prepared` as is.
 * - `decide`: pure; calls the domain's decider. Throws IamError for every refusal.
 */
export interface UseCase<K extends CommandType> {
  type: K;
  input: TSchema;
  authorize(policy: AccessPolicy<OrgNode>, principal: Principal, command: CommandOf<K>): Promise<void>;
  prepare?(command: CommandOf<K>, deps: PreparationDeps): Promise<Prepared>;
  reconcile?(state: IdentityState, command: CommandOf<K>, prepared: Prepared, env: ReconcileEnv): Promise<Prepared>;
  decide(state: IdentityState, command: CommandOf<K>, prepared: Prepared): Decision;
}

/** Identity function that fixes `K` at a module's definition site. */
export const defineUseCase = <K extends CommandType>(useCase: UseCase<K>): UseCase<K> => useCase;

/** The `type` member every command schema starts with (any string here: the registry ties it to its key). */
export const commandType = <K extends string>(type: K): TLiteral<K> => Type.Literal(type);

/** An id the command names; its grammar (`isIdOf`) is checked first, by checkCommandIds, for precise 400/404s. */
export const IdInput = Type.String();

/** The version an `If-Match` matched (RFC 9110 section 13.1.1), carried so a change committed since is a 412. */
export const VersionInput = Type.Optional(Type.Integer({ minimum: 0 }));

/** Set when `If-Match` matched nothing: refused with 412 once the command is authorized (see `Conditional`). */
export const PreconditionFailedInput = Type.Optional(Type.Literal(true));

/** Role ids as far as the policy needs them; anything malformed or unknown is left to the decider's validation (400). */
export const rolesIn = (roles: unknown): Role[] =>
  Array.isArray(roles) ? roles.filter((r): r is Role => typeof r === 'string') : [];

/** The roles a change grants or takes away: the policy's owner rule (requireMayGrant) looks at those alone. */
export const ownerChange = (before: readonly Role[], after: readonly Role[]): Role[] => changedRoles(before, after);

/** The rename a command's preparation carries (new name, re-sealed record, the name it replaces), if any. */
export function renameOf(prepared: Prepared): { name: string; personal: string; previousName: string } | undefined {
  return prepared.name !== undefined && prepared.personal && prepared.previousName !== undefined
    ? { name: prepared.name, personal: prepared.personal, previousName: prepared.previousName }
    : undefined;
}

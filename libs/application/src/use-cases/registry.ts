import Ajv, { type ValidateFunction } from 'ajv';
import { IamError } from '@arbor/domain';
import type { Command, CommandOf, CommandType } from '../commands/command';
import { addUserToOrg } from './add-user-to-org';
import {
  defineApplicationPermission,
  deleteApplicationPermission,
  updateApplicationPermission,
} from './application-permissions';
import { defineRole, deleteRole, updateRole } from './custom-roles';
import { bootstrapPlatformAdmin } from './bootstrap-platform-admin';
import { changeClientRoles } from './change-client-roles';
import { changeOwnPassword } from './change-own-password';
import { confirmMembership } from './confirm-membership';
import { createOrg } from './create-org';
import { deleteOrg } from './delete-org';
import { eraseUser } from './erase-user';
import { issueClientCredential } from './issue-client-credential';
import { removeUserFromOrg } from './remove-user-from-org';
import { replaceOrg } from './replace-org';
import { revokeClientCredential } from './revoke-client-credential';
import { recordRequestMetadataDrop, setAuditRetention } from './set-audit-retention';
import { setUserPassword } from './set-user-password';
import { updateOrgUser } from './update-org-user';
import { updateUser } from './update-user';
import type { UseCase } from './use-case';
import {
  createWebhookSubscription,
  deleteWebhookSubscription,
  disableWebhookSubscription,
  requestWebhookReplay,
  rotateWebhookSecret,
  updateWebhookSubscription,
} from './webhook-subscriptions';

/**
 * Every use case, by command type. Typed against the command union: a command type without a module (or a
 * module whose `type` is not its key) does not build. The command service asks only this registry, for
 * every transport (the embedded routes and the distributed internal command API alike).
 */
export const USE_CASES = {
  CreateOrg: createOrg,
  ReplaceOrg: replaceOrg,
  DeleteOrg: deleteOrg,
  BootstrapPlatformAdmin: bootstrapPlatformAdmin,
  AddUserToOrg: addUserToOrg,
  UpdateOrgUser: updateOrgUser,
  RemoveUserFromOrg: removeUserFromOrg,
  ConfirmMembership: confirmMembership,
  UpdateUser: updateUser,
  EraseUser: eraseUser,
  ChangeOwnPassword: changeOwnPassword,
  SetUserPassword: setUserPassword,
  IssueClientCredential: issueClientCredential,
  RevokeClientCredential: revokeClientCredential,
  ChangeClientRoles: changeClientRoles,
  DefinePermission: defineApplicationPermission,
  UpdatePermission: updateApplicationPermission,
  DeletePermission: deleteApplicationPermission,
  DefineRole: defineRole,
  UpdateRole: updateRole,
  DeleteRole: deleteRole,
  SetAuditRetention: setAuditRetention,
  RecordRequestMetadataDrop: recordRequestMetadataDrop,
  CreateWebhookSubscription: createWebhookSubscription,
  UpdateWebhookSubscription: updateWebhookSubscription,
  RotateWebhookSecret: rotateWebhookSecret,
  RequestWebhookReplay: requestWebhookReplay,
  DeleteWebhookSubscription: deleteWebhookSubscription,
  DisableWebhookSubscription: disableWebhookSubscription,
} satisfies { [K in CommandType]: UseCase<K> };

/** The use case of a command type; undefined for a type no module handles (a caller's typo, an old gateway). */
export function useCaseOf<K extends CommandType>(type: K): UseCase<K>;
export function useCaseOf(type: string): UseCase<CommandType> | undefined;
export function useCaseOf(type: string): UseCase<CommandType> | undefined {
  return Object.hasOwn(USE_CASES, type)
    ? (USE_CASES[type as CommandType] as unknown as UseCase<CommandType>)
    : undefined;
}

// One compiler, schemas compiled on first use and kept: nothing per command but the validation itself.
const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<CommandType, ValidateFunction>();

/**
 * Checks a command against its use case's input schema, so that what the deciders and the policy read has
 * the type the compiler believes it has (a `recursive: "false"` must not delete a subtree). Returns the
 * command typed. Throws IamError IAM_ERR_VALIDATION (400): an unknown type (`/type`), or every field that
 * breaks the schema, by JSON pointer into the command (e.g. `/recursive`), never with its value.
 */
export function validateCommand(command: unknown): Command {
  const type = (command as { type?: unknown } | null)?.type;
  const useCase = typeof type === 'string' ? useCaseOf(type) : undefined;
  if (!useCase)
    throw new IamError('IAM_ERR_VALIDATION', 'Unknown command type.', [
      { path: '/type', message: 'is not a command type' },
    ]);
  let validate = validators.get(useCase.type);
  if (!validate) validators.set(useCase.type, (validate = ajv.compile(useCase.input)));
  if (validate(command)) return command as Command;
  throw new IamError(
    'IAM_ERR_VALIDATION',
    `The ${useCase.type} command is not valid.`,
    (validate.errors ?? []).map((e) => ({
      path:
        e.keyword === 'required'
          ? `${e.instancePath}/${String((e.params as { missingProperty: string }).missingProperty)}`
          : e.instancePath,
      message: e.keyword === 'required' ? 'is required' : (e.message ?? 'is not valid'),
    })),
  );
}

/** The use case that handles `command`, typed for it. Call only on a validated command. */
export const useCaseFor = <K extends CommandType>(command: CommandOf<K>): UseCase<K> => useCaseOf(command.type as K);

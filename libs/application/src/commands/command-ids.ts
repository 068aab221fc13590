import { IamError, isIdOf, type IdKind } from '@arbor/domain';
import type { Command, CommandType } from './command';

/** An id a command names: where it sits in the command (a JSON pointer), its kind, and whether it opens a stream. */
interface NamedId {
  path: string;
  kind: IdKind;
  value: unknown;
  /** True for the id of a resource the command creates; false for one it refers to. */
  creates: boolean;
}

// A record, not a list, so that the compiler names this place when a command type is added.
const COMMAND_TYPES: ReadonlySet<string> = new Set(
  Object.keys({
    CreateOrg: true,
    ReplaceOrg: true,
    DeleteOrg: true,
    BootstrapPlatformAdmin: true,
    AddUserToOrg: true,
    UpdateOrgUser: true,
    RemoveUserFromOrg: true,
    ConfirmMembership: true,
    UpdateUser: true,
    EraseUser: true,
    ChangeOwnPassword: true,
    SetUserPassword: true,
    IssueClientCredential: true,
    RevokeClientCredential: true,
    ChangeClientRoles: true,
    DefinePermission: true,
    UpdatePermission: true,
    DeletePermission: true,
    DefineRole: true,
    UpdateRole: true,
    DeleteRole: true,
    SetAuditRetention: true,
    RecordRequestMetadataDrop: true,
    CreateWebhookSubscription: true,
    UpdateWebhookSubscription: true,
    RotateWebhookSecret: true,
    RequestWebhookReplay: true,
    DeleteWebhookSubscription: true,
    DisableWebhookSubscription: true,
  } satisfies Record<CommandType, true>),
);

/** Every id each command names (an optional reference left out is not listed; `parentId: null` is a root). */
function idsOf(command: Command): NamedId[] {
  const ref = (path: string, kind: IdKind, value: unknown): NamedId => ({ path, kind, value, creates: false });
  const make = (path: string, kind: IdKind, value: unknown): NamedId => ({ path, kind, value, creates: true });
  switch (command.type) {
    case 'CreateOrg':
      return [
        make('/orgId', 'org', command.orgId),
        ...(command.parentId === null ? [] : [ref('/parentId', 'org', command.parentId)]),
      ];
    case 'ReplaceOrg':
      return [
        ref('/orgId', 'org', command.orgId),
        ...(command.parentId === null || command.parentId === undefined
          ? []
          : [ref('/parentId', 'org', command.parentId)]),
      ];
    case 'DeleteOrg':
      return [ref('/orgId', 'org', command.orgId)];
    case 'BootstrapPlatformAdmin':
      return [make('/userId', 'user', command.userId)];
    case 'AddUserToOrg':
      return [
        ref('/orgId', 'org', command.orgId),
        ...(command.existingUserId === undefined ? [] : [ref('/existingUserId', 'user', command.existingUserId)]),
        ...(command.newUser === undefined
          ? []
          : [make('/newUser/userId', 'user', (command.newUser as { userId?: unknown } | null)?.userId)]),
      ];
    case 'UpdateOrgUser':
    case 'RemoveUserFromOrg':
    case 'ConfirmMembership':
      return [ref('/orgId', 'org', command.orgId), ref('/userId', 'user', command.userId)];
    case 'UpdateUser':
    case 'EraseUser':
    case 'ChangeOwnPassword':
    case 'SetUserPassword':
      return [ref('/userId', 'user', command.userId)];
    case 'IssueClientCredential':
      return [
        make('/clientCredentialId', 'clientCredential', command.clientCredentialId),
        ref('/orgId', 'org', command.orgId),
      ];
    case 'RevokeClientCredential':
    case 'ChangeClientRoles':
      return [ref('/clientCredentialId', 'clientCredential', command.clientCredentialId)];
    case 'DefinePermission':
    case 'UpdatePermission':
    case 'DeletePermission':
    case 'SetAuditRetention':
      return [ref('/orgId', 'org', command.orgId)];
    case 'RecordRequestMetadataDrop':
      return command.orgId === null ? [] : [ref('/orgId', 'org', command.orgId)];
    case 'DefineRole':
      return [make('/roleId', 'role', command.roleId), ref('/orgId', 'org', command.orgId)];
    case 'UpdateRole':
    case 'DeleteRole':
      return [ref('/roleId', 'role', command.roleId)];
    case 'CreateWebhookSubscription':
      return [make('/subscriptionId', 'webhook', command.subscriptionId), ref('/orgId', 'org', command.orgId)];
    case 'UpdateWebhookSubscription':
    case 'RotateWebhookSecret':
    case 'RequestWebhookReplay':
    case 'DeleteWebhookSubscription':
    case 'DisableWebhookSubscription':
      return [ref('/subscriptionId', 'webhook', command.subscriptionId)];
  }
}

/**
 * Checks every id a command names against the grammar of its kind (`isIdOf`: `org_`, `usr_` or `cc_` and 26
 * Crockford base32 characters), before anything else looks at the command. The command service runs it for
 * every transport, so the embedded routes and the distributed internal API (whose caller chooses the ids of
 * new resources) hold the same rule. Pure: it reveals nothing about what exists.
 * Throws IamError:
 * - IAM_ERR_VALIDATION (400) for an unknown command type, or a malformed id of a resource the command
 *   creates (errors name it by JSON pointer into the command, e.g. `/newUser/userId`);
 * - IAM_ERR_NOT_FOUND (404) for a malformed id the command refers to: no such resource can exist, which is
 *   what a read of the same id answers too.
 */
export function checkCommandIds(command: Command): void {
  const type = (command as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !COMMAND_TYPES.has(type))
    throw new IamError('IAM_ERR_VALIDATION', 'Unknown command type.', [
      { path: '/type', message: 'is not a command type' },
    ]);
  const ids = idsOf(command);
  const badNew = ids.filter((id) => id.creates && !isIdOf(id.kind, id.value));
  if (badNew.length > 0)
    throw new IamError(
      'IAM_ERR_VALIDATION',
      'A new resource needs an id of its kind, as newId makes it.',
      badNew.map((id) => ({ path: id.path, message: `must be an id of kind ${id.kind}` })),
    );
  const badRef = ids.find((id) => !id.creates && !isIdOf(id.kind, id.value));
  if (badRef) throw new IamError('IAM_ERR_NOT_FOUND', `No ${badRef.kind} has the id at ${badRef.path}.`);
}

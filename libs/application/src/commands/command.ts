import type { CreateOrgCommand, DeleteOrgCommand, ReplaceOrgCommand } from '@arbor/domain';

/** Everything the command side can be asked to do. Secrets arrive in clear and never leave this process. */
export type Command =
  | ({ type: 'CreateOrg' } & CreateOrgCommand)
  | ({ type: 'ReplaceOrg' } & ReplaceOrgCommand)
  | ({ type: 'DeleteOrg' } & DeleteOrgCommand)
  | { type: 'BootstrapPlatformAdmin'; userId: string; email: string; name: string; password: string }
  | {
      type: 'AddUserToOrg';
      orgId: string;
      roles: unknown;
      existingUserId?: string;
      newUser?: { userId: string; email: unknown; name: unknown; password?: unknown };
    }
  | { type: 'UpdateOrgUser'; orgId: string; userId: string; roles?: unknown; name?: unknown; expectedVersion?: number }
  | { type: 'RemoveUserFromOrg'; orgId: string; userId: string; expectedVersion?: number }
  /** A user's own record: their profile (name) and, for platform admins, their status. */
  | { type: 'UpdateUser'; userId: string; name?: unknown; status?: 'active' | 'disabled'; expectedVersion?: number }
  | { type: 'IssueClientCredential'; clientCredentialId: string; clientId: string; name: unknown; orgId: string; scopes: unknown; secret: string }
  | { type: 'RevokeClientCredential'; clientCredentialId: string };

export type CommandType = Command['type'];

/** The command of one type, e.g. `CommandOf<'CreateOrg'>`. */
export type CommandOf<K extends CommandType> = Extract<Command, { type: K }>;

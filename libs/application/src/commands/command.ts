import type { CreateOrgCommand, DeleteOrgCommand, ReplaceOrgCommand } from '@arbor/domain';

/** Everything the command side can be asked to do. */
export type Command =
  | ({ type: 'CreateOrg' } & CreateOrgCommand)
  | ({ type: 'ReplaceOrg' } & ReplaceOrgCommand)
  | ({ type: 'DeleteOrg' } & DeleteOrgCommand)
  | { type: 'BootstrapPlatformAdmin'; userId: string; email: string; name: string; password: string };

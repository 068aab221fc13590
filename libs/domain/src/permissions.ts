/**
 * The permission names of contract section 4; they double as OAuth2 scopes. Roles grant some of them
 * (roles.ts); `events:read` and `tokens:introspect` (RFC 7662: the full introspection answer about any
 * token, for resource servers) no role grants: platform admins hold them and alone give them to clients.
 */
export const PERMISSIONS = [
  'orgs:read',
  'orgs:write',
  'orgs:delete',
  'users:read',
  'users:write',
  'clients:read',
  'clients:write',
  'events:read',
  'tokens:introspect',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const isPermission = (s: string): s is Permission => (PERMISSIONS as readonly string[]).includes(s);

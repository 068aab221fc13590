/** The permission names of contract section 4; they double as OAuth2 scopes. */
export const PERMISSIONS = [
  'orgs:read',
  'orgs:write',
  'orgs:delete',
  'users:read',
  'users:write',
  'clients:read',
  'clients:write',
  'events:read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const isPermission = (s: string): s is Permission => (PERMISSIONS as readonly string[]).includes(s);

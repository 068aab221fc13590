/**
 * The one list of permissions (contract section 4); they double as OAuth2 scopes (RFC 6749 section 3.3).
 * Everything else that names them reads this list: the scope grammar, the API schemas' enum, the discovery
 * document's `scopes_supported`, the role definitions (roles.ts) and the access policy. Each carries the
 * description the contract's section 4 table gives, so that table and the OpenAPI document can be generated
 * from it. Order is canonical: scope lists come out in it.
 *
 * Role definitions grant some of them; `events:read` and `tokens:introspect` (RFC 7662: the full
 * introspection answer about any token, for resource servers) no built-in role grants: platform admins hold
 * them and alone give them to clients.
 */
export const PERMISSION_DEFINITIONS = [
  { id: 'orgs:read', description: 'See the organization and its subtree.' },
  { id: 'orgs:write', description: 'Create sub-organizations, update, move within the subtree.' },
  { id: 'orgs:delete', description: 'Delete organizations; grant or take away a role that grants this.' },
  { id: 'users:read', description: 'See the members of the organization and its subtree.' },
  { id: 'users:write', description: 'Add, update and remove members; grant roles that do not grant orgs:delete.' },
  { id: 'clients:read', description: 'See the client credentials of the subtree.' },
  { id: 'clients:write', description: 'Issue and revoke client credentials of the subtree.' },
  {
    id: 'roles:read',
    description: 'See the role and application-permission definitions visible at the organization.',
  },
  {
    id: 'roles:write',
    description: 'Define, change and delete roles and application permissions on the organization.',
  },
  {
    id: 'access:evaluate',
    description:
      'Ask the access decision API (AuthZEN) about subjects other than oneself, within the subtree (contract section 9).',
  },
  { id: 'events:read', description: 'Read the event log (contract section 8).' },
  {
    id: 'tokens:introspect',
    description: 'The full introspection answer about any token (RFC 7662; contract section 3).',
  },
] as const satisfies ReadonlyArray<{ id: string; description: string }>;

/** A permission name, such as `orgs:read`: one of PERMISSION_DEFINITIONS' ids. */
export type Permission = (typeof PERMISSION_DEFINITIONS)[number]['id'];

/** One permission and what it allows (contract section 4). */
export type PermissionDefinition = (typeof PERMISSION_DEFINITIONS)[number];

/** The permission names, in canonical order. */
export const PERMISSIONS: readonly Permission[] = PERMISSION_DEFINITIONS.map((p) => p.id);

export const isPermission = (s: string): s is Permission => (PERMISSIONS as readonly string[]).includes(s);

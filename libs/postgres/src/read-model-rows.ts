import { caselessKey } from '@arbor/domain';
import type { OrgView, UserView } from '@arbor/application';
import { normaliseRoles, type Role } from '@arbor/domain';

/** Columns of `orgs o` in the shape `toOrgView` expects. */
export const ORG_COLUMNS =
  'o.id, o.name, o.parent_id, o.depth, o.description, o.metadata, o.created_at, o.updated_at, o.version';

export interface OrgRow {
  id: string;
  name: string;
  parent_id: string | null;
  depth: number;
  description: string | null;
  /** jsonb: node-postgres hands it over parsed. */
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  version: number;
}

export const toOrgView = (row: OrgRow): OrgView => ({
  id: row.id,
  name: row.name,
  parentId: row.parent_id,
  description: row.description,
  metadata: row.metadata,
  depth: row.depth,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

/** Columns of `users u` in the shape `toUserView` expects. */
export const USER_COLUMNS =
  'u.id, u.email, u.name, u.status, u.platform_admin, u.created_at, u.updated_at, u.version, u.sessions_not_before, u.kept_session_id';

export interface UserRow {
  id: string;
  email: string | null;
  name: string | null;
  status: UserView['status'];
  platform_admin: boolean;
  created_at: string;
  updated_at: string;
  version: number;
  sessions_not_before: string | null;
  kept_session_id: string | null;
}

export const toUserView = (row: UserRow): UserView => ({
  id: row.id,
  email: row.email,
  name: row.name,
  status: row.status,
  platformAdmin: row.platform_admin,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
  sessionsNotBefore: row.sessions_not_before,
  keptSessionId: row.kept_session_id,
});

/** Emails (and user names, for searches) compare as the domain does: Unicode canonical caseless matching. */
export const emailKey = (email: string): string => caselessKey(email);

/** The key of "contains" searches: the same folding as `emailKey`, LIKE wildcards escaped. */
export const containsPattern = (q: string): string => `%${emailKey(q).replace(/[\\%_]/g, '\\$&')}%`;

/** Role ids from their jsonb column(s) (arrays once parsed), merged, deduplicated and in canonical order (normaliseRoles). */
export function parseRoles(...columns: unknown[][]): Role[] {
  const held: Role[] = [];
  for (const column of columns) for (const role of column) if (typeof role === 'string') held.push(role);
  return normaliseRoles(held);
}

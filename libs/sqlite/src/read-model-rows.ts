import { caselessKey } from '@arbor/domain';
import type { OrgView, UserView } from '@arbor/application';
import { normaliseRoles, type Role } from '@arbor/domain';

/**
 * Columns of `orgs o`, in `OrgTuple` order. Organization queries read rows as arrays (`raw` statements):
 * better-sqlite3 builds an array row in well under half the time of an object row, which is most of a
 * 50-row children page.
 */
export const ORG_COLUMNS =
  'o.id, o.name, o.parent_id, o.depth, o.description, o.metadata, o.created_at, o.updated_at, o.version';

export type OrgTuple = [
  id: string,
  name: string,
  parentId: string | null,
  depth: number,
  description: string | null,
  metadata: string,
  createdAt: string,
  updatedAt: string,
  version: number,
];

/** Also takes a longer row that starts with the organization's columns (a children page's). */
export const toOrgView = (row: readonly [...OrgTuple, ...unknown[]]): OrgView => ({
  id: row[0],
  name: row[1],
  parentId: row[2],
  description: row[4],
  metadata: JSON.parse(row[5]) as Record<string, unknown>,
  depth: row[3],
  createdAt: row[6],
  updatedAt: row[7],
  version: row[8],
});

/** Columns of `users u`, in `UserTuple` order (rows read as arrays, as `ORG_COLUMNS`). */
export const USER_COLUMNS =
  'u.id, u.email, u.name, u.status, u.platform_admin, u.created_at, u.updated_at, u.version, u.sessions_not_before, u.kept_session_id';

export type UserTuple = [
  id: string,
  email: string | null,
  name: string | null,
  status: UserView['status'],
  platformAdmin: number,
  createdAt: string,
  updatedAt: string,
  version: number,
  sessionsNotBefore: string | null,
  keptSessionId: string | null,
];

export const toUserView = (row: UserTuple): UserView => ({
  id: row[0],
  email: row[1],
  name: row[2],
  status: row[3],
  platformAdmin: row[4] !== 0,
  createdAt: row[5],
  updatedAt: row[6],
  version: row[7],
  sessionsNotBefore: row[8],
  keptSessionId: row[9],
});

/** Emails (and user names, for searches) compare as the domain does: Unicode canonical caseless matching. */
export const emailKey = (email: string): string => caselessKey(email);

/** The key of "email or name contains" searches: the same folding as `emailKey`, applied to the pattern too. */
export const containsPattern = (q: string): string => `%${emailKey(q).replace(/[\\%_]/g, '\\$&')}%`;

/** Role ids from their JSON column(s), merged, deduplicated and in canonical order (normaliseRoles). */
export function parseRoles(...columns: string[]): Role[] {
  const held: Role[] = [];
  for (const column of columns)
    for (const role of JSON.parse(column) as unknown[]) if (typeof role === 'string') held.push(role);
  return normaliseRoles(held);
}

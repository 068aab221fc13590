import type { OrgView, UserView } from '@arbor/application';

/** Columns of `orgs o` in the shape `toOrgView` expects. */
export const ORG_COLUMNS =
  'o.id, o.name, o.parent_id, o.depth, o.description, o.metadata, o.created_at, o.updated_at, o.version';

export interface OrgRow {
  id: string;
  name: string;
  parent_id: string | null;
  depth: number;
  description: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export const toOrgView = (row: OrgRow): OrgView => ({
  id: row.id,
  name: row.name,
  parentId: row.parent_id,
  description: row.description,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  depth: row.depth,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

export const USER_COLUMNS = 'id, email, name, status, platform_admin, created_at, updated_at, version';

export interface UserRow {
  id: string;
  email: string | null;
  name: string | null;
  status: UserView['status'];
  platform_admin: number;
  created_at: string;
  updated_at: string;
  version: number;
}

export const toUserView = (row: UserRow): UserView => ({
  id: row.id,
  email: row.email,
  name: row.name,
  status: row.status,
  platformAdmin: row.platform_admin !== 0,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

/** Emails compare case-insensitively, after Unicode normalisation (as sibling names do). */
export const emailKey = (email: string): string => email.normalize('NFC').toLowerCase();

import type { PersonalData, ProjectableEvent } from '@arbor/application';
import type { Role } from '@arbor/domain';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/** Builds events by hand, as the store would have stored them: positions and stream versions in order. */
export class Log {
  private position = 0;
  private readonly versions = new Map<string, number>();

  event(type: string, streamId: string, data: unknown, personal?: PersonalData | null): ProjectableEvent {
    const streamVersion = (this.versions.get(streamId) ?? 0) + 1;
    this.versions.set(streamId, streamVersion);
    this.position += 1;
    const occurredAt = new Date(Date.UTC(2024, 0, 1, 0, 0, this.position)).toISOString();
    const e: ProjectableEvent = {
      id: `evt-${this.position}`, type, streamId, streamVersion, position: this.position, occurredAt,
      actor: { type: 'system', id: 'system' }, data, orgPath: [],
    };
    if (personal !== undefined) e.personal = personal;
    return e;
  }
  /** When the next event will have occurred. */
  nextAt(): string {
    return new Date(Date.UTC(2024, 0, 1, 0, 0, this.position + 1)).toISOString();
  }
  created(orgId: string, name: string, parentId: string | null): ProjectableEvent {
    return this.event('OrgCreated', `org-${orgId}`, { orgId, name, parentId, description: null, metadata: { n: name } });
  }
  updated(orgId: string, name: string): ProjectableEvent {
    return this.event('OrgUpdated', `org-${orgId}`, { orgId, name, description: 'renamed', metadata: {} });
  }
  moved(orgId: string, fromParentId: string | null, toParentId: string | null): ProjectableEvent {
    return this.event('OrgMoved', `org-${orgId}`, { orgId, fromParentId, toParentId });
  }
  deleted(orgId: string, parentId: string | null): ProjectableEvent {
    return this.event('OrgDeleted', `org-${orgId}`, { orgId, parentId });
  }
  user(userId: string, personal: PersonalData | null, platformAdmin = false): ProjectableEvent {
    return this.event('UserCreated', `user-${userId}`, { userId, personal: 'v1.x.y', platformAdmin }, personal);
  }
  userUpdated(userId: string, personal: PersonalData | null): ProjectableEvent {
    return this.event('UserUpdated', `user-${userId}`, { userId, personal: 'v1.x.y' }, personal);
  }
  userStatus(type: 'UserDisabled' | 'UserEnabled', userId: string): ProjectableEvent {
    return this.event(type, `user-${userId}`, { userId });
  }
  added(orgId: string, userId: string, roles: Role[]): ProjectableEvent {
    return this.event('UserAddedToOrg', `membership-${orgId}-${userId}`, { orgId, userId, roles });
  }
  rolesSet(orgId: string, userId: string, roles: Role[]): ProjectableEvent {
    return this.event('OrgUserUpdated', `membership-${orgId}-${userId}`, { orgId, userId, roles });
  }
  removed(orgId: string, userId: string): ProjectableEvent {
    return this.event('UserRemovedFromOrg', `membership-${orgId}-${userId}`, { orgId, userId });
  }
  clientIssued(id: string, clientId: string, orgId: string, scopes: string[]): ProjectableEvent {
    return this.event('ClientCredentialIssued', `client-${id}`, { clientCredentialId: id, clientId, name: `Client ${id}`, orgId, scopes });
  }
  clientRevoked(id: string, clientId: string, orgId: string): ProjectableEvent {
    return this.event('ClientCredentialRevoked', `client-${id}`, { clientCredentialId: id, clientId, orgId });
  }
}

/** Every page of a paged query, following cursors (bounded, so a cursor loop fails instead of hanging). */
export async function collectPages<T>(
  fetch: (page: { limit: number; cursor?: string }) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit: number,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit, cursor });
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

/**
 * The organizations most read-model specs share; ids sort in creation order.
 *   r ── a ── a1 ── a11        o
 *   └─── b ── b1
 */
export const ACCESS_TREE: Array<[string, string, string | null]> = [
  ['r', 'Root', null], ['a', 'Alpha', 'r'], ['a1', 'Alpha one', 'a'], ['a11', 'Alpha one one', 'a1'],
  ['b', 'Beta', 'r'], ['b1', 'Beta one', 'b'], ['o', 'Other', null],
];

/** The integration database; the PostgreSQL suites are skipped without it. */
export const DATABASE_URL = process.env.DATABASE_URL ?? '';

/** A schema of its own for each spec file, dropped afterwards. */
export const randomSchema = (prefix = 'rm'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export async function dropSchema(schema: string): Promise<void> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}

/** Every read-model row of a schema, in a stable order: two projections compare equal when these do. */
export async function dumpReadModels(pool: Pool, schema: string): Promise<Record<string, unknown[]>> {
  const order: Record<string, string> = {
    orgs: 'id', org_closure: 'ancestor_id, descendant_id', users: 'id', memberships: 'org_id, user_id',
    clients: 'id', checkpoint: 'name',
  };
  const dump: Record<string, unknown[]> = {};
  for (const [table, by] of Object.entries(order)) {
    dump[table] = (await pool.query(`SELECT * FROM "${schema}".${table} ORDER BY ${by}`)).rows;
  }
  return dump;
}

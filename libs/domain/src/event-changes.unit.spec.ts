import type { StoredEvent } from './events';
import { fieldChanges } from './event-changes';

let position = 0;
const at = (type: string, streamVersion: number, data: unknown): StoredEvent => ({
  id: `e${++position}`,
  type,
  streamId: 's',
  streamVersion,
  position,
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: { type: 'system', id: 'system' },
  data,
  orgPath: [],
});

describe('fieldChanges (before and after of an update)', () => {
  it('lists the fields an update changed, from the latest earlier event of the stream that carries them', () => {
    const created = at('OrgCreated', 1, { orgId: 'org_1', name: 'A', parentId: null, description: null, metadata: {} });
    const moved = at('OrgMoved', 2, { orgId: 'org_1', fromParentId: null, toParentId: 'org_2' });
    const renamed = at('OrgUpdated', 3, { orgId: 'org_1', name: 'B', description: null, metadata: { k: 1 } });
    const again = at('OrgUpdated', 4, { orgId: 'org_1', name: 'B', description: 'd', metadata: { k: 1 } });
    const stream = [created, moved, renamed, again];
    expect(fieldChanges(stream, renamed)).toEqual([
      { field: 'name', before: 'A', after: 'B' },
      { field: 'metadata', before: {}, after: { k: 1 } },
    ]);
    expect(fieldChanges(stream, again)).toEqual([{ field: 'description', before: null, after: 'd' }]);
    expect(fieldChanges(stream, moved)).toBeUndefined();
    expect(fieldChanges(stream, created)).toBeUndefined();
  });

  it('reads roles an older issue left out as none, and keys of objects in any order as equal', () => {
    const issued = at('ClientCredentialIssued', 1, {
      clientCredentialId: 'cc_1',
      clientId: 'cli_1',
      name: 'n',
      orgId: 'org_1',
      scopes: [],
    });
    const changed = at('ClientCredentialRolesChanged', 2, {
      clientCredentialId: 'cc_1',
      clientId: 'cli_1',
      orgId: 'org_1',
      roles: ['admin'],
    });
    expect(fieldChanges([issued, changed], changed)).toEqual([{ field: 'roles', before: [], after: ['admin'] }]);
    const a = at('OrgCreated', 1, {
      orgId: 'org_1',
      name: 'A',
      parentId: null,
      description: null,
      metadata: { a: 1, b: 2 },
    });
    const b = at('OrgUpdated', 2, { orgId: 'org_1', name: 'A', description: null, metadata: { b: 2, a: 1 } });
    expect(fieldChanges([a, b], b)).toEqual([]);
  });
});

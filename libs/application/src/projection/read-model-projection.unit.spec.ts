import type { ProjectableEvent } from '../ports/read-models';
import type { ReadModelEngine, SyncReadModelEngine } from './read-model-engine';
import { projectEventAsync, projectEventSync } from './read-model-projection';

type Call = [string, ...unknown[]];

/**
 * An engine that records each primitive called and answers `orgDepth` from `depths`. The temporal read model's
 * `recordVersion` calls go to `versions` when given (the tests of what each event versions), else nowhere.
 */
function recordingEngine(
  depths: Record<string, number>,
  calls: Call[],
  async = false,
  versions?: Call[],
): SyncReadModelEngine {
  return new Proxy({} as SyncReadModelEngine, {
    get:
      (_target, name: string) =>
      (...args: unknown[]) => {
        if (name === 'recordVersion') versions?.push([name, ...args]);
        else calls.push([name, ...args]);
        const value = name === 'orgDepth' ? depths[args[0] as string] : undefined;
        return async ? Promise.resolve(value) : value;
      },
  });
}

const event = (type: string, data: unknown, extra: Partial<ProjectableEvent> = {}): ProjectableEvent => ({
  id: 'e1',
  type,
  streamId: 's',
  streamVersion: 7,
  position: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: { type: 'system', id: 'system' },
  data,
  orgPath: [],
  ...extra,
});

describe('the shared read-model projection', () => {
  it('moves a subtree: unlink from old ancestors, link under the new parent, shift depths by the change, set the parent', async () => {
    const e = event('OrgMoved', { orgId: 'b', fromParentId: 'a', toParentId: 'c' });
    const expected: Call[] = [
      ['orgDepth', 'b'],
      ['orgDepth', 'c'],
      ['unlinkSubtree', 'b'],
      ['linkSubtree', 'b', 'c'],
      ['shiftSubtreeDepth', 'b', 2],
      ['setParent', 'b', 'c', e.occurredAt, 7],
    ];
    const sync: Call[] = [];
    projectEventSync(recordingEngine({ b: 1, c: 2 }, sync), e);
    expect(sync).toEqual(expected);
    const async: Call[] = [];
    await projectEventAsync(recordingEngine({ b: 1, c: 2 }, async, true), e);
    expect(async).toEqual(expected);
  });

  it('moves to the root without linking, and keeps depths when they do not change', () => {
    const calls: Call[] = [];
    projectEventSync(
      recordingEngine({ b: 0 }, calls),
      event('OrgMoved', { orgId: 'b', fromParentId: 'a', toParentId: null }),
    );
    expect(calls.map((c) => c[0])).toEqual(['orgDepth', 'unlinkSubtree', 'setParent']);
  });

  it('ignores a move of an organization without a row', () => {
    const calls: Call[] = [];
    projectEventSync(
      recordingEngine({}, calls),
      event('OrgMoved', { orgId: 'x', fromParentId: null, toParentId: 'c' }),
    );
    expect(calls).toEqual([['orgDepth', 'x']]);
  });

  it('stores a role and moves the catalog position in the same event; permission events leave the position', () => {
    const calls: Call[] = [];
    const engine = recordingEngine({}, calls);
    const data = {
      roleId: 'role_1',
      orgId: 'o',
      name: 'R',
      description: 'd',
      permissions: ['x:y'],
      appliesTo: 'subtree',
    };
    projectEventSync(engine, event('RoleUpdated', data, { position: 9 }));
    projectEventSync(engine, event('RoleDeleted', { roleId: 'role_1', orgId: 'o' }, { position: 10 }));
    projectEventSync(engine, event('ApplicationPermissionDefined', { orgId: 'o', name: 'x:y', description: 'd' }));
    expect(calls).toEqual([
      [
        'putRole',
        {
          id: 'role_1',
          orgId: 'o',
          name: 'R',
          description: 'd',
          permissions: ['x:y'],
          appliesTo: 'subtree',
          at: '2026-01-01T00:00:00.000Z',
          version: 7,
        },
      ],
      ['setRoleCatalogPosition', 9],
      ['deleteRole', 'role_1'],
      ['setRoleCatalogPosition', 10],
      [
        'putApplicationPermission',
        { orgId: 'o', name: 'x:y', description: 'd', at: '2026-01-01T00:00:00.000Z', version: 7 },
      ],
    ]);
  });

  it('ignores an event type it does not know', () => {
    const calls: Call[] = [];
    projectEventSync(recordingEngine({}, calls), event('SomethingNew', {}));
    expect(calls).toEqual([]);
  });

  it('creates a user whose personal data could not be opened as active (the log decides the status), and folds the keys of one that could', () => {
    const calls: Call[] = [];
    const engine = recordingEngine({}, calls);
    projectEventSync(
      engine,
      event('UserCreated', { userId: 'u', personal: 'v1.x.y', platformAdmin: false }, { personal: null }),
    );
    projectEventSync(
      engine,
      event('UserUpdated', { userId: 'u', personal: 'v1.x.y' }, { personal: { email: 'A@X.org', name: 'Straße' } }),
    );
    expect(calls[0][1]).toMatchObject({ id: 'u', personal: null, status: 'active' });
    expect(calls[1]).toEqual([
      'setPersonalData',
      'u',
      { email: 'A@X.org', emailKey: 'a@x.org', name: 'Straße', nameKey: 'strasse' },
      '2026-01-01T00:00:00.000Z',
      7,
    ]);
  });

  it('refuses a synchronous engine that returns a promise (the transaction would commit without its write)', () => {
    const engine = recordingEngine({}, [], true) as unknown as ReadModelEngine as SyncReadModelEngine;
    expect(() => projectEventSync(engine, event('UserRemovedFromOrg', { orgId: 'o', userId: 'u' }))).toThrow(/promise/);
  });

  it('versions each row an event changed, after its other steps, at its position (the temporal read model)', async () => {
    const cases: Array<[ProjectableEvent, Call[]]> = [
      [
        event('OrgMoved', { orgId: 'b', fromParentId: 'a', toParentId: 'c' }, { position: 4 }),
        [['recordVersion', { kind: 'org', orgId: 'b' }, 4]],
      ],
      [
        event('OrgUserUpdated', { orgId: 'o', userId: 'u', roles: ['admin'] }, { position: 5 }),
        [['recordVersion', { kind: 'membership', orgId: 'o', userId: 'u' }, 5]],
      ],
      [event('UserErased', { userId: 'u' }, { position: 6 }), [['recordVersion', { kind: 'user', userId: 'u' }, 6]]],
      [
        event('ClientCredentialRevoked', { clientCredentialId: 'c', clientId: 'x', orgId: 'o' }, { position: 7 }),
        [['recordVersion', { kind: 'client', id: 'c' }, 7]],
      ],
      [
        event('RoleDeleted', { roleId: 'r', orgId: 'o' }, { position: 8 }),
        [['recordVersion', { kind: 'role', roleId: 'r' }, 8]],
      ],
      [
        event('ApplicationPermissionDeleted', { orgId: 'o', name: 'a:b' }, { position: 9 }),
        [['recordVersion', { kind: 'permission', orgId: 'o', name: 'a:b' }, 9]],
      ],
    ];
    for (const [e, expected] of cases) {
      const all: Call[] = [];
      const engine = recordingEngine({ b: 1, c: 2 }, all, true, all);
      await projectEventAsync(engine, e);
      // Last, once the row is as the event leaves it.
      expect([e.type, all.slice(all.length - expected.length)]).toEqual([e.type, expected]);
      expect([e.type, all.filter((c) => c[0] === 'recordVersion')]).toEqual([e.type, expected]);
    }
  });
});

import type { RoleView } from '../ports/read-models';
import { ReadModelRoleCatalog } from './read-model-role-catalog';

const view = (id: string, orgId: string, permissions: string[]): RoleView => ({
  id,
  orgId,
  name: id,
  description: '',
  permissions,
  appliesTo: 'subtree',
  createdAt: 't',
  updatedAt: 't',
  version: 1,
});

/**
 * RoleQueries as a table the test changes between calls, counting the queries: the refresh rules are about
 * which queries run, which only a count shows (the read models themselves are tested by the conformance suites).
 */
function table() {
  const state = {
    position: 0,
    roles: [] as RoleView[],
    positionReads: 0,
    loads: 0,
    gate: undefined as Promise<void> | undefined,
  };
  let snapshot: RoleView[] = [];
  return {
    state,
    queries: {
      catalogPosition: async () => {
        state.positionReads++;
        const at = state.position;
        // What a read at this instant sees: `all()` answers from it, as a query right after would.
        snapshot = [...state.roles];
        await state.gate;
        return at;
      },
      all: async () => {
        state.loads++;
        return snapshot;
      },
    },
  };
}

describe('ReadModelRoleCatalog', () => {
  it('reloads the roles only when the catalog position moved', async () => {
    const { state, queries } = table();
    const catalog = new ReadModelRoleCatalog(queries);
    await catalog.refresh();
    expect(state.loads).toBe(1);
    expect(catalog.get('role_1')).toBeUndefined();
    expect(catalog.get('owner')?.permissions).toContain('orgs:delete');
    await catalog.refresh();
    expect([state.positionReads, state.loads]).toEqual([2, 1]);
    state.roles = [view('role_1', 'o', ['x:y'])];
    state.position = 5;
    await catalog.refresh();
    expect([state.positionReads, state.loads]).toEqual([3, 2]);
    expect(catalog.get('role_1')?.permissions).toEqual(['x:y']);
  });

  it('asks nothing while the known read-model position has not moved past the last check', async () => {
    const { state, queries } = table();
    let known = 10;
    const catalog = new ReadModelRoleCatalog(queries, () => known);
    await catalog.refresh();
    await catalog.refresh();
    expect([state.positionReads, state.loads]).toEqual([1, 1]);
    known = 11;
    state.position = 11;
    state.roles = [view('role_2', 'o', [])];
    await catalog.refresh();
    expect([state.positionReads, state.loads]).toEqual([2, 2]);
    expect(catalog.get('role_2')).toBeDefined();
    // The read models rebuilt from 0: a lower position is checked again, not taken as already seen.
    known = 3;
    state.position = 0;
    state.roles = [];
    await catalog.refresh();
    expect(catalog.get('role_2')).toBeUndefined();
  });

  it('shares a check among callers, and makes a caller that arrives during a check wait for a newer one', async () => {
    const { state, queries } = table();
    let open!: () => void;
    state.gate = new Promise((resolve) => (open = resolve));
    const catalog = new ReadModelRoleCatalog(queries);
    const first = catalog.refresh();
    // The first check has read position 0; a role defined now must still be seen by the later callers.
    state.position = 3;
    state.roles = [view('role_3', 'o', [])];
    const second = catalog.refresh();
    const third = catalog.refresh();
    expect(second).toBe(third);
    open();
    await first;
    await second;
    expect(catalog.get('role_3')).toBeDefined();
    expect(state.positionReads).toBe(2);
  });

  it('lists the custom roles of the given ancestors, root first, after the built-in ones', async () => {
    const { state, queries } = table();
    state.position = 1;
    state.roles = [view('role_a', 'child', []), view('role_b', 'root', []), view('role_c', 'child', [])];
    const catalog = new ReadModelRoleCatalog(queries);
    await catalog.refresh();
    expect(catalog.visibleAt('child', ['root']).map((r) => r.id)).toEqual([
      'member',
      'admin',
      'owner',
      'role_b',
      'role_a',
      'role_c',
    ]);
    expect(catalog.visibleAt('root', []).map((r) => r.id)).toEqual(['member', 'admin', 'owner', 'role_b']);
  });
});

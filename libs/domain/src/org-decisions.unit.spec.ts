import { decideCreateOrg, decideDeleteOrg, decideReplaceOrg } from './org-decisions';
import { OrgTree, MAX_ORG_DEPTH } from './org-tree';
import { IamError } from './iam-error';
import type { DomainEvent, StoredEvent } from './events';
import { eventOrgPath } from './event-catalogue';

/** Applies decided events to the tree the way the command service does, with positions and versions. */
function commit(tree: OrgTree, events: DomainEvent[]): StoredEvent[] {
  const versions = new Map<string, number>();
  return events.map((e) => {
    const v = (versions.get(e.streamId) ?? tree.get(String((e.data as { orgId?: string }).orgId))?.version ?? 0) + 1;
    versions.set(e.streamId, v);
    const stored: StoredEvent = {
      id: `evt-${tree.position + 1}`,
      type: e.type,
      streamId: e.streamId,
      streamVersion: v,
      position: tree.position + 1,
      occurredAt: new Date().toISOString(),
      actor: { type: 'system', id: 'test' },
      data: e.data,
      orgPath: eventOrgPath(tree, e),
    };
    tree.apply(stored);
    return stored;
  });
}

function create(tree: OrgTree, orgId: string, name: string, parentId: string | null = null): void {
  commit(tree, decideCreateOrg(tree, { orgId, name, parentId }));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IamError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('creating organizations', () => {
  it('creates roots and children with depth and path', () => {
    const tree = new OrgTree();
    create(tree, 'a', 'Acme');
    create(tree, 'b', 'Sales', 'a');
    expect(tree.get('b')).toMatchObject({ parentId: 'a', depth: 1, version: 1 });
    expect(tree.path('b')).toEqual(['a', 'b']);
    const [event] = decideCreateOrg(tree, { orgId: 'c', name: 'EU', parentId: 'b' });
    expect(eventOrgPath(tree, event)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a sibling name that differs only by case or surrounding spaces', () => {
    const tree = new OrgTree();
    create(tree, 'a', 'Acme');
    create(tree, 'b', 'Sales', 'a');
    expect(codeOf(() => decideCreateOrg(tree, { orgId: 'c', name: ' SALES ', parentId: 'a' }))).toBe(
      'IAM_ERR_NAME_TAKEN',
    );
    // Roots are no siblings: two tenants may share a name, and one keeps its name when another takes it.
    const twin = decideCreateOrg(tree, { orgId: 'd', name: 'acme', parentId: null });
    commit(tree, twin);
    expect(tree.get('d')?.name).toBe('acme');
    expect(tree.get('a')?.name).toBe('Acme');
    // The same name under another parent is fine.
    create(tree, 'e', 'Other');
    expect(() => decideCreateOrg(tree, { orgId: 'f', name: 'Sales', parentId: 'e' })).not.toThrow();
  });

  it('refuses a missing parent, bad names and oversized metadata', () => {
    const tree = new OrgTree();
    expect(codeOf(() => decideCreateOrg(tree, { orgId: 'x', name: 'X', parentId: 'nope' }))).toBe('IAM_ERR_NOT_FOUND');
    expect(codeOf(() => decideCreateOrg(tree, { orgId: 'x', name: '   ', parentId: null }))).toBe('IAM_ERR_VALIDATION');
    expect(codeOf(() => decideCreateOrg(tree, { orgId: 'x', name: 'a'.repeat(201), parentId: null }))).toBe(
      'IAM_ERR_VALIDATION',
    );
    expect(codeOf(() => decideCreateOrg(tree, { orgId: 'x', name: 'tab\there', parentId: null }))).toBe(
      'IAM_ERR_VALIDATION',
    );
    expect(
      codeOf(() =>
        decideCreateOrg(tree, { orgId: 'x', name: 'X', parentId: null, metadata: { blob: 'x'.repeat(4100) } }),
      ),
    ).toBe('IAM_ERR_VALIDATION');
    expect(
      codeOf(() => decideCreateOrg(tree, { orgId: 'x', name: 'X', parentId: null, metadata: [] as unknown })),
    ).toBe('IAM_ERR_VALIDATION');
    expect(() =>
      decideCreateOrg(tree, { orgId: 'x', name: 'a'.repeat(200), parentId: null, metadata: { k: 'x'.repeat(4000) } }),
    ).not.toThrow();
  });

  it('allows 64 levels and no more', () => {
    const tree = new OrgTree();
    create(tree, 'n0', 'level 0');
    for (let i = 1; i <= MAX_ORG_DEPTH; i++) create(tree, `n${i}`, `level ${i}`, `n${i - 1}`);
    expect(tree.get(`n${MAX_ORG_DEPTH}`)!.depth).toBe(63);
    expect(codeOf(() => decideCreateOrg(tree, { orgId: 'too-deep', name: 'x', parentId: `n${MAX_ORG_DEPTH}` }))).toBe(
      'IAM_ERR_DEPTH_LIMIT',
    );
  });
});

describe('replacing (updating and moving) organizations', () => {
  function sample(): OrgTree {
    const tree = new OrgTree();
    create(tree, 'root', 'Root');
    create(tree, 'a', 'A', 'root');
    create(tree, 'a1', 'A1', 'a');
    create(tree, 'a11', 'A11', 'a1');
    create(tree, 'b', 'B', 'root');
    return tree;
  }

  it('moves a subtree and shifts every depth below it', () => {
    const tree = sample();
    const events = decideReplaceOrg(tree, { orgId: 'a1', name: 'A1', parentId: 'b' });
    expect(events.map((e) => e.type)).toEqual(['OrgMoved']);
    commit(tree, events);
    expect(tree.get('a1')).toMatchObject({ parentId: 'b', depth: 2, version: 2 });
    expect(tree.get('a11')!.depth).toBe(3);
    expect(tree.path('a11')).toEqual(['root', 'b', 'a1', 'a11']);
    expect(tree.siblingNamed('a', 'A1')).toBeUndefined();
    expect(tree.siblingNamed('b', 'a1')).toBe('a1');
  });

  it('refuses to move an organization below itself or its descendants', () => {
    const tree = sample();
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'a', name: 'A', parentId: 'a' }))).toBe('IAM_ERR_CYCLE');
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'a', name: 'A', parentId: 'a11' }))).toBe('IAM_ERR_CYCLE');
  });

  it('refuses a move that would push the subtree past 64 levels', () => {
    const tree = new OrgTree();
    create(tree, 'n0', 'chain');
    for (let i = 1; i <= 60; i++) create(tree, `n${i}`, `c${i}`, `n${i - 1}`);
    create(tree, 'm0', 'other');
    create(tree, 'm1', 'm1', 'm0');
    create(tree, 'm2', 'm2', 'm1');
    create(tree, 'm3', 'm3', 'm2');
    // m0's subtree is 3 levels high; below n60 (depth 60) its leaf would be at depth 64.
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'm0', name: 'other', parentId: 'n60' }))).toBe(
      'IAM_ERR_DEPTH_LIMIT',
    );
    expect(() => decideReplaceOrg(tree, { orgId: 'm1', name: 'm1', parentId: 'n60' })).not.toThrow();
  });

  it('checks names among the new siblings when moving, and renames among the current ones', () => {
    const tree = sample();
    create(tree, 'b-a1', 'a1', 'b');
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'a1', name: 'A1', parentId: 'b' }))).toBe('IAM_ERR_NAME_TAKEN');
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'a', name: 'b', parentId: 'root' }))).toBe(
      'IAM_ERR_NAME_TAKEN',
    );
    // Renaming to another case of its own name is allowed.
    expect(decideReplaceOrg(tree, { orgId: 'a', name: 'a', parentId: 'root' }).map((e) => e.type)).toEqual([
      'OrgUpdated',
    ]);
  });

  it('decides nothing when nothing changes, and honours the expected version', () => {
    const tree = sample();
    expect(decideReplaceOrg(tree, { orgId: 'a', name: 'A', parentId: 'root' })).toEqual([]);
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'a', name: 'A2', parentId: 'root', expectedVersion: 7 }))).toBe(
      'IAM_ERR_PRECONDITION_FAILED',
    );
    expect(decideReplaceOrg(tree, { orgId: 'a', name: 'A2', parentId: 'root', expectedVersion: 1 })).toHaveLength(1);
    expect(codeOf(() => decideReplaceOrg(tree, { orgId: 'ghost', name: 'A', parentId: null }))).toBe(
      'IAM_ERR_NOT_FOUND',
    );
  });

  it('replaces description and metadata: absent fields become empty', () => {
    const tree = new OrgTree();
    commit(
      tree,
      decideCreateOrg(tree, { orgId: 'x', name: 'X', parentId: null, description: 'd', metadata: { k: 1 } }),
    );
    const [event] = decideReplaceOrg(tree, { orgId: 'x', name: 'X', parentId: null });
    expect(event.data).toEqual({ orgId: 'x', name: 'X', description: null, metadata: {} });
  });
});

describe('deleting organizations', () => {
  it('refuses to delete a parent unless recursive, and then deletes leaves first', () => {
    const tree = new OrgTree();
    create(tree, 'r', 'R');
    create(tree, 'c1', 'C1', 'r');
    create(tree, 'c2', 'C2', 'r');
    create(tree, 'g', 'G', 'c1');
    expect(codeOf(() => decideDeleteOrg(tree, { orgId: 'r', recursive: false }))).toBe('IAM_ERR_HAS_CHILDREN');
    const events = decideDeleteOrg(tree, { orgId: 'r', recursive: true });
    const order = events.map((e) => (e.data as { orgId: string }).orgId);
    expect(order).toHaveLength(4);
    expect(order[order.length - 1]).toBe('r');
    expect(order.indexOf('g')).toBeLessThan(order.indexOf('c1'));
    commit(tree, events);
    expect(tree.size).toBe(0);
    expect(tree.siblingNamed(null, 'R')).toBeUndefined();
  });

  it('honours the expected version', () => {
    const tree = new OrgTree();
    create(tree, 'r', 'R');
    expect(codeOf(() => decideDeleteOrg(tree, { orgId: 'r', recursive: false, expectedVersion: 2 }))).toBe(
      'IAM_ERR_PRECONDITION_FAILED',
    );
    expect(decideDeleteOrg(tree, { orgId: 'r', recursive: false, expectedVersion: 1 })).toHaveLength(1);
  });
});

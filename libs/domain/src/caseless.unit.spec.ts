import { caselessKey } from './caseless';
import { decideCreateOrg, decideDeleteOrg } from './org-decisions';
import { OrgTree } from './org-tree';
import { UserDirectory, emailKey } from './user-directory';
import { IamError } from './iam-error';
import type { StoredEvent } from './events';

describe('caselessKey: Unicode canonical caseless matching (full case folding)', () => {
  it.each([
    ['Straße', 'STRASSE'],
    ['Straße', 'strasse'],
    ['ẞ', 'ss'],
    ['ΟΔΟΣ', 'οδος'],
    ['ΟΔΟΣ', 'οδοσ'],
    ['Cafe\u0301', 'CAFÉ'],
    ['Ꭰ', 'ꭰ'], // Cherokee folds to upper case: U+AB70 → U+13A0
    ['ﬅ', 'ST'],
    ['Acme', 'ACME'],
  ])('%s and %s share a key', (a, b) => {
    expect(caselessKey(a)).toBe(caselessKey(b));
  });

  it.each([
    ['İstanbul', 'istanbul'], // İ folds to i + combining dot above (status F, not the Turkic T)
    ['ı', 'i'],
    ['Acme', 'Acne'],
  ])('%s and %s do not', (a, b) => {
    expect(caselessKey(a)).not.toBe(caselessKey(b));
  });

  it('keys emails the same way, ignoring surrounding spaces', () => {
    expect(emailKey(' Straße@Example.test ')).toBe(emailKey('STRASSE@example.TEST'));
  });
});

let position = 0;
const stored = (type: string, streamId: string, data: unknown, streamVersion = 1): StoredEvent => ({
  id: `evt-${++position}`,
  type,
  streamId,
  streamVersion,
  position,
  occurredAt: new Date().toISOString(),
  actor: { type: 'system', id: 'test' },
  data,
  orgPath: [],
});
const orgCreated = (orgId: string, name: string, parentId: string | null) =>
  stored('OrgCreated', `org-${orgId}`, { orgId, name, parentId, description: null, metadata: {} });

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof IamError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('an old log whose sibling names now fold equal', () => {
  it('replays both, keeps the name taken while either holds it, and refuses new collisions', () => {
    const tree = new OrgTree();
    tree.apply(orgCreated('root', 'Root', null));
    // Written when names compared by lower case alone: Straße and STRASSE were different names then.
    tree.apply(orgCreated('a', 'Straße', 'root'));
    tree.apply(orgCreated('b', 'STRASSE', 'root'));
    expect(tree.size).toBe(3);
    expect(tree.subtreeIds('root').sort()).toEqual(['a', 'b', 'root']);
    expect(OrgTree.fromSnapshot(tree.toSnapshot()).subtreeIds('root').sort()).toEqual(['a', 'b', 'root']);
    expect(code(() => decideCreateOrg(tree, { orgId: 'c', name: 'strasse', parentId: 'root' }))).toBe(
      'IAM_ERR_NAME_TAKEN',
    );

    for (const e of decideDeleteOrg(tree, { orgId: 'a', recursive: false }))
      tree.apply(stored(e.type, e.streamId, e.data, 2));
    expect(tree.siblingNamed('root', 'Strasse')).toBe('b');
    expect(code(() => decideCreateOrg(tree, { orgId: 'c', name: 'strasse', parentId: 'root' }))).toBe(
      'IAM_ERR_NAME_TAKEN',
    );
    for (const e of decideDeleteOrg(tree, { orgId: 'b', recursive: false }))
      tree.apply(stored(e.type, e.streamId, e.data, 2));
    expect(tree.siblingNamed('root', 'Strasse')).toBeUndefined();
    expect(code(() => decideCreateOrg(tree, { orgId: 'c', name: 'strasse', parentId: 'root' }))).toBe('no error');
  });
});

describe('an old log whose emails now fold equal', () => {
  it('keeps both accounts and the email taken until neither holds it', () => {
    const users = new UserDirectory();
    const index = emailKey('strasse@x.test');
    users.apply(stored('UserCreated', 'user-u1', { userId: 'u1', platformAdmin: false }), index);
    users.apply(stored('UserCreated', 'user-u2', { userId: 'u2', platformAdmin: false }), index);
    expect(users.size).toBe(2);
    expect(users.idForEmailIndex(index)).toBe('u1');
    users.markErased('u1');
    expect(users.idForEmailIndex(index)).toBe('u2');
    const restored = UserDirectory.fromSnapshot(users.toSnapshot());
    expect(restored.idForEmailIndex(index)).toBe('u2');
    users.markErased('u2');
    expect(users.idForEmailIndex(index)).toBeUndefined();
  });
});

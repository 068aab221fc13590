import type { Role } from '@arbor/domain';
import type { AccessQuestionFacts, AccessQuestionKey } from '../ports/read-models';
import type { AccessFacts } from './access-facts';
import { RequestAccessFacts } from './request-access-facts';

/**
 * The caching rule of the access decision API: within one request every fact is read once (a batch's
 * questions in one query), and nothing outlives the request: the next request reads the read models afresh.
 * The read side here is a small table the test changes between requests, as a projected event would.
 */
function readSide() {
  const memberships = new Map<string, Role[]>([['u1 a', ['member']]]);
  const orgs = new Map<string, string | null>([
    ['r', null],
    ['a', 'r'],
  ]);
  const calls: AccessQuestionKey[][] = [];
  const port = {
    accessQuestions: async (pairs: ReadonlyArray<AccessQuestionKey>): Promise<AccessQuestionFacts[]> => {
      calls.push([...pairs]);
      return pairs.map(({ userId, orgId }) => ({
        org: orgs.has(orgId) ? { id: orgId, parentId: orgs.get(orgId)! } : undefined,
        user: userId === 'u1' || userId === 'u2' ? { status: 'active', platformAdmin: false } : undefined,
        roles: userId === null ? [] : (memberships.get(`${userId} ${orgId}`) ?? []),
      }));
    },
  };
  let baseReads = 0;
  const base = {
    ancestorIds: async (orgId: string) => (baseReads++, orgId === 'a' ? ['r'] : []),
  } as unknown as AccessFacts;
  return { port, base, memberships, calls, baseReads: () => baseReads };
}

describe('RequestAccessFacts', () => {
  it("answers a batch's questions from one read, each pair once, and again from the request's state", async () => {
    const side = readSide();
    const facts = new RequestAccessFacts(side.port, side.base);
    const pairs = [
      { userId: 'u1', orgId: 'a' },
      { userId: 'u2', orgId: 'a' },
      { userId: 'u1', orgId: 'a' },
      { userId: null, orgId: 'r' },
    ];
    await facts.load(pairs);
    expect(side.calls).toEqual([pairs.slice(0, 2).concat(pairs[3])]);
    // The caller rule and the decision asking the same closure, the org check, the subject: no further read.
    expect(await facts.effectiveRoles('u1', 'a')).toEqual(['member']);
    expect(await facts.effectiveRoles('u1', 'a')).toEqual(['member']);
    expect(await facts.org('a')).toEqual({ id: 'a', parentId: 'r' });
    expect(await facts.org('r')).toEqual({ id: 'r', parentId: null });
    expect(await facts.user('u2')).toEqual({ status: 'active', platformAdmin: false });
    await facts.load(pairs);
    expect(side.calls).toHaveLength(1);
    // What load did not read is read on demand, once, and kept for the request.
    expect(await facts.effectiveRoles('u2', 'r')).toEqual([]);
    expect(await facts.org('nope')).toBeUndefined();
    expect(await facts.org('nope')).toBeUndefined();
    expect(side.calls).toHaveLength(3);
    await facts.ancestorIds('a');
    await facts.ancestorIds('a');
    expect(side.baseReads()).toBe(1);
  });

  it('keeps its answers for its request while a later request sees a change', async () => {
    const side = readSide();
    const first = new RequestAccessFacts(side.port, side.base);
    await first.load([{ userId: 'u1', orgId: 'a' }]);
    side.memberships.set('u1 a', ['admin']); // projected between two evaluations of the same batch
    expect(await first.effectiveRoles('u1', 'a')).toEqual(['member']);
    const next = new RequestAccessFacts(side.port, side.base);
    expect(await next.effectiveRoles('u1', 'a')).toEqual(['admin']);
  });
});

import type { Principal } from '@arbor/application';
import type { ApiContext } from './api-context';
import { decide, type DecisionState, type Question } from './access-evaluation';

/**
 * "Explanation costs nothing when not asked for" (issue 13): an unexplained decision is made from the request's
 * decision state alone and never touches the context, where every explanation read lives (the read models'
 * parents and memberships, the event store's streams, the role catalog). The context here records each
 * member asked for; the state answers as the real one would for an active member holding `orgs:read`.
 */
const touched: string[] = [];
const ctx = new Proxy({} as ApiContext, {
  get: (_target, name) => {
    touched.push(String(name));
    throw new Error(`the context's ${String(name)} was read`);
  },
});
const policy = { requireMayAsk: async () => undefined, heldBy: async () => new Set(['orgs:read']) };
const state = {
  facts: { user: async () => ({ status: 'active', platformAdmin: false }) },
  policy,
  // The view's explanation reads (the tree, memberships) are recorded as the context's are.
  view: new Proxy(
    { policy, at: undefined, user: async () => ({ status: 'active', platformAdmin: false }) } as Record<
      string,
      unknown
    >,
    {
      get: (target, name) => {
        if (name in target) return target[name as string];
        touched.push(`view.${String(name)}`);
        throw new Error(`the view's ${String(name)} was read`);
      },
    },
  ),
  subjects: new Map(),
} as unknown as DecisionState;
const admin: Principal = { type: 'user', id: 'usr_admin', platformAdmin: true } as Principal;
const question = (explain: boolean): Question => ({
  subject: { type: 'user', id: 'usr_member' },
  action: 'orgs:read',
  orgId: 'org_leaf',
  explain,
});

beforeEach(() => {
  touched.length = 0;
  state.subjects.clear();
});

it('decides without explain from the request state alone: nothing an explanation reads is touched', async () => {
  await expect(decide(ctx, admin, question(false), 7, state)).resolves.toEqual({ decision: true });
  expect(touched).toEqual([]);
});

it('reads for the explanation only when asked (the same question, explained, goes to the context)', async () => {
  await expect(decide(ctx, admin, question(true), 7, state)).rejects.toThrow(/the view's ancestorIds was read/);
  expect(touched).toContain('view.ancestorIds');
});

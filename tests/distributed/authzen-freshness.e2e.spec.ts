import { addNewUser } from '../../apps/standalone/src/test-support/access-fixtures';
import { type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import { createOrg, type TestApp, startStackTestApp } from '../../apps/standalone/src/test-support/test-app';

/**
 * Fresh answers (contract section 9) against real processes: with the projector stopped, an access decision
 * that requires a position the log holds but the read models have not reached answers 503 with Retry-After
 * (one beyond the log's end is a 400 at once, even then: the gateway reads the head from PostgreSQL); once
 * the projector is back, the same request is answered at that position, and the decision includes the write.
 */
let app: TestApp;
let stack: DistributedStack;

beforeAll(async () => {
  ({ app, stack } = await startStackTestApp('arbor-authzen-'));
}, 60_000);
afterAll(() => app.close());

it('waits for min_position, answers 503 with Retry-After while the projector is down, then decides at it', async () => {
  const root = await createOrg(app, 'Fresh answers');
  const user = await addNewUser(app, root.id, ['member'], 'fresh');
  const ask = (minPosition: number) =>
    app.call('POST', '/access/v1/evaluation', {
      body: {
        subject: { type: 'user', id: user.userId },
        resource: { type: 'organization', id: root.id },
        action: { name: 'orgs:write' },
        context: { min_position: minPosition },
      },
    });

  const projector = stack.processes.projector;
  const exited = new Promise((resolve) => projector.once('exit', resolve));
  projector.kill('SIGKILL');
  await exited;

  // The write is stored, but its read-your-writes wait gives up without the projector.
  const promoted = await app.call('PATCH', `/api/v1/orgs/${root.id}/users/${user.userId}`, {
    body: { roles: ['admin'] },
  });
  expect(promoted.status).toBe(503);
  const events = await app.call('GET', `/api/v1/events?streamId=membership-${root.id}-${user.userId}`);
  const position: number = events.body.items.at(-1).position;
  expect(events.body.items.at(-1).type).toBe('OrgUserUpdated');
  // The 503 names the position the write was stored at, as its 200 would have: the caller can wait for it.
  expect(promoted.headers.get('arbor-position')).toBe(String(position));
  expect(promoted.headers.get('retry-after')).toBe('1');

  const stale = await ask(position);
  expect(stale.status).toBe(503);
  expect(stale.headers.get('retry-after')).toBe('1');
  expect(stale.headers.get('content-type')).toContain('application/problem+json');
  expect(stale.body.code).toBe('IAM_ERR_UNAVAILABLE');
  // Beyond the log's end is the caller's error, answered at once even while projection lags.
  const beyond = await ask(position + 1_000_000);
  expect(beyond.status).toBe(400);
  expect(beyond.body.errors).toEqual([{ path: '/body/context/min_position', message: expect.any(String) }]);

  await stack.restart('projector');
  const fresh = await ask(position);
  expect(fresh.status).toBe(200);
  expect(fresh.body.decision).toBe(true);
  expect(fresh.body.context.position).toBeGreaterThanOrEqual(position);
  expect(Number(fresh.headers.get('arbor-position'))).toBe(fresh.body.context.position);
}, 90_000);

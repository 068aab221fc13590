import type { ProjectableEvent } from '@arbor/application';
import type { RunningStandalone } from './start-standalone';
import { addNewUser } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Fresh answers (contract section 9), embedded profile: a `context.min_position` the log holds but the read
 * models have not projected yet waits, then answers 503 with Retry-After; once projection resumes, the same
 * request is answered at that position and the decision includes the write. The projector runs in this
 * process, so the test stalls it by making its read-model writes fail (a test-only reach into the running
 * app, as the disk-full tests do); the projector retries by itself, as it does after any failure. The
 * distributed profile's counterpart kills the projector process (tests/distributed/authzen-freshness).
 */
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** Makes every read-model batch fail until the returned function is called. */
function stallProjection(running: RunningStandalone): () => void {
  const readModels = (running.projector as unknown as { deps: { readModels: { apply: unknown } } }).deps.readModels;
  const apply = readModels.apply;
  readModels.apply = (_events: ProjectableEvent[]) => Promise.reject(new Error('projection stalled by the test'));
  return () => {
    readModels.apply = apply;
  };
}

it('a position the log holds but the read models lack: 503 with Retry-After, then decided at it', async () => {
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

  const resume = stallProjection(app.running as RunningStandalone);
  let position: number;
  try {
    // The write is stored, but its read-your-writes wait gives up while projection is stalled.
    const promoted = await app.call('PATCH', `/api/v1/orgs/${root.id}/users/${user.userId}`, {
      body: { roles: ['admin'] },
    });
    expect(promoted.status).toBe(503);
    const events = await app.call('GET', `/api/v1/events?streamId=membership-${root.id}-${user.userId}`);
    expect(events.body.items.at(-1).type).toBe('OrgUserUpdated');
    position = events.body.items.at(-1).position;

    const stale = await ask(position);
    expect(stale.status).toBe(503);
    expect(stale.headers.get('retry-after')).toBe('1');
    expect(stale.headers.get('content-type')).toContain('application/problem+json');
    expect(stale.body.code).toBe('IAM_ERR_UNAVAILABLE');
    // Beyond the log's end is the caller's error, answered at once even while projection lags.
    const beyond = await ask(position + 1_000_000);
    expect(beyond.status).toBe(400);
    expect(beyond.body.errors).toEqual([{ path: '/body/context/min_position', message: expect.any(String) }]);
  } finally {
    resume();
  }

  const fresh = await ask(position);
  expect(fresh.status).toBe(200);
  expect(fresh.body.decision).toBe(true);
  expect(fresh.body.context.position).toBeGreaterThanOrEqual(position);
  expect(Number(fresh.headers.get('arbor-position'))).toBe(fresh.body.context.position);
}, 60_000);

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { freePort, type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import { snapshot } from '../../apps/standalone/src/test-support/read-side-snapshot';
import { createOrg, type TestApp, startStackTestApp } from '../../apps/standalone/src/test-support/test-app';
import { TcpProxy } from './tcp-proxy';

/**
 * Fault tests of the distributed profile, against real processes, PostgreSQL and Kafka. Each ends with the
 * read models equal to a fresh rebuild from the log: nothing lost, nothing doubled.
 */
const ROOT = resolve(__dirname, '../..');
// Asynchronous on purpose: a blocked event loop would stall the concurrent writes this test measures.
const run = promisify(execFile);

async function start(databaseUrl?: string): Promise<{ app: TestApp; stack: DistributedStack }> {
  const { app, stack } = await startStackTestApp('arbor-fault-', { databaseUrl });
  return { app, stack };
}

/** Creates `count` children of `parentId` from `lanes` concurrent clients; returns every status. */
async function writeMany(
  app: TestApp,
  parentId: string,
  count: number,
  lanes = 4,
  prefix = 'child',
): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const i = next++;
        statuses.push((await app.call('POST', '/api/v1/orgs', { body: { name: `${prefix} ${i}`, parentId } })).status);
      }
    }),
  );
  return statuses;
}

async function expectReadModelsEqualRebuild(app: TestApp, ids: string[]): Promise<void> {
  const before = await snapshot(app, ids);
  await app.rebuildReadModels();
  expect(await snapshot(app, ids)).toEqual(before);
}

async function childNames(app: TestApp, parentId: string): Promise<string[]> {
  const res = await app.call('GET', `/api/v1/orgs/${parentId}/children?limit=200`);
  return res.body.items.map((o: any) => o.name);
}

describe('distributed profile under faults', () => {
  it('loses and doubles nothing when the projector is killed with SIGKILL mid-stream', async () => {
    const { app, stack } = await start();
    try {
      const root = await createOrg(app, 'Killed projector');
      const writes = writeMany(app, root.id, 120);
      await new Promise((r) => setTimeout(r, 700));
      stack.processes.projector.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      await stack.restart('projector');
      const statuses = await writes;
      // A write waits for the read models; one that waited past the projector's absence says 503 (stored,
      // not yet visible). Either way it is in the log exactly once.
      expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
      const names = await childNames(app, root.id);
      expect(new Set(names).size).toBe(names.length);
      expect(names.length).toBe(120);
      await expectReadModelsEqualRebuild(app, [root.id]);
    } finally {
      await app.close();
    }
  });

  it('answers 503 while PostgreSQL is unreachable, then recovers with nothing lost', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    await proxy.listen();
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const { app } = await start(url.toString());
    try {
      const root = await createOrg(app, 'Database outage');
      await proxy.cut();
      const during = await app.call('POST', '/api/v1/orgs', { body: { name: 'during outage', parentId: root.id } });
      expect(during.status).toBe(503);
      expect(during.body.code).toBe('IAM_ERR_UNAVAILABLE');
      expect(during.headers.get('retry-after')).toBeTruthy();
      expect((await app.call('GET', `/api/v1/orgs/${root.id}`)).status).toBe(503);
      await proxy.restore();
      let after = 0;
      for (let i = 0; i < 50 && after !== 201; i++) {
        after = (await app.call('POST', '/api/v1/orgs', { body: { name: `after outage ${i}`, parentId: root.id } }))
          .status;
        if (after !== 201) await new Promise((r) => setTimeout(r, 200));
      }
      expect(after).toBe(201);
      const names = await childNames(app, root.id);
      expect(names).not.toContain('during outage');
      await expectReadModelsEqualRebuild(app, [root.id]);
    } finally {
      await app.close();
      await proxy.cut();
    }
  });

  it('lets exactly one of two command services win a race on the same organization', async () => {
    const { app, stack } = await start();
    try {
      const [commandPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
      await stack.spawnExtra('commandService', {
        COMMAND_SERVICE_PORT: String(commandPort),
        COMMAND_SERVICE_URL: `http://127.0.0.1:${commandPort}`,
      });
      await stack.spawnExtra('gateway', {
        PORT: String(gatewayPort),
        COMMAND_SERVICE_URL: `http://127.0.0.1:${commandPort}`,
      });
      const second = `http://127.0.0.1:${gatewayPort}`;
      const via = (base: string, method: string, path: string, body: unknown) =>
        fetch(base + path, {
          method,
          headers: { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      for (let round = 0; round < 5; round++) {
        const parent = await createOrg(app, `Contested ${round}`);
        const [one, two] = await Promise.all([
          via(app.url, 'POST', '/api/v1/orgs', { name: 'Same name', parentId: parent.id }),
          via(second, 'POST', '/api/v1/orgs', { name: 'SAME NAME', parentId: parent.id }),
        ]);
        expect([one.status, two.status].sort()).toEqual([201, 409]);
        const a = await createOrg(app, 'A', parent.id);
        const b = await createOrg(app, 'B', parent.id);
        const [ab, ba] = await Promise.all([
          via(app.url, 'PUT', `/api/v1/orgs/${a.id}`, { name: 'A', parentId: b.id }),
          via(second, 'PUT', `/api/v1/orgs/${b.id}`, { name: 'B', parentId: a.id }),
        ]);
        expect([ab.status, ba.status].sort()).toEqual([200, 409]);
      }
      await expectReadModelsEqualRebuild(app, []);
    } finally {
      await app.close();
    }
  });

  // Its own timeout: the broker's restart alone may take up to 120 s (the run below) on a slow machine, where the
  // suite's 60 s ran out (a CI proof on a machine ~6x slower than usual).
  const BROKER_RESTART_TEST_TIMEOUT_MS = 300_000;
  it(
    'keeps every write when the Kafka broker restarts while writes go on',
    async () => {
      const { app } = await start();
      try {
        const root = await createOrg(app, 'Broker restart');
        const writes = writeMany(app, root.id, 80, 2);
        await new Promise((r) => setTimeout(r, 300));
        await run('bash', [join(ROOT, 'scripts/services/kafka.sh'), 'stop']);
        await new Promise((r) => setTimeout(r, 1000));
        await run('bash', [join(ROOT, 'scripts/services/kafka.sh')], { timeout: 120_000 });
        const statuses = await writes;
        expect(statuses.filter((s) => s !== 201)).toEqual([]);
        const names = await childNames(app, root.id);
        expect(names.length).toBe(80);
        expect(new Set(names).size).toBe(80);
        // After the restart, new writes still flow through the broker to the projector.
        expect(
          (await app.call('POST', '/api/v1/orgs', { body: { name: 'after restart', parentId: root.id } })).status,
        ).toBe(201);
        await expectReadModelsEqualRebuild(app, [root.id]);
      } finally {
        await app.close();
      }
    },
    BROKER_RESTART_TEST_TIMEOUT_MS,
  );
});

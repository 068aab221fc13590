import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { addNewUser } from '../../apps/standalone/src/test-support/access-fixtures';
import { snapshot, seedTree } from '../../apps/standalone/src/test-support/read-side-snapshot';
import { createOrg, startStackTestApp } from '../../apps/standalone/src/test-support/test-app';

/**
 * Issue 16: a projector killed (SIGKILL) in the middle of a batch on MongoDB read models, then started again,
 * leaves them equal to a rebuild from the log. Only the distributed-mongo Jest project runs this file
 * (jest.config.js), with the lease (one projector at a time) and `arbor rebuild` on MongoDB read models.
 *
 * The batch is made large on purpose: with the projector stopped, some sixty writes are stored (each answers
 * 503 once its read-your-writes wait gives up), so the restarted projector catches up with them in one batch
 * of the log (up to 1000 events). The test watches the read models' database and kills the projector once a
 * document carries a log position above the checkpoint (a batch begun, its checkpoint not yet written: on the
 * first try once twenty organizations are written), and checks after the kill that the database was indeed left
 * that way. Then the projector starts again (waiting out the killed one's lease), catches up, and every
 * read-model collection, and what the API answers, must equal what a rebuild (`projector --rebuild`) writes.
 */

/** Every read-model collection of the database (the lease aside), each in `_id` order. */
async function dump(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  const names = (await db.listCollections().toArray()).map((c) => c.name).filter((n) => n !== 'leases');
  for (const name of names.sort()) out[name] = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
  return out;
}

/** The checkpoint, and how many organizations the read models hold written by events past it. */
async function progress(db: Db): Promise<{ checkpoint: number; ahead: number }> {
  const checkpoint =
    ((await db.collection('checkpoints').findOne({ _id: 'projector' as never })) as { position?: number } | null)
      ?.position ?? 0;
  const ahead = await db.collection('orgs').countDocuments({ position: { $gt: checkpoint } });
  return { checkpoint, ahead };
}

/** `arbor <args>` (the built CLI) with only PATH and `env`: its exit code and output. */
function runArbor(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [resolve(__dirname, '../../apps/cli/dist/main.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })));
}

const exited = (child: ChildProcess): Promise<unknown> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', resolve));

describe('MongoDB read models under a projector killed mid-batch', () => {
  it('are equal to a rebuild after the projector is killed mid-batch and started again', async () => {
    const { app, stack } = await startStackTestApp('arbor-mongo-kill-');
    const client = new MongoClient(stack.env.READ_MODELS_URL!, { maxPoolSize: 2 });
    try {
      await client.connect();
      const db = client.db(stack.env.IAM_PG_SCHEMA);
      const ids = await seedTree(app);
      const [root] = ids;
      const user = await addNewUser(app, root!, ['member'], 'kill');
      const moved = await createOrg(app, 'Moved while down', root);

      // The projector stops cleanly (its lease freed); the writes below are stored and wait for it in vain.
      stack.processes.projector.kill('SIGTERM');
      await exited(stack.processes.projector);
      const writes = await Promise.all([
        ...Array.from({ length: 60 }, (_, i) =>
          app.call('POST', '/api/v1/orgs', { body: { name: `Queued ${i}`, parentId: root } }),
        ),
        app.call('PUT', `/api/v1/orgs/${moved.id}`, { body: { name: 'Moved while down', parentId: ids[2] } }),
        app.call('PATCH', `/api/v1/orgs/${root}/users/${user.userId}`, { body: { roles: ['admin'] } }),
      ]);
      expect(writes.map((w) => w.status).every((s) => s === 503)).toBe(true);
      const before = await progress(db);

      // Started again: it catches up in one big batch; killed once a document is ahead of the checkpoint.
      let killed = false;
      for (let attempt = 0; attempt < 5 && !killed; attempt++) {
        await stack.restart('projector');
        const projector = stack.processes.projector;
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && projector.exitCode === null) {
          const now = await progress(db);
          // Deep in the batch on the first try (a third of it written), at its first document on later ones.
          if (now.ahead >= (attempt === 0 ? 20 : 1)) {
            projector.kill('SIGKILL');
            await exited(projector);
            // Still half applied after the kill: the kill did land mid-batch.
            const after = await progress(db);
            killed = after.ahead > 0 && after.checkpoint === now.checkpoint;
            break;
          }
          if (now.checkpoint > before.checkpoint) break; // this batch finished before it was seen: try again
        }
        if (!killed && projector.exitCode === null) {
          // Too late this time: throw this run's work away and queue the batch again from an empty checkpoint.
          projector.kill('SIGTERM');
          await exited(projector);
          await db.collection('checkpoints').updateOne({ _id: 'projector' as never }, { $set: { position: 0 } });
        }
      }
      expect(killed).toBe(true);

      // Started again: it waits out the killed projector's lease (5 s), then applies the batch again. The
      // gateway is ready once the read models have caught up with the log.
      await stack.restart('projector');
      let ready = false;
      for (let i = 0; i < 150 && !ready; i++) {
        ready = (await fetch(`${app.url}/readyz`)).ok;
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ready).toBe(true);
      const children = await app.call('GET', `/api/v1/orgs/${root}/children?limit=200`);
      // A and B (seeded), the 60 queued; 'Moved while down' went under B.
      expect(children.body.items).toHaveLength(62);

      const projected = { documents: await dump(db), api: await snapshot(app, [...ids, moved.id]) };
      expect(projected.documents.orgs!.length).toBeGreaterThan(60);
      await app.rebuildReadModels();
      expect({ documents: await dump(db), api: await snapshot(app, [...ids, moved.id]) }).toEqual(projected);
    } finally {
      await client.close();
      await app.close();
    }
  }, 180_000);

  it('lets one projector write at a time: a second one waits, and takes over when the first is killed', async () => {
    const { app, stack } = await startStackTestApp('arbor-mongo-standby-');
    const client = new MongoClient(stack.env.READ_MODELS_URL!, { maxPoolSize: 2 });
    try {
      await client.connect();
      const leases = client.db(stack.env.IAM_PG_SCHEMA).collection<{ _id: string; owner: string }>('leases');
      const holder = async () => (await leases.findOne({ _id: 'projector' }))?.owner ?? '';
      const root = await createOrg(app, 'Standby');
      const first = stack.processes.projector;
      expect(await holder()).toContain(`:${first.pid}:`);

      const standby = await stack.spawnExtra('projector', {});
      await new Promise((r) => setTimeout(r, 2000));
      // Still running, and waiting: the first projector holds the lease and writes.
      expect(standby.exitCode).toBeNull();
      expect(await holder()).toContain(`:${first.pid}:`);
      expect(
        (await app.call('POST', '/api/v1/orgs', { body: { name: 'While both run', parentId: root.id } })).status,
      ).toBe(201);

      first.kill('SIGKILL');
      await exited(first);
      // Within the killed one's lease (5 s) and the write's wait (10 s), the standby projects it.
      const after = await app.call('POST', '/api/v1/orgs', { body: { name: 'After the kill', parentId: root.id } });
      expect(after.status).toBe(201);
      expect(await holder()).toContain(`:${standby.pid}:`);
      const names = (await app.call('GET', `/api/v1/orgs/${root.id}/children`)).body.items.map((o: any) => o.name);
      expect(names).toEqual(['After the kill', 'While both run']);
    } finally {
      await client.close();
      await app.close();
    }
  }, 120_000);

  it('arbor rebuild: refused while a projector holds the lease; with it stopped, a lost document comes back', async () => {
    const { app, stack } = await startStackTestApp('arbor-mongo-cli-');
    const client = new MongoClient(stack.env.READ_MODELS_URL!, { maxPoolSize: 2 });
    try {
      await client.connect();
      const db = client.db(stack.env.IAM_PG_SCHEMA);
      const root = await createOrg(app, 'Rebuilt by the CLI');
      const lost = await createOrg(app, 'Lost and found', root.id);
      const before = await dump(db);
      const env = {
        DATABASE_URL: stack.env.DATABASE_URL!,
        IAM_PG_SCHEMA: stack.env.IAM_PG_SCHEMA!,
        READ_MODELS_URL: stack.env.READ_MODELS_URL!,
      };
      const refused = await runArbor(['rebuild'], env);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('stop every projector')]);

      stack.processes.projector.kill('SIGTERM');
      await exited(stack.processes.projector);
      await db.collection('orgs').deleteOne({ _id: lost.id as never });
      const rebuilt = await runArbor(['rebuild'], env);
      expect([rebuilt.code, rebuilt.stdout]).toEqual([
        0,
        expect.stringMatching(/^Rebuilt the read models: \d+ events/),
      ]);
      expect(await dump(db)).toEqual(before);
      expect(await db.collection('leases').countDocuments()).toBe(0);
    } finally {
      await client.close();
      await app.close();
    }
  }, 120_000);
});

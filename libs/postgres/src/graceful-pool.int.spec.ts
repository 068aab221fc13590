import { describeWithEnv } from '@arbor/testing';
import { Pool } from 'pg';
import { GracefulPool } from './graceful-pool';
import { DATABASE_URL } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

/** Settles with 'pending' when `promise` has not settled within `ms` (for the contrast with pg's own Pool). */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms).unref())]);

maybe('GracefulPool', () => {
  it('serves the queries waiting for a client when end() is called, then ends', async () => {
    const pool = new GracefulPool({ connectionString: DATABASE_URL, max: 1 });
    const running = pool.query('SELECT pg_sleep(0.2), 1 AS n');
    const queued = pool.query('SELECT 2 AS n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pool.waitingCount).toBe(1);
    const ended = pool.end();
    expect((await running).rows[0].n).toBe(1);
    expect((await queued).rows[0].n).toBe(2);
    await ended;
    expect(pool.totalCount).toBe(0);
  });

  it('serves a transaction that waits for a client, then refuses new work once end() began', async () => {
    const pool = new GracefulPool({ connectionString: DATABASE_URL, max: 1 });
    const held = await pool.connect();
    const waiting = pool.connect();
    const ended = pool.end();
    await expect(pool.query('SELECT 1')).rejects.toThrow(/ending|closing/i);
    held.release();
    const client = await waiting;
    expect((await client.query('SELECT 3 AS n')).rows[0].n).toBe(3);
    client.release();
    await ended;
    expect(pool.totalCount).toBe(0);
  });

  it('survives the server ending a connection it has checked out (a restart, pg_terminate_backend): the work fails, the process lives', async () => {
    const pool = new GracefulPool({ connectionString: DATABASE_URL, max: 2 });
    const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const client = await pool.connect();
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // Ended while idle in the checkout (pg emits 'error' on the client, whose pool no longer listens), then used.
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      // Ended in the middle of a query.
      const busy = await pool.connect();
      const busyPid = (await busy.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const sleeping = busy.query('SELECT pg_sleep(5)');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await admin.query('SELECT pg_terminate_backend($1)', [busyPid]);
      await expect(sleeping).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100));
      busy.release(true);
      // The pool serves on with new connections.
      expect((await pool.query('SELECT 7 AS n')).rows[0].n).toBe(7);
    } finally {
      await admin.end();
      await pool.end();
    }
  });

  it('ends at once when nothing is in progress, and a second end() is refused as pg refuses it', async () => {
    const pool = new GracefulPool({ connectionString: DATABASE_URL, max: 2 });
    await pool.query('SELECT 1');
    await pool.end();
    await expect(pool.end()).rejects.toThrow(/more than once/);
  });

  it("(contrast) pg's own Pool leaves a query waiting for a client unanswered after end()", async () => {
    const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    const running = pool.query('SELECT pg_sleep(0.2)');
    const queued = pool.query('SELECT 2 AS n');
    queued.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ended = pool.end();
    await running;
    await ended;
    expect(await within(queued, 500)).toBe('pending');
  });
});

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

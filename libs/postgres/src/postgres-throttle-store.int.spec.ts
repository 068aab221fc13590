import { describeWithEnv, throttleStoreConformance } from '@arbor/testing';
import { Pool } from 'pg';
import { adminQuery, DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { openPostgresThrottleStore } from './postgres-throttle-store';

const url = DATABASE_URL;
const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresThrottleStore', () => {
  // One schema per file, emptied before each test; reopening is a second pool on the same schema.
  const schema = randomSchema('arbor_throttle_test');
  const open = () => openPostgresThrottleStore(url, { schema });
  afterAll(() => dropSchema(schema));

  throttleStoreConformance({
    open: async () => {
      const store = await open();
      await adminQuery(`TRUNCATE "${schema}".login_throttle`);
      return store;
    },
    reopen: open,
  });

  it('creates its table idempotently, also when opened concurrently, and deletes ended windows on purgeExpired', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, open));
    try {
      await adminQuery(`TRUNCATE "${schema}".login_throttle`);
      await stores[0].add('ended', 1, 1);
      await stores[1].add('running', 1, 60);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await stores[2].purgeExpired();
      const pool = new Pool({ connectionString: url, max: 1 });
      try {
        expect((await pool.query(`SELECT key FROM "${schema}".login_throttle ORDER BY key`)).rows).toEqual([
          { key: 'running' },
        ]);
      } finally {
        await pool.end();
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('lets the counts in progress finish when closed, even those still waiting for a connection', async () => {
    // One connection: the later counts wait in the pool for it; pg's own pool never served those after its end().
    const store = await openPostgresThrottleStore(url, { schema, poolSize: 1 });
    const counts = Array.from({ length: 5 }, (_, i) => store.add(`closing-${i}`, 1, 60));
    const closed = store.close();
    expect((await Promise.all(counts)).map((c) => c.points)).toEqual([1, 1, 1, 1, 1]);
    await closed;
    await expect(store.add('after', 1, 60)).rejects.toThrow(/closed/);
  });
});

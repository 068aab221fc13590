import { describeWithEnv } from '@arbor/testing';
import { DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { openPostgresEventStore } from './postgres-event-store';
import { PostgresPublisherCheckpoint } from './postgres-publisher-checkpoint';
import { openPostgresReadModels } from './postgres-read-models';
import { openPostgresSecretVault } from './postgres-secret-vault';
import { openPostgresThrottleStore } from './postgres-throttle-store';
import { openPostgresTokenStore } from './postgres-token-store';

/*
 * A first start of the distributed profile opens every store of one schema at once, in several processes (a
 * gateway, a command service, a projector). Each creates the schema if it is missing; without one lock for
 * all of them, two `CREATE SCHEMA IF NOT EXISTS` collide on the catalog (23505 pg_namespace_nspname_index)
 * and a process fails to start (seen in CI: the gateway).
 */
describeWithEnv('DATABASE_URL')('opening every PostgreSQL store of a new schema at once', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });

  it('succeeds for every store, every time', async () => {
    for (let round = 0; round < 8; round++) {
      const schema = randomSchema('arbor_first_open');
      schemas.push(schema);
      const opened = await Promise.all([
        openPostgresEventStore(DATABASE_URL, { schema }),
        openPostgresEventStore(DATABASE_URL, { schema }),
        openPostgresReadModels(DATABASE_URL, { schema, poolSize: 2 }),
        openPostgresSecretVault(DATABASE_URL, { schema }),
        openPostgresTokenStore(DATABASE_URL, { schema }),
        openPostgresThrottleStore(DATABASE_URL, { schema }),
        PostgresPublisherCheckpoint.open(DATABASE_URL, { schema }),
      ]);
      await Promise.all(opened.map((store) => store.close()));
    }
  });
});

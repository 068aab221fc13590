import { tokenStoreConformance } from '@arbor/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openPostgresTokenStore } from './postgres-token-store';

const url = process.env.DATABASE_URL ?? '';
const maybe = url ? describe : describe.skip;

/** Runs `sql` on a connection of its own. */
async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

maybe('PostgresTokenStore', () => {
  // One schema per file, emptied before each test; reopening is a second pool on the same schema.
  const schema = `arbor_tokens_test_${randomBytes(6).toString('hex')}`;
  afterAll(() => admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  tokenStoreConformance({
    open: async () => {
      const store = await openPostgresTokenStore(url, { schema });
      await admin(`TRUNCATE "${schema}".refresh_tokens, "${schema}".revoked_token_families, "${schema}".revoked_access_tokens`);
      return store;
    },
    reopen: () => openPostgresTokenStore(url, { schema }),
  });
});

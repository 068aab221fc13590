import { secretVaultConformance } from '@arbor/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openPostgresSecretVault } from './postgres-secret-vault';

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

maybe('PostgresSecretVault', () => {
  // One schema per file, emptied before each test; reopening is a second pool on the same schema.
  const schema = `arbor_vault_test_${randomBytes(6).toString('hex')}`;
  const open = () => openPostgresSecretVault(url, { schema });
  afterAll(() => admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  secretVaultConformance({
    open: async () => {
      const vault = await open();
      await admin(`TRUNCATE "${schema}".secret_data_keys, "${schema}".secret_password_hashes, "${schema}".secret_client_secret_hashes`);
      return vault;
    },
    reopen: open,
  });

  it('creates its schema idempotently, also when opened concurrently', async () => {
    const others = await Promise.all(Array.from({ length: 4 }, open));
    await Promise.all(others.map((v) => v.close()));
    await expect(openPostgresSecretVault(url, { schema: 'bad"name' })).rejects.toThrow('Invalid PostgreSQL schema name');
  });
});

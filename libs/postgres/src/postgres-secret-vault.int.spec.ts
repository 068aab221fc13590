import { describeWithEnv, secretVaultConformance } from '@arbor/testing';
import { adminQuery, DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { openPostgresSecretVault } from './postgres-secret-vault';

const url = DATABASE_URL;
const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresSecretVault', () => {
  // One schema per file, emptied before each test; reopening is a second pool on the same schema.
  const schema = randomSchema('arbor_vault_test');
  const open = () => openPostgresSecretVault(url, { schema });
  afterAll(() => dropSchema(schema));

  secretVaultConformance({
    open: async () => {
      const vault = await open();
      await adminQuery(
        `TRUNCATE "${schema}".secret_data_keys, "${schema}".secret_password_hashes, "${schema}".secret_client_secret_hashes`,
      );
      return vault;
    },
    reopen: open,
  });

  it('creates its schema idempotently, also when opened concurrently', async () => {
    const others = await Promise.all(Array.from({ length: 4 }, open));
    await Promise.all(others.map((v) => v.close()));
    await expect(openPostgresSecretVault(url, { schema: 'bad"name' })).rejects.toThrow(
      'Invalid PostgreSQL schema name',
    );
  });
});

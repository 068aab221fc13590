import { describeWithEnv, tokenStoreConformance } from '@arbor/testing';
import { adminQuery, DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { openPostgresTokenStore } from './postgres-token-store';

const url = DATABASE_URL;
const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresTokenStore', () => {
  // One schema per file, emptied before each test; reopening is a second pool on the same schema.
  const schema = randomSchema('arbor_tokens_test');
  afterAll(() => dropSchema(schema));

  tokenStoreConformance({
    open: async () => {
      const store = await openPostgresTokenStore(url, { schema });
      await adminQuery(
        `TRUNCATE "${schema}".refresh_tokens, "${schema}".revoked_token_families, "${schema}".revoked_access_tokens`,
      );
      return store;
    },
    reopen: () => openPostgresTokenStore(url, { schema }),
  });

  it('lets a spend in progress finish its two statements when closed, then refuses new work', async () => {
    const store = await openPostgresTokenStore(url, { schema });
    // An unknown token takes both statements (the spend that does not win, then the look-up).
    const spend = store.spendRefreshToken('no-such-token-hash');
    const closed = store.close();
    await expect(spend).resolves.toEqual({ status: 'unknown' });
    await closed;
    await expect(store.findRefreshToken('no-such-token-hash')).rejects.toThrow(/closed/);
  });
});

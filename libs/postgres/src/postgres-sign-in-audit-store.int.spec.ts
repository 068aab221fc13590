import { describeWithEnv, signInAuditConformance } from '@arbor/testing';
import { adminQuery, DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { openPostgresSignInAuditStore } from './postgres-sign-in-audit-store';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresSignInAuditStore', () => {
  // One schema per file, emptied before each test.
  const schema = randomSchema('arbor_sign_ins_test');
  afterAll(() => dropSchema(schema));

  signInAuditConformance({
    open: async () => {
      const store = await openPostgresSignInAuditStore(DATABASE_URL!, { schema });
      await adminQuery(`TRUNCATE "${schema}".sign_ins CASCADE`);
      return store;
    },
  });
});

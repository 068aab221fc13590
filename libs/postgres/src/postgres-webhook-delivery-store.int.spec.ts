import { describeWithEnv, webhookDeliveryStoreConformance } from '@arbor/testing';
import { adminQuery, DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { openPostgresWebhookDeliveryStore } from './postgres-webhook-delivery-store';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresWebhookDeliveryStore', () => {
  // One schema per file, emptied before each test; reopening is a second pool on the same schema.
  const schema = randomSchema('arbor_webhooks_test');
  const open = () => openPostgresWebhookDeliveryStore(DATABASE_URL, { schema });
  afterAll(() => dropSchema(schema));

  webhookDeliveryStoreConformance({
    open: async () => {
      const store = await open();
      await adminQuery(`TRUNCATE "${schema}".webhook_cursors, "${schema}".webhook_attempts, "${schema}".webhook_lease`);
      return store;
    },
    reopen: open,
  });
});

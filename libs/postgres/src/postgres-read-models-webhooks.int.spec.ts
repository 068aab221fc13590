import { describeWithEnv, webhookQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresWebhookQueries', () => {
  webhookQueriesConformance(schemaReadModels('rm_webhooks'));
});

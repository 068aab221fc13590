import { describeWithEnv, webhookQueriesConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoWebhookQueries', () => {
  webhookQueriesConformance(databaseReadModels('rm_webhooks'));
});

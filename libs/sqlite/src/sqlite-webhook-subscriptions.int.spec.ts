import { webhookQueriesConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteWebhookQueries', () => {
  webhookQueriesConformance(temporaryReadModels('arbor-webhooks-'));
});

import { describeWithEnv, historyQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresHistoryQueries', () => {
  historyQueriesConformance(schemaReadModels('rm_history'));
});

import { describeWithEnv, historyQueriesConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoHistoryQueries', () => {
  historyQueriesConformance(databaseReadModels('rm_history'));
});

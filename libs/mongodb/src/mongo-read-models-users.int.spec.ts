import { describeWithEnv, userQueriesConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoUserQueries', () => {
  userQueriesConformance(databaseReadModels('rm_users'));
});

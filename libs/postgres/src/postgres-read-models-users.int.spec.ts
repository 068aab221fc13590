import { describeWithEnv, userQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresUserQueries', () => {
  userQueriesConformance(schemaReadModels('rm_users'));
});

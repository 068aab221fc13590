import { clientQueriesConformance, describeWithEnv } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresClientQueries', () => {
  clientQueriesConformance(schemaReadModels('rm_clients'));
});

import { clientQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = process.env.DATABASE_URL ? describe : describe.skip;

maybe('PostgresClientQueries', () => {
  clientQueriesConformance(schemaReadModels('rm_clients'));
});

import { describeWithEnv, roleQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresRoleQueries', () => {
  roleQueriesConformance(schemaReadModels('rm_roles'));
});

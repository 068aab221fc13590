import { describeWithEnv, roleCatalogConformance, roleQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresRoleQueries', () => {
  roleQueriesConformance(schemaReadModels('rm_roles'));
});

maybe('ReadModelRoleCatalog over PostgreSQL', () => {
  roleCatalogConformance(schemaReadModels('rm_role_catalog'));
});

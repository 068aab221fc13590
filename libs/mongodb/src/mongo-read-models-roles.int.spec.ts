import { describeWithEnv, roleCatalogConformance, roleQueriesConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoRoleQueries', () => {
  roleQueriesConformance(databaseReadModels('rm_roles'));
});

maybe('ReadModelRoleCatalog over MongoDB', () => {
  roleCatalogConformance(databaseReadModels('rm_role_catalog'));
});

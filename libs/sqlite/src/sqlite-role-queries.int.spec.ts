import { roleCatalogConformance, roleQueriesConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteRoleQueries', () => {
  roleQueriesConformance(temporaryReadModels('arbor-roles-'));
});

describe('ReadModelRoleCatalog over SQLite', () => {
  roleCatalogConformance(temporaryReadModels('arbor-role-catalog-'));
});

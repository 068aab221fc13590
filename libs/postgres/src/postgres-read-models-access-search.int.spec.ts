import { accessSearchConformance, describeWithEnv } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresAccessSearchQueries', () => {
  accessSearchConformance(schemaReadModels('rm_access_search'));
});

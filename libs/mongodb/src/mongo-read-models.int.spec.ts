import { describeWithEnv, orgReadModelsConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoReadModels (conformance)', () => {
  orgReadModelsConformance(databaseReadModels('rm_orgs_conf'));
});

import { accessSearchConformance, describeWithEnv } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoAccessSearchQueries', () => {
  accessSearchConformance(databaseReadModels('rm_access_search'));
});

import { describeWithEnv, clientQueriesConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoClientQueries', () => {
  clientQueriesConformance(databaseReadModels('rm_clients'));
});

import { clientQueriesConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteClientQueries', () => {
  clientQueriesConformance(temporaryReadModels('arbor-clients-'));
});

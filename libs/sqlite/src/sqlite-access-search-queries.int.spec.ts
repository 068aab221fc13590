import { accessSearchConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteAccessSearchQueries', () => {
  accessSearchConformance(temporaryReadModels('arbor-access-search-'));
});

import { userQueriesConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteUserQueries', () => {
  userQueriesConformance(temporaryReadModels('arbor-users-'));
});

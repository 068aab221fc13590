import { historyQueriesConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteHistoryQueries', () => {
  historyQueriesConformance(temporaryReadModels('arbor-history-'));
});

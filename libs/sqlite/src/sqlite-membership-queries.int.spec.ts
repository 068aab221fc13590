import { membershipQueriesConformance } from '@arbor/testing';
import { temporaryReadModels } from './read-models.test-support';

describe('SqliteMembershipQueries', () => {
  membershipQueriesConformance(temporaryReadModels('arbor-memberships-'));
});

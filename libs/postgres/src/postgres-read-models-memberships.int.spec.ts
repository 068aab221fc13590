import { membershipQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = process.env.DATABASE_URL ? describe : describe.skip;

maybe('PostgresMembershipQueries', () => {
  membershipQueriesConformance(schemaReadModels('rm_memberships'));
});

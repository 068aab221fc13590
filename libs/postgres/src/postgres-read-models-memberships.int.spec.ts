import { describeWithEnv, membershipQueriesConformance } from '@arbor/testing';
import { schemaReadModels } from './read-models.test-support';

const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresMembershipQueries', () => {
  membershipQueriesConformance(schemaReadModels('rm_memberships'));
});

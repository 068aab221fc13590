import { describeWithEnv, membershipQueriesConformance } from '@arbor/testing';
import { databaseReadModels } from './read-models.test-support';

const maybe = describeWithEnv('MONGODB_URL');

maybe('MongoMembershipQueries', () => {
  membershipQueriesConformance(databaseReadModels('rm_memberships'));
});

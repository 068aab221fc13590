export { MongoReadModels, openMongoReadModels, type MongoReadModelsOptions } from './mongo-read-models';
export { MongoOrgQueries } from './mongo-org-queries';
export { MongoUserQueries } from './mongo-user-queries';
export { MongoMembershipQueries } from './mongo-membership-queries';
export { MongoClientQueries } from './mongo-client-queries';
export { MongoRoleQueries } from './mongo-role-queries';
export { MongoWebhookQueries } from './mongo-webhook-queries';
export { MongoAccessSearchQueries } from './mongo-access-search-queries';
export { MongoHistoryQueries } from './mongo-history-queries';
export { MongoProjectionWatermark, type MongoProjectionWatermarkOptions } from './mongo-projection-watermark';
export {
  MongoProjectorLease,
  type LeaseDoc,
  type LeaseHolder,
  type MongoProjectorLeaseOptions,
} from './mongo-projector-lease';

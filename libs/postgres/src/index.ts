export { PostgresEventStore, openPostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store';
export { PostgresSecretVault, openPostgresSecretVault, type PostgresSecretVaultOptions } from './postgres-secret-vault';
export { PostgresTokenStore, openPostgresTokenStore, type PostgresTokenStoreOptions } from './postgres-token-store';
export { PostgresReadModels, openPostgresReadModels, type PostgresReadModelsOptions } from './postgres-read-models';
export {
  PostgresProjectionWatermark,
  waitForCheckpoint,
  type PostgresProjectionWatermarkOptions,
} from './postgres-read-models-watermark';
export { PostgresOrgQueries } from './postgres-org-queries';
export { PostgresUserQueries } from './postgres-user-queries';
export { PostgresMembershipQueries } from './postgres-membership-queries';
export { PostgresClientQueries } from './postgres-client-queries';
export { projectionChannel as readModelsProjectionChannel } from './read-models-schema';
export { PostgresPublisherCheckpoint } from './postgres-publisher-checkpoint';
export {
  PostgresThrottleStore,
  openPostgresThrottleStore,
  type PostgresThrottleStoreOptions,
} from './postgres-throttle-store';
export { PostgresWebhookDeliveryStore, openPostgresWebhookDeliveryStore } from './postgres-webhook-delivery-store';
export {
  PostgresSignInAuditStore,
  openPostgresSignInAuditStore,
  type PostgresSignInAuditStoreOptions,
} from './postgres-sign-in-audit-store';

/**
 * Conformance suites: what every adapter of a port must do, written once as Jest tests and run by each
 * engine's spec (`libs/sqlite`, `libs/postgres`) against a real database. Test-only: no app depends on this
 * lib, and the build never compiles it (only the typecheck and Jest read it).
 */
export { refreshToken, tokenStoreConformance, type TokenStoreHarness } from './token-store-conformance';
export { secretVaultConformance, type SecretVaultHarness } from './secret-vault-conformance';
export { throttleStoreConformance, type ThrottleStoreHarness } from './throttle-store-conformance';
export { signInAuditConformance, type SignInAuditHarness } from './sign-in-audit-conformance';
export { ACCESS_TREE } from './access-tree';
export { clientQueriesConformance } from './client-queries-conformance';
export { collectPages } from './collect-pages';
export { Log } from './log';
export { membershipQueriesConformance } from './membership-queries-conformance';
export { accessSearchConformance } from './access-search-conformance';
export type { ReadModelsHarness } from './read-models-harness';
export { roleCatalogConformance } from './role-catalog-conformance';
export { roleQueriesConformance } from './role-queries-conformance';
export { userQueriesConformance } from './user-queries-conformance';
export { eventStoreConformance, newEvent, type EventStoreHarness } from './event-store-conformance';
export { eventChainConformance, type EventChainHarness } from './event-chain-conformance';
export { collectOrgIds, ORG_TREE, orgIds, orgReadModelsConformance } from './org-read-models-conformance';
export { describeIfAvailable, describeWithEnv, isCi, SKIPPED_MARKER, unsetVariables } from './services';
export { historyQueriesConformance } from './history-queries-conformance';
export {
  webhookDeliveryStoreConformance,
  type WebhookDeliveryStoreHarness,
} from './webhook-delivery-store-conformance';
export { webhookQueriesConformance } from './webhook-queries-conformance';

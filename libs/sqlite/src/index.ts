export { SqliteEventStore, openSqliteEventStore, openSqliteEventStoreReadOnly } from './sqlite-event-store';
export {
  SqliteReadModels,
  openSqliteReadModels,
  openSqliteReadModelsReadOnly,
  type SqliteReadModelsOptions,
} from './sqlite-read-models';
export { SqliteOrgQueries } from './sqlite-org-queries';
export { SqliteUserQueries } from './sqlite-user-queries';
export { SqliteMembershipQueries } from './sqlite-membership-queries';
export { SqliteClientQueries } from './sqlite-client-queries';
export { SqliteSecretVault, openSqliteSecretVault } from './sqlite-secret-vault';
export { SqliteTokenStore, openSqliteTokenStore } from './sqlite-token-store';
export { SqliteThrottleStore, openSqliteThrottleStore } from './sqlite-throttle-store';
export { SqliteSignInAuditStore, openSqliteSignInAuditStore } from './sqlite-sign-in-audit-store';
export { BACKGROUND_AUTOCHECKPOINT_PAGES, startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer';
export { DATA_DIR_LOCK_FILE, DataDirLockedError, lockDataDir, type DataDirLock } from './data-dir-lock';
export { restoreSqliteEventLog } from './restore-log';
export { SqliteWebhookDeliveryStore, openSqliteWebhookDeliveryStore } from './sqlite-webhook-delivery-store';
export {
  STUCK_AFTER_MS,
  logWalTruncation,
  type WalTruncationReport,
  type WalTruncationReporter,
} from './wal-truncation';

export { SqliteEventStore, openSqliteEventStore } from './sqlite-event-store';
export { SqliteReadModels, openSqliteReadModels } from './sqlite-read-models';
export { SqliteOrgQueries } from './sqlite-org-queries';
export { SqliteUserQueries } from './sqlite-user-queries';
export { SqliteMembershipQueries } from './sqlite-membership-queries';
export { SqliteClientQueries } from './sqlite-client-queries';
export { SqliteSecretVault, openSqliteSecretVault } from './sqlite-secret-vault';
export { SqliteTokenStore, openSqliteTokenStore } from './sqlite-token-store';
export { BACKGROUND_AUTOCHECKPOINT_PAGES, startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer';

import {
  AccessPolicy,
  Authenticator,
  ClientAuthenticator,
  ClientSecretHasher,
  DIGEST_KEY_IDS,
  KeyedDigest,
  LoginThrottle,
  PasswordHasher,
  PersonalDataCipher,
  ReadModelRoleCatalog,
  RefreshTokenHasher,
  TokenEndpoint,
  TokenAudiences,
  TokenIntrospection,
  TokenService,
  readModelAccessFacts,
  type EventStore,
  type Logger,
  type ReadModels,
  type SecretVault,
  type SignInAuditStore,
  SignInAudit,
  type SigningKeyRing,
  type ThrottleStore,
  type TokenStore,
  type WebhookDeliveryStore,
} from '@arbor/application';
import type { ApiContext, CommandPort, ProjectionWatermark, Readiness } from './api-context';

export interface ApiContextParts {
  commands: CommandPort;
  readModels: ReadModels;
  projection: ProjectionWatermark;
  eventStore: EventStore;
  vault: SecretVault;
  tokenStore: TokenStore;
  /** Login-throttle counters, shared by every gateway of the deployment. */
  throttleStore: ThrottleStore;
  /** The login throttle over `throttleStore`, when the composition root shares one with its command service. */
  throttle?: LoginThrottle;
  keys: SigningKeyRing;
  issuer: string;
  /** The sign-in audit's store (issue 14 item 7); absent: nothing recorded. */
  signInAuditStore?: SignInAuditStore;
  /** IAM_AUDIT_RETENTION_DAYS (0: for ever), as the audit retention endpoints report it. */
  auditRetentionDays?: number;
  /** The audiences tokens may name (IAM_AUDIENCE, IAM_RESOURCES); Arbor's API authenticates only its own. */
  audiences: TokenAudiences;
  hasher: PasswordHasher;
  log: Logger;
  readiness(): Promise<Readiness>;
  /** IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS: webhook targets on private or loopback addresses are allowed (default false). */
  allowPrivateWebhookTargets?: boolean;
  /** The webhook dispatcher's delivery log (issue 14 item 6), for the owners' `GET /webhooks/{id}/deliveries`. */
  webhookDeliveries?: WebhookDeliveryStore;
}

/** Wires the gateway's services from its ports; shared by the embedded and the distributed composition roots. */
export function createApiContext(parts: ApiContextParts): ApiContext {
  const { readModels, vault, tokenStore, keys, issuer, hasher, audiences } = parts;
  const tokens = new TokenService(keys, { issuer });
  const authenticator = new Authenticator(tokens, readModels, tokenStore, audiences.own);
  const throttle = parts.throttle ?? new LoginThrottle(parts.throttleStore, vault);
  const clientAuthenticator = new ClientAuthenticator({
    readModels,
    vault,
    secrets: new ClientSecretHasher(vault),
    throttle,
  });
  const refreshTokens = new RefreshTokenHasher(vault);
  // Custom roles come from the read models; the embedded projector's position spares the catalog a query when
  // nothing was projected since its last check (see ReadModelRoleCatalog).
  const roles = new ReadModelRoleCatalog(readModels.roles, () => parts.projection.position);
  const policy = new AccessPolicy(readModelAccessFacts(readModels), roles);
  return {
    commands: parts.commands,
    readModels,
    projection: parts.projection,
    policy,
    authenticator,
    clientAuthenticator,
    tokenEndpoint: new TokenEndpoint({
      tokens,
      hasher,
      vault,
      readModels,
      tokenStore,
      refreshTokens,
      clients: clientAuthenticator,
      throttle,
      audiences,
      policy,
    }),
    introspection: new TokenIntrospection({ tokens, authenticator, tokenStore, refreshTokens, readModels }),
    eventStore: parts.eventStore,
    requestDigest: new KeyedDigest(vault, DIGEST_KEY_IDS.idempotencyRequests),
    cursorDigest: new KeyedDigest(vault, DIGEST_KEY_IDS.pageCursors),
    cipher: new PersonalDataCipher(vault),
    keys,
    issuer,
    auditRetentionDays: parts.auditRetentionDays,
    signInAudit: parts.signInAuditStore
      ? new SignInAudit({
          store: parts.signInAuditStore,
          readModels,
          cipher: new PersonalDataCipher(vault),
          usernames: new KeyedDigest(vault, DIGEST_KEY_IDS.signInUsernames),
          log: parts.log,
        })
      : undefined,
    log: parts.log,
    readiness: parts.readiness,
    allowPrivateWebhookTargets: parts.allowPrivateWebhookTargets === true,
    webhookDeliveries: parts.webhookDeliveries,
  };
}

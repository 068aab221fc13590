import type {
  AccessPolicy,
  Authenticator,
  Command,
  CommandContext,
  CommandOutcome,
  EventStore,
  KeyedDigest,
  Logger,
  OrgView,
  PersonalDataCipher,
  ReadModels,
  SigningKeyRing,
  ClientAuthenticator,
  SignInAudit,
  TokenEndpoint,
  TokenIntrospection,
  WebhookDeliveryStore,
} from '@arbor/application';

/** What the gateway needs from the command side: in one process a CommandService, remotely a client. */
export interface CommandPort {
  execute(command: Command, ctx: CommandContext): Promise<CommandOutcome>;
}

/** Read-your-writes: resolves once the read models include the given log position. */
export interface ProjectionWatermark {
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /**
   * The log position the read models have reached, when this process knows it without a query (the embedded
   * projector, which applies every batch itself); absent otherwise (a gateway then reads the checkpoint).
   */
  readonly position?: number;
  /**
   * A log position the read models are known to have reached without a query, possibly behind where they are now:
   * the last checkpoint announced to this process by the one that projects (an embedded HTTP worker hears its
   * writer's after each batch). Absent where no such word is reliable (a gateway's NOTIFY may have been missed,
   * a rebuild's reset with it). An answer may claim it as its `context.position` (it reflects every event up to
   * it), except where the claim must be exact (an explanation names the events at or before it).
   * Holds while the read models only move forward as this process serves: always in the embedded profile (a
   * rebuild runs with the server stopped, `arbor rebuild` taking the data directory's lock). The tests' harness
   * rebuilds a running writer's read models (TestApp.rebuildReadModels): until a worker hears the reset, its claim
   * may exceed what its read models hold; the tests that do so ask nothing meanwhile.
   */
  readonly atLeast?: number;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

/** Everything a route handler may use; assembled by the composition root of each app. */
export interface ApiContext {
  commands: CommandPort;
  readModels: ReadModels;
  projection: ProjectionWatermark;
  policy: AccessPolicy<OrgView>;
  authenticator: Authenticator;
  tokenEndpoint: TokenEndpoint;
  introspection: TokenIntrospection;
  clientAuthenticator: ClientAuthenticator;
  /** The log, for the event API and idempotency records; handlers never write events through it. */
  eventStore: EventStore;
  /** Keys idempotency request hashes (vault key `system:idempotency-key`). */
  requestDigest: KeyedDigest;
  /** Tags page cursors with their list (vault key `system:page-cursor-key`; see page-cursors.ts). */
  cursorDigest: KeyedDigest;
  /** Seals stored responses that are a subject's personal data under that subject's key. */
  cipher: PersonalDataCipher;
  keys: SigningKeyRing;
  issuer: string;
  /** The sign-in audit (issue 14 item 7); absent: nothing is recorded. */
  signInAudit?: SignInAudit;
  /** IAM_AUDIT_RETENTION_DAYS (0: for ever); DEFAULT_AUDIT_RETENTION_DAYS when absent. */
  auditRetentionDays?: number;
  readiness(): Promise<Readiness>;
  log: Logger;
  /** Webhook targets on private, loopback or link-local addresses are allowed (IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
  allowPrivateWebhookTargets: boolean;
  /** The webhook dispatcher's delivery log, read by `GET /webhooks/{id}/deliveries`; absent: an empty log. */
  webhookDeliveries?: WebhookDeliveryStore;
}

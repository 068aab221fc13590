import {
  IamError,
  emailKey,
  eventOrgPath,
  isPersonalEvent,
  sealedPersonalDataOf,
  type PersonalEvent,
  type OrgNode,
  type StoredEvent,
  type StoredRequestMetadata,
} from '@arbor/domain';
import { AccessPolicy } from '../auth/access-policy';
import type { Bus } from '../ports/bus';
import type { EventStore, EventStoreTransaction } from '../ports/event-store';
import type { PersonalData } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { Logger } from '../logger';
import type { ClientSecretHasher } from '../security/client-secret-hasher';
import { DIGEST_KEY_IDS, KeyedDigest } from '../security/keyed-digest';
import type { PasswordHasher } from '../security/password-hasher';
import type { LoginThrottle } from '../auth/login-throttle';
import type { PersonalDataCipher } from '../security/personal-data-cipher';
import { actorOfCommand, idempotencyScopeOf, type Command, type CommandContext, type CommandOutcome } from './command';
import { authorizeCommand } from './authorize-command';
import { checkCommandIds } from './command-ids';
import { sealedAtIn, type Prepared } from './command-preparation';
import { prepareCommand, reconcilePrepared } from './prepare-command';
import { CommandModel } from './command-model';
import { decideCommand, storeSecrets } from './decide-command';
import { validateCommand } from '../use-cases/registry';
import { requestMetadataOf } from './request-metadata';
import type { CommandModelSnapshotStore } from './command-model-snapshot-file';
import { AfterCommitRunner, afterCommitTasks, eraseUserSecrets } from './after-commit';

/** Idempotency keys are honoured for 24 hours (contract section 1). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const CATCH_UP_BATCH = 2000;

/** A snapshot is written once the model is this many events past the last one (and at start and close). */
const DEFAULT_SNAPSHOT_EVERY = 50_000;
/** How long no command may arrive before a due snapshot is taken (see `considerSnapshot`). */
const QUIET_MS = 1000;

/**
 * The write side. Each command runs inside one event-store transaction: catch the in-memory model up with
 * the log, decide, append with the expected version of every stream touched, record the idempotency key.
 * Because store transactions are serialised, rules that span streams (sibling names, cycles, depth, unique
 * emails) are checked against consistent state; the expected versions turn any stale decision into a
 * conflict instead of a lost write. Slow work (password hashing, sealing personal data) happens before the
 * transaction so that it never holds the write lock.
 */
export class CommandService {
  private model = new CommandModel();
  /** Set when a transaction failed after the model had already taken some of its events. */
  private stale = false;
  /** The position of the last snapshot written or loaded. */
  private snapshotPosition = 0;
  private snapshotting: Promise<void> | undefined;
  private quietTimer: ReturnType<typeof setTimeout> | undefined;
  /** The email index's keyed digest (vault key `system:email-index-key`). */
  private readonly emailDigest: KeyedDigest;
  /** The vault's work after each commit, retried on failure (after-commit.ts). */
  private readonly afterCommit: AfterCommitRunner;

  constructor(
    private readonly deps: {
      store: EventStore;
      bus: Bus;
      vault: SecretVault;
      cipher: PersonalDataCipher;
      hasher: PasswordHasher;
      secrets: ClientSecretHasher;
      /** Counts wrong current passwords of ChangeOwnPassword like failed logins; without it that command is refused. */
      throttle?: LoginThrottle;
      log: Logger;
      /** Without it, every start folds the whole log. */
      snapshots?: CommandModelSnapshotStore;
      snapshotEvery?: number;
      /** Delays between retries of failed after-commit work (default AFTER_COMMIT_RETRY_MS). */
      afterCommitRetryMs?: readonly number[];
    },
  ) {
    this.emailDigest = new KeyedDigest(deps.vault, DIGEST_KEY_IDS.emailIndex);
    this.afterCommit = new AfterCommitRunner(deps.log, deps.afterCommitRetryMs);
  }

  private get state() {
    return this.model.state;
  }

  /** The policy over the model as it is now (a restore replaces the model, so it is made per use: cheap). */
  private get policy(): AccessPolicy<OrgNode> {
    return new AccessPolicy(this.model.accessFacts, this.model.state.roles);
  }

  /**
   * Loads the snapshot if there is one that matches the log, folds the events after it, and writes a new
   * snapshot when that took long. A snapshot that cannot be read or does not match is only logged: the log
   * is the source of truth, so the model is then folded from the start.
   */
  async start(): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      this.model = await this.restoredModel(tx);
      await this.catchUp(tx);
    });
    this.deps.log.info('command model ready', {
      position: this.model.position,
      fromSnapshot: this.snapshotPosition || null,
      eventsFolded: this.model.folded,
    });
    // What a crash (or a close while retrying) left of after-commit work, redone from the model.
    for (const userId of this.model.state.users.erasedIds())
      await eraseUserSecrets(this.deps.vault, this.deps.cipher, userId);
    for (const id of this.model.endedIds('client')) await this.deps.vault.deleteClientSecretHash(id);
    for (const id of this.model.endedIds('webhook')) await this.deps.vault.deleteWebhookSecrets(id);
    // A rotation committed but not promoted (a crash between the two): its secret signs from now on.
    for (const { subscriptionId, previousExpiresAt } of await this.deps.vault.pendingWebhookRotations())
      if (this.state.webhooks.get(subscriptionId)?.lastRotation === previousExpiresAt)
        await this.deps.vault.promoteWebhookSecret(subscriptionId, previousExpiresAt);
    if (this.model.position - this.snapshotPosition >= Math.min(10_000, this.snapshotEvery)) await this.writeSnapshot();
  }

  /** The model of the snapshot if there is one that matches the log, else an empty one. */
  private async restoredModel(tx: EventStoreTransaction): Promise<CommandModel> {
    const snapshot = await this.deps.snapshots?.load().catch(async (e: unknown) => {
      this.deps.log.warn('command-model snapshot unreadable; folding the whole log', { error: String(e) });
      // Of no use, and one of an older format may hold personal data in clear: it goes at once, not only
      // when the next snapshot replaces it.
      await this.deps.snapshots?.discard().catch(() => undefined);
      return undefined;
    });
    if (!snapshot) return new CommandModel();
    const [atPosition] = snapshot.position === 0 ? [] : await tx.readAll(snapshot.position - 1, 1);
    if ((atPosition?.id ?? null) !== snapshot.lastEventId) {
      this.deps.log.warn('command-model snapshot does not match the event log; folding the whole log', {
        position: snapshot.position,
      });
      return new CommandModel();
    }
    this.snapshotPosition = snapshot.position;
    return new CommandModel(snapshot);
  }

  /** Writes a last snapshot (so the next start folds nothing); call before closing the store. */
  async close(): Promise<void> {
    clearTimeout(this.quietTimer);
    await this.afterCommit.close();
    await this.snapshotting;
    if (this.model.position > this.snapshotPosition) await this.writeSnapshot();
  }

  /**
   * Taking a snapshot holds the write lock while the model is copied (~0.2 s at 100k organizations and users)
   * and blocks the event loop while it is serialised, so it waits for a quiet second once the model is
   * `snapshotEvery` events past the last one; only at five times that does it go ahead under load.
   */
  private considerSnapshot(): void {
    const behind = this.model.position - this.snapshotPosition;
    if (this.snapshotting || behind < this.snapshotEvery) return;
    clearTimeout(this.quietTimer);
    const take = () => {
      this.snapshotting ??= this.writeSnapshot().finally(() => (this.snapshotting = undefined));
    };
    if (behind >= this.snapshotEvery * 5) take();
    else this.quietTimer = setTimeout(take, QUIET_MS).unref();
  }

  private get snapshotEvery(): number {
    return this.deps.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
  }

  /**
   * Taken inside a store transaction, so the model holds exactly the committed log up to its position (no
   * other command's work is half applied), and saved only once that transaction has committed.
   */
  private async writeSnapshot(): Promise<void> {
    const store = this.deps.snapshots;
    if (!store) return;
    try {
      const started = Date.now();
      const snapshot = await this.deps.store.transaction(async (tx) => {
        await this.catchUp(tx);
        return this.model.toSnapshot();
      });
      await store.save(snapshot);
      this.snapshotPosition = snapshot.position;
      this.deps.log.info('command-model snapshot written', { position: snapshot.position, ms: Date.now() - started });
    } catch (e) {
      this.deps.log.warn('command-model snapshot not written', { error: String(e) });
    }
  }

  /** True once a platform admin exists (read from the command model, which is caught up in `start`). */
  get hasPlatformAdmin(): boolean {
    return this.state.users.hasPlatformAdmin();
  }

  /** The platform admin's user id (as of `start` or the last command), if one exists. */
  get platformAdminId(): string | undefined {
    return this.state.users.platformAdminId();
  }

  /**
   * Authorizes, prepares, decides and appends one command. The authorization that counts runs inside the
   * write transaction on the caught-up model; a first check on the model as it stands spares an unauthorized
   * caller's command the preparation (password hashing), and a refusal there is confirmed on the caught-up
   * model before it is returned, so a model that lags the log never refuses wrongly.
   */
  async execute(input: Command, ctx: CommandContext): Promise<CommandOutcome> {
    // Before authorization: a command whose ids break their grammar names nothing that exists or may exist,
    // and one that breaks its use case's input schema is refused before the policy reads it (400).
    checkCommandIds(input);
    const command = validateCommand(input);
    const allowed = await authorizeCommand(this.policy, ctx.principal, command).then(
      () => true,
      () => false,
    );
    if (!allowed)
      await this.deps.store.transaction(async (tx) => {
        await this.catchUp(tx);
        await authorizeCommand(this.policy, ctx.principal, command);
      });
    const prepared = await prepareCommand(command, {
      ...this.deps,
      users: this.state.users,
      emailIndexOf: async (email) => (await this.emailIndexOf())(email),
      sealedAt: sealedAtIn((after, limit) => this.deps.store.readAll({ after, limit })),
    });
    // Sealed under the acting user's key before the transaction, like the rest of the preparation.
    const requestMetadata = await requestMetadataOf(this.deps.cipher, ctx.principal, ctx.request);
    let written: StoredEvent[] = [];
    let outcome: CommandOutcome;
    try {
      outcome = await this.deps.store.transaction(async (tx) => {
        try {
          const onWritten = (events: StoredEvent[]) => (written = written.concat(events));
          return await this.decideAndAppend(tx, command, prepared, ctx, requestMetadata, onWritten);
        } catch (error) {
          // Drop the model at once, not when the promise settles: a store that commits several
          // transactions together may run the next command's work before this rejection is delivered.
          if (written.length > 0) this.stale = true;
          throw error;
        }
      });
    } catch (error) {
      if (written.length > 0) this.stale = true;
      throw error;
    }
    // Never throws: the commit stands whatever the vault does after it (AfterCommitRunner).
    if (outcome.kind === 'applied')
      await this.afterCommit.run(afterCommitTasks(outcome.events, this.deps.vault, this.deps.cipher));
    // An erasure takes the user's email digest out of the model: the snapshot on disk must not keep it either.
    if (outcome.kind === 'applied' && outcome.events.some((e) => e.type === 'UserErased')) await this.writeSnapshot();
    else if (outcome.kind === 'applied') this.considerSnapshot();
    if (outcome.kind === 'applied' && outcome.events.length > 0) {
      // The bus only speeds delivery up: listeners catch up from the log, so a failed publish loses nothing.
      this.deps.bus
        .publish(outcome.events)
        .catch((e) => this.deps.log.warn('bus publish failed', { error: String(e) }));
    }
    return outcome;
  }

  /** The transaction's work: catch up, decide, append with expected versions, record the idempotency key. */
  private async decideAndAppend(
    tx: EventStoreTransaction,
    command: Command,
    prepared: Prepared,
    ctx: CommandContext,
    requestMetadata: StoredRequestMetadata | undefined,
    onWritten: (events: StoredEvent[]) => void,
  ): Promise<CommandOutcome> {
    const scope = idempotencyScopeOf(ctx.principal);
    refuseAfterDeadline(ctx);
    if (ctx.idempotency) {
      const existing = await tx.findIdempotency(scope, ctx.idempotency.key);
      if (existing && Date.now() - Date.parse(existing.createdAt) < IDEMPOTENCY_TTL_MS)
        return { kind: 'replayed', record: existing };
    }
    await this.catchUp(tx);
    await authorizeCommand(this.policy, ctx.principal, command);
    const actor = actorOfCommand(ctx.principal);
    const reconciled = await reconcilePrepared(this.state, command, prepared, {
      cipher: this.deps.cipher,
      sealedAt: sealedAtIn((after, limit) => tx.readAll(after, limit)),
      principal: ctx.principal,
      policy: this.policy,
    });
    let written: StoredEvent[] = [];
    const streamExists = (streamId: string) => this.model.streamVersion(streamId) !== undefined;
    const decision = decideCommand(this.state, command, reconciled, streamExists);
    // The commit step: the secrets the events need, then the events (see storeSecrets). Nothing is written once the
    // caller has stopped waiting (the decision may have waited on a lock, a hash, a vault read).
    refuseAfterDeadline(ctx);
    await storeSecrets(this.deps.vault, decision.secrets);
    for (const event of decision.events) {
      const expected = this.model.streamVersion(event.streamId) ?? 'no_stream';
      const result = await tx.append(
        event.streamId,
        [
          {
            type: event.type,
            data: event.data,
            actor,
            orgPath: eventOrgPath(this.state.orgs, event),
            ...(requestMetadata === undefined ? {} : { requestMetadata }),
          },
        ],
        expected,
      );
      if (!result.ok)
        throw new IamError(
          'IAM_ERR_VERSION_CONFLICT',
          `${result.streamId} changed concurrently (expected ${String(result.expected)}, found ${result.actual}).`,
        );
      written = written.concat(result.events);
      onWritten(result.events);
      for (const stored of result.events) await this.applyToModel(stored);
    }
    if (ctx.idempotency) {
      const { provisionalResponse, key, requestHash } = ctx.idempotency;
      const position = written.at(-1)?.position;
      await tx.saveIdempotency({
        scope,
        key,
        requestHash,
        createdAt: new Date().toISOString(),
        response: { ...provisionalResponse, position },
      });
    }
    return { kind: 'applied', events: written, position: written.at(-1)?.position ?? this.model.position };
  }

  private async catchUp(tx: EventStoreTransaction): Promise<void> {
    if (this.stale) {
      // The model took events of a transaction that then failed: start again from committed state only.
      this.model = await this.restoredModel(tx);
      this.stale = false;
    }
    for (;;) {
      const batch = await tx.readAll(this.model.position, CATCH_UP_BATCH);
      if (batch.length === 0) return;
      // Personal data of a whole batch opens with one vault read, not one per user; the model keeps only
      // the email's index entry.
      const sealed = batch.filter(isPersonalEvent);
      const opened = await this.deps.cipher.openMany(sealed.map((e) => sealedPersonalDataOf(e)!));
      const indexOf = await this.emailIndexOf();
      const bySealed = new Map(sealed.map((e, i) => [e, indexEntry(indexOf, opened[i])]));
      for (const event of batch) this.model.apply(event, bySealed.get(event as PersonalEvent) ?? null);
    }
  }

  private async applyToModel(event: StoredEvent): Promise<void> {
    const sealed = sealedPersonalDataOf(event);
    const personal = sealed ? await this.deps.cipher.open(sealed.subjectId, sealed.sealed) : null;
    this.model.apply(event, indexEntry(await this.emailIndexOf(), personal));
  }

  /** The email index entry of an email: the keyed digest of its `emailKey` (the model never holds it in clear). */
  private async emailIndexOf(): Promise<(email: string) => string> {
    const digest = await this.emailDigest.digester();
    return (email) => digest(emailKey(email));
  }
}

const indexEntry = (indexOf: (email: string) => string, personal: PersonalData | null): string | null =>
  personal ? indexOf(personal.email) : null;

/** Throws IAM_ERR_UNAVAILABLE (not applied, retry after 1 s) once `ctx.deadline` has passed (CommandContext.deadline). */
function refuseAfterDeadline(ctx: CommandContext): void {
  if (ctx.deadline !== undefined && Date.now() > ctx.deadline)
    throw new IamError(
      'IAM_ERR_UNAVAILABLE',
      'The command waited too long to be written and was not applied; retry.',
      undefined,
      1,
    );
}

import type { ProjectableEvent, ReadModels } from '@arbor/application';
import { projectEventAsync } from '@arbor/application';
import { MongoClient, type Db } from 'mongodb';
import { createIndexes, PROJECTOR_CHECKPOINT, ReadModelCollections } from './mongo-collections';
import { MongoAccessSearchQueries } from './mongo-access-search-queries';
import { MongoClientQueries } from './mongo-client-queries';
import { MongoHistoryQueries } from './mongo-history-queries';
import { MongoMembershipQueries } from './mongo-membership-queries';
import { MongoOrgQueries } from './mongo-org-queries';
import { MongoReadModelEngine, type AfterWrite } from './mongo-projection';
import { MongoRoleQueries } from './mongo-role-queries';
import { MongoUserQueries } from './mongo-user-queries';
import { MongoWebhookQueries } from './mongo-webhook-queries';

export interface MongoReadModelsOptions {
  /** The database holding the read models. Default `arbor`. */
  database?: string;
  /** A client to share; it stays open when the read models close. By default they open (and close) their own. */
  client?: MongoClient;
  /** Connections of the client the read models open themselves. Default 10. */
  poolSize?: number;
  /** How long the client they open waits for a reachable server before an operation fails, in ms. Default 10000. */
  serverSelectionTimeoutMS?: number;
  /**
   * Tests only: called after each write `apply` makes; throwing from it leaves the batch half written and
   * its checkpoint unmoved, as a crash would.
   */
  afterWrite?: AfterWrite;
}

/**
 * The read side in MongoDB (or FerretDB, which the tests run on), with the same projection, orderings and
 * cursors as the SQL adapters.
 *
 * No multi-document transaction holds a batch and its checkpoint together (FerretDB has none): `apply` writes
 * the batch's documents, each write idempotent (see `MongoReadModelEngine`), then the checkpoint, last. A crash
 * in between leaves the checkpoint where it was; the next `apply` re-applies the batch over the half-written
 * state and ends where one uninterrupted apply would have. Queries may see a batch half applied (never a
 * document half written). One projector per database: the `apply`s of one instance take turns; two processes
 * applying at once are not supported (on a real MongoDB a transaction would make that safe, see the README).
 */
export class MongoReadModels implements ReadModels {
  readonly orgs: MongoOrgQueries;
  readonly users: MongoUserQueries;
  readonly memberships: MongoMembershipQueries;
  readonly clients: MongoClientQueries;
  readonly search: MongoAccessSearchQueries;
  readonly roles: MongoRoleQueries;
  readonly history: MongoHistoryQueries;
  readonly webhooks: MongoWebhookQueries;
  readonly collections: ReadModelCollections;
  private turn: Promise<unknown> = Promise.resolve();
  private closed = false;
  private guard: () => void = () => undefined;

  constructor(
    private readonly client: MongoClient,
    readonly db: Db,
    private readonly ownsClient = false,
    private readonly afterWrite?: AfterWrite,
  ) {
    this.collections = new ReadModelCollections(db);
    this.orgs = new MongoOrgQueries(this.collections);
    this.users = new MongoUserQueries(this.collections);
    this.memberships = new MongoMembershipQueries(this.collections);
    this.clients = new MongoClientQueries(this.collections);
    this.search = new MongoAccessSearchQueries(this.collections);
    this.roles = new MongoRoleQueries(this.collections);
    this.webhooks = new MongoWebhookQueries(this.collections);
    this.history = new MongoHistoryQueries(this.collections);
  }

  /**
   * `check` runs before every `apply` and `reset` writes anything, and throwing from it refuses the write (the
   * projector retries later): the projector passes its lease's `assertHeld` (MongoProjectorLease).
   */
  guardWrites(check: () => void): void {
    this.guard = check;
  }

  async checkpoint(): Promise<number> {
    this.assertOpen();
    const doc = await this.collections.checkpoints.findOne({ _id: PROJECTOR_CHECKPOINT });
    return doc?.position ?? 0;
  }

  /**
   * Events are expected in position order; an event at or below the checkpoint (including one repeated within
   * the batch) has been applied already and is skipped. Returns the new checkpoint.
   */
  apply(events: ProjectableEvent[]): Promise<number> {
    return this.inTurn(async () => {
      this.guard();
      const start = await this.checkpoint();
      let checkpoint = start;
      for (const event of events) {
        if (event.position <= checkpoint) continue;
        await projectEventAsync(new MongoReadModelEngine(this.collections, event.position, this.afterWrite), event);
        checkpoint = event.position;
      }
      // Last: until it is written, a crash means the whole batch is applied again.
      if (checkpoint !== start) {
        await this.collections.checkpoints.updateOne(
          { _id: PROJECTOR_CHECKPOINT },
          { $set: { position: checkpoint } },
          { upsert: true },
        );
      }
      return checkpoint;
    });
  }

  /**
   * Empties every read model, the checkpoint first: a crash midway leaves checkpoint 0 over some old
   * documents, which the rebuild from position 0 overwrites as a re-applied batch would.
   */
  reset(): Promise<void> {
    return this.inTurn(async () => {
      this.assertOpen();
      this.guard();
      for (const collection of this.collections.all()) await collection.deleteMany({});
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.turn.catch(() => undefined);
    if (this.ownsClient) await this.client.close();
  }

  /** Runs `work` after every earlier `apply` or `reset` of this instance has finished. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.catch(() => undefined).then(work);
    this.turn = run;
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The read models are closed.');
  }
}

/**
 * Connects to `url` (a `mongodb://` URL) and opens the read models in `options.database` (default `arbor`),
 * creating their indexes if absent. With `options.client` the URL is not used and the client is shared.
 * Rejects when the server cannot be reached (the driver's server selection error, after its timeout).
 */
export async function openMongoReadModels(url: string, options: MongoReadModelsOptions = {}): Promise<MongoReadModels> {
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new MongoClient(url, {
      maxPoolSize: options.poolSize ?? 10,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    });
  try {
    if (ownsClient) await client.connect();
    const db = client.db(options.database ?? 'arbor');
    const readModels = new MongoReadModels(client, db, ownsClient, options.afterWrite);
    await createIndexes(readModels.collections);
    return readModels;
  } catch (e) {
    if (ownsClient) await client.close().catch(() => undefined);
    throw e;
  }
}

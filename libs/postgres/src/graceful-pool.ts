import { Pool, type PoolClient, type PoolConfig } from 'pg';

type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/** See GracefulPool's constructor: the error reaches the work through its queries. */
const ignoreClientError = (): void => undefined;

/**
 * A `pg` Pool whose `end()` first lets the work already asked of it finish. pg-pool's own `end()` (3.x) waits for the
 * clients checked out, but a request still waiting for a free client is never served nor refused: its promise stays
 * pending for good (a login counted by the throttle store while a gateway shuts down, say, with every connection
 * busy). Here `end()` refuses new work at once (as pg does after its end), waits until every checkout asked for before
 * it has been served and released (`query` checks a client out and releases it; a transaction holds one until its
 * `release()`), then ends the pool. It never waits longer than pg's own `end()` would for a client held forever.
 *
 * Same constructor and API as `Pool` (node-postgres); a second `end()` is refused as pg refuses it. A connection the
 * server ends while checked out fails its work without ending the process (see the constructor).
 */
export class GracefulPool extends Pool {
  /** Checkouts asked for (waiting for a client, or holding one) and not yet released. */
  private inProgress = 0;
  /** The clients checked out through `connect`, until their release. */
  private readonly held = new Set<PoolClient>();
  private endRequested = false;
  private onIdle: (() => void) | undefined;

  constructor(config?: PoolConfig) {
    super(config);
    // A client the server disconnects (a restart or failover, pg_terminate_backend, an idle-in-transaction timeout)
    // emits 'error'. pg-pool listens only while the client is idle in the pool; checked out, an 'error' event with
    // no listener is thrown from the socket's handler and ends the process. The failure reaches the work anyway (the
    // query in flight rejects, the next one fails, and a client released after it is not pooled again), so the
    // event itself is only noted here: every client gets a listener for its whole life.
    this.on('connect', (client: PoolClient) => {
      client.on('error', ignoreClientError);
    });
    // pg emits `release` for every client given back (query's own release included), before it pools or ends it.
    this.on('release', (_err: Error | undefined, client: PoolClient) => {
      if (this.held.delete(client)) this.settle();
    });
  }

  override connect(): Promise<PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    if (this.endRequested) {
      const refusal = new Error('Cannot use a pool after calling end on the pool (it is ending)');
      if (!callback) return Promise.reject(refusal);
      setImmediate(() => callback(refusal, undefined, () => undefined));
      return;
    }
    this.inProgress++;
    const tracked = (done: ConnectCallback): ConnectCallback => {
      return (err, client, release) => {
        if (err || !client) this.settle();
        else this.held.add(client);
        done(err, client, release);
      };
    };
    if (callback) return super.connect(tracked(callback));
    return new Promise<PoolClient>((resolve, reject) =>
      super.connect(tracked((err, client) => (err || !client ? reject(err) : resolve(client)))),
    );
  }

  override end(): Promise<void>;
  override end(callback: () => void): void;
  override end(callback?: () => void): Promise<void> | void {
    if (this.endRequested) {
      const refusal = new Error('Called end on pool more than once');
      if (!callback) return Promise.reject(refusal);
      return;
    }
    this.endRequested = true;
    const drained = this.inProgress === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.onIdle = resolve));
    const ended = drained.then(() => super.end());
    if (!callback) return ended;
    ended.then(callback, () => undefined);
  }

  private settle(): void {
    this.inProgress--;
    if (this.inProgress === 0) this.onIdle?.();
  }
}

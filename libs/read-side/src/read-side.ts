import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger, ReadModels } from '@arbor/application';
import type { ProjectionWatermark } from '@arbor/api';
import {
  MongoProjectionWatermark,
  MongoProjectorLease,
  openMongoReadModels,
  type MongoReadModels,
} from '@arbor/mongodb';
import { PostgresProjectionWatermark, openPostgresReadModels } from '@arbor/postgres';
import type { DistributedSettings } from '@arbor/runtime';

/**
 * The one place where the distributed profile's read side is chosen (READ_MODELS_URL, see parseReadModelsUrl in
 * libs/runtime): PostgreSQL (DATABASE_URL, IAM_PG_SCHEMA) or MongoDB (libs/mongodb). Gateways, command services,
 * projectors and `arbor rebuild` open their read models, watermark and projector guard here, never an adapter
 * directly, so the choice is made the same way by every process.
 */
export type ReadSideSettings = Pick<DistributedSettings, 'databaseUrl' | 'schema' | 'readModels'>;

/** The read models of the deployment: PostgreSQL's schema, or the MongoDB database READ_MODELS_URL names. */
export async function openDistributedReadModels(settings: ReadSideSettings): Promise<ReadModels> {
  const target = settings.readModels;
  if (target.kind === 'mongodb') return openMongoReadModels(target.url, { database: target.database });
  return openPostgresReadModels(settings.databaseUrl, { schema: settings.schema });
}

/** A gateway's read-your-writes over `readModels` (which it closes itself, after this). */
export interface ClosableWatermark extends ProjectionWatermark {
  close(): Promise<void>;
}

/**
 * Read-your-writes for a gateway: on PostgreSQL LISTEN/NOTIFY on the checkpoint (PostgresProjectionWatermark,
 * with a connection of its own); on MongoDB the checkpoint document read every 25 ms while a request waits
 * (MongoProjectionWatermark, on the client of `readModels`, which must come from openDistributedReadModels).
 */
export function openProjectionWatermark(settings: ReadSideSettings, readModels: ReadModels): ClosableWatermark {
  if (settings.readModels.kind === 'mongodb') return new MongoProjectionWatermark(readModels as MongoReadModels);
  return new PostgresProjectionWatermark(settings.databaseUrl, settings.schema);
}

/** What a projector holds while it writes the read models; `release` lets the next one take over at once. */
export interface ProjectorGuard {
  release(): Promise<void>;
}

/**
 * The one-projector rule of the MongoDB read models (they apply a batch without a transaction): before a
 * projector writes, it takes the lease in the read models' database (MongoProjectorLease) and every batch it
 * writes checks the lease is still its own. `wait` (a projector following the log): a second projector waits
 * until the first stops (at once on a clean stop, within 5 s of a kill), logging who holds it once. `refuse`
 * (a rebuild): throws, naming the holder, while a projector runs. `onLost`: the lease was taken by another
 * after this one failed to renew it (the process should stop; its writes are already refused).
 *
 * PostgreSQL needs none of this (each batch and its checkpoint commit in one transaction under a lock), so
 * there the guard is a no-op and any number of projectors may run.
 */
export async function guardProjectorWrites(
  settings: ReadSideSettings,
  readModels: ReadModels,
  options: { mode: 'wait' | 'refuse'; log: Logger; onLost?: (reason: string) => void; signal?: AbortSignal },
): Promise<ProjectorGuard> {
  if (settings.readModels.kind !== 'mongodb') return { release: async () => undefined };
  const mongo = readModels as MongoReadModels;
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const lease = new MongoProjectorLease(mongo.db, owner, { onLost: options.onLost });
  if (options.mode === 'refuse') {
    const holder = await lease.tryAcquire();
    if (holder !== undefined)
      throw new Error(
        `A projector (${holder.owner}) is writing these MongoDB read models (its lease runs until ` +
          `${new Date(holder.expiresAt).toISOString()}): stop every projector of the deployment first.`,
      );
  } else {
    await lease.acquire(
      (holder) =>
        options.log.warn('another projector writes these MongoDB read models: waiting for its lease', {
          holder: holder.owner,
          until: new Date(holder.expiresAt).toISOString(),
        }),
      options.signal,
    );
  }
  mongo.guardWrites(() => lease.assertHeld());
  options.log.info('projector lease taken', { owner, database: settings.readModels.database });
  return { release: () => lease.release() };
}

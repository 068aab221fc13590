import type { ReadModels } from '@arbor/application';
import type { ReadModelsHarness } from '@arbor/testing';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { openMongoReadModels, type MongoReadModels, type MongoReadModelsOptions } from './mongo-read-models';

/** The MongoDB-protocol server of the integration tests (FerretDB locally and in CI); suites skip without it. */
export const MONGODB_URL = process.env.MONGODB_URL ?? '';

/** A database of its own for each spec file, dropped afterwards. */
export const randomDatabase = (prefix = 'rm'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export async function dropDatabase(database: string): Promise<void> {
  const client = new MongoClient(MONGODB_URL, { maxPoolSize: 1 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

/** Opens read models in `database` with a small pool (FerretDB runs beside the other suites' services). */
export const openTestReadModels = (database: string, options: MongoReadModelsOptions = {}): Promise<MongoReadModels> =>
  openMongoReadModels(MONGODB_URL, { database, poolSize: 4, ...options });

/**
 * Every read-model document of a database, by collection, in `_id` order: two projections of one log compare
 * equal when these do.
 */
export async function dumpReadModels(rm: MongoReadModels): Promise<Record<string, unknown[]>> {
  const dump: Record<string, unknown[]> = {};
  for (const collection of rm.collections.all()) {
    dump[collection.collectionName] = await collection.find({}).sort({ _id: 1 }).toArray();
  }
  return dump;
}

/**
 * Read models in a database of their own for the calling `describe`: opened before its tests, closed (the
 * database dropped) after them; each test starts from `reset()` collections.
 */
export function databaseReadModels(prefix: string): ReadModelsHarness & { reopen(): Promise<ReadModels> } {
  const database = randomDatabase(prefix);
  let readModels: MongoReadModels | undefined;
  beforeAll(async () => {
    readModels = await openTestReadModels(database);
  });
  afterAll(async () => {
    await readModels?.close();
    await dropDatabase(database);
  });
  return {
    open: async () => {
      await readModels!.reset();
      return readModels!;
    },
    // A test that closed the client gets a new one, which the next tests and `afterAll` use.
    reopen: async () => (readModels = await openTestReadModels(database)),
    release: async () => undefined,
  };
}

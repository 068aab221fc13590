import { describeWithEnv } from '@arbor/testing';
import { DATABASE_URL, dropSchema, randomSchema } from './read-models.test-support';
import { PostgresPublisherCheckpoint } from './postgres-publisher-checkpoint';

/**
 * The Kafka relay's checkpoint and lease (PublisherCheckpoint of @arbor/kafka): one publisher of several holds the
 * lease at a time, renews it, gives it up on a clean stop, and loses it once it expires; the position is the
 * same row's and never moves backwards.
 */
describeWithEnv('DATABASE_URL')('PostgresPublisherCheckpoint', () => {
  let schema: string;
  let checkpoint: PostgresPublisherCheckpoint;
  beforeEach(async () => {
    schema = randomSchema();
    checkpoint = await PostgresPublisherCheckpoint.open(DATABASE_URL, { schema });
  });
  afterEach(async () => {
    await checkpoint.close();
    await dropSchema(schema);
  });

  it('lets one owner hold the lease at a time: renewed by it, refused to others, free after release', async () => {
    expect(await checkpoint.claim('a', 10_000)).toBe(true);
    expect(await checkpoint.claim('b', 10_000)).toBe(false);
    expect(await checkpoint.claim('a', 10_000)).toBe(true);
    await checkpoint.release('b'); // not b's: nothing happens
    expect(await checkpoint.claim('b', 10_000)).toBe(false);
    await checkpoint.release('a');
    expect(await checkpoint.claim('b', 10_000)).toBe(true);
    expect(await checkpoint.claim('a', 10_000)).toBe(false);
  });

  it('hands an expired lease to another owner (on the database clock)', async () => {
    expect(await checkpoint.claim('a', 50)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await checkpoint.claim('b', 10_000)).toBe(true);
    expect(await checkpoint.claim('a', 10_000)).toBe(false);
  });

  it('keeps the position apart from the lease: claims and releases leave it, saves never move it back', async () => {
    expect(await checkpoint.load()).toBe(0);
    expect(await checkpoint.claim('a', 10_000)).toBe(true);
    await checkpoint.save(42);
    await checkpoint.save(17);
    expect(await checkpoint.claim('a', 10_000)).toBe(true);
    await checkpoint.release('a');
    expect(await checkpoint.load()).toBe(42);
  });
});

import { randomBytes } from 'node:crypto';
import type { Logger } from '@arbor/application';
import { MongoProjectionWatermark, MongoReadModels } from '@arbor/mongodb';
import { PostgresProjectionWatermark, PostgresReadModels } from '@arbor/postgres';
import { parseReadModelsUrl } from '@arbor/runtime';
import { describeWithEnv } from '@arbor/testing';
import { guardProjectorWrites, openDistributedReadModels, openProjectionWatermark } from './read-side';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeWithEnv('DATABASE_URL', 'MONGODB_URL')('the read side READ_MODELS_URL selects', () => {
  const schema = `rs_${randomBytes(5).toString('hex')}`;
  const databaseUrl = process.env.DATABASE_URL!;

  it('unset: the PostgreSQL read models and LISTEN/NOTIFY watermark; no projector guard', async () => {
    const settings = { databaseUrl, schema, readModels: parseReadModelsUrl(undefined, schema) };
    const readModels = await openDistributedReadModels(settings);
    try {
      expect(readModels).toBeInstanceOf(PostgresReadModels);
      const watermark = openProjectionWatermark(settings, readModels);
      expect(watermark).toBeInstanceOf(PostgresProjectionWatermark);
      await watermark.close();
      const one = await guardProjectorWrites(settings, readModels, { mode: 'wait', log: quiet });
      const two = await guardProjectorWrites(settings, readModels, { mode: 'refuse', log: quiet });
      await Promise.all([one.release(), two.release()]);
    } finally {
      await readModels.close();
    }
  });

  it('mongodb://: the MongoDB read models in the database named as the schema, the polling watermark, the lease', async () => {
    const settings = { databaseUrl, schema, readModels: parseReadModelsUrl(process.env.MONGODB_URL, schema) };
    const readModels = await openDistributedReadModels(settings);
    const other = await openDistributedReadModels(settings);
    try {
      expect(readModels).toBeInstanceOf(MongoReadModels);
      expect((readModels as MongoReadModels).db.databaseName).toBe(schema);
      const watermark = openProjectionWatermark(settings, readModels);
      expect(watermark).toBeInstanceOf(MongoProjectionWatermark);
      await watermark.close();

      const guard = await guardProjectorWrites(settings, readModels, { mode: 'wait', log: quiet });
      // A rebuild while a projector holds the lease is refused, naming why.
      await expect(guardProjectorWrites(settings, other, { mode: 'refuse', log: quiet })).rejects.toThrow(
        /A projector .* is writing these MongoDB read models/,
      );
      // A second projector waits, and says who it waits for.
      const warnings: string[] = [];
      const waiting = guardProjectorWrites(settings, other, {
        mode: 'wait',
        log: { ...quiet, warn: (message) => warnings.push(message) },
      });
      await new Promise((r) => setTimeout(r, 1500));
      expect(warnings).toEqual(['another projector writes these MongoDB read models: waiting for its lease']);
      await guard.release();
      const second = await waiting;
      // Only the holder writes: the first one's writes are refused now.
      await expect(readModels.reset()).rejects.toThrow(/lease/);
      await other.reset();
      await second.release();
    } finally {
      await Promise.all([readModels.close(), other.close()]);
      await (readModels as MongoReadModels).db.dropDatabase().catch(() => undefined);
    }
  });
});

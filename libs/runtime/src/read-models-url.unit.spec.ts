import { distributedSettingsFromEnv, parseReadModelsUrl } from '.';

/** The MongoDB database a URL selects (fails the test if it selects PostgreSQL). */
const databaseOf = (raw: string, schema: string): string => {
  const target = parseReadModelsUrl(raw, schema);
  if (target.kind !== 'mongodb') throw new Error(`${raw} selected ${target.kind}`);
  return target.database;
};

describe('READ_MODELS_URL', () => {
  it('keeps PostgreSQL when unset or empty', () => {
    expect(parseReadModelsUrl(undefined, 'arbor')).toEqual({ kind: 'postgres' });
    expect(parseReadModelsUrl('', 'arbor')).toEqual({ kind: 'postgres' });
    const env = { DATABASE_URL: 'postgres://x', KAFKA_BROKERS: 'k:9092' };
    expect(distributedSettingsFromEnv(env).readModels).toEqual({ kind: 'postgres' });
    expect(distributedSettingsFromEnv({ ...env, READ_MODELS_URL: '' }).readModels).toEqual({ kind: 'postgres' });
  });

  it('selects MongoDB for a mongodb:// URL, in the database of its path or else the one named as IAM_PG_SCHEMA', () => {
    expect(parseReadModelsUrl('mongodb://127.0.0.1:27018/', 'tenant_a')).toEqual({
      kind: 'mongodb',
      url: 'mongodb://127.0.0.1:27018/',
      database: 'tenant_a',
    });
    expect(databaseOf('mongodb://127.0.0.1:27018', 'arbor')).toBe('arbor');
    expect(databaseOf('mongodb://u:p%40ss@a:1,b:2/reads?replicaSet=rs0&w=majority', 'arbor')).toBe('reads');
    expect(databaseOf('mongodb+srv://cluster.example.test/iam', 'arbor')).toBe('iam');
    const settings = distributedSettingsFromEnv({
      DATABASE_URL: 'postgres://x',
      KAFKA_BROKERS: 'k:9092',
      IAM_PG_SCHEMA: 'east',
      READ_MODELS_URL: 'mongodb://m:27017/',
    });
    expect(settings.readModels).toEqual({ kind: 'mongodb', url: 'mongodb://m:27017/', database: 'east' });
  });

  it('refuses anything else, naming the variable', () => {
    for (const raw of ['postgres://x/y', 'http://m:27017/db', 'mongodb:/m', 'mongodb://', 'm:27017'])
      expect(() => parseReadModelsUrl(raw, 'arbor')).toThrow(/^READ_MODELS_URL must be a mongodb:\/\//);
    expect(() => parseReadModelsUrl('mongodb://m/a.b', 'arbor')).toThrow(/READ_MODELS_URL names a database/);
    expect(() => parseReadModelsUrl(`mongodb://m/${'d'.repeat(64)}`, 'arbor')).toThrow(/at most 63 bytes/);
    expect(() => parseReadModelsUrl('mongodb://m/%E0%A4%A', 'arbor')).toThrow(/URL-encoded/);
    expect(() =>
      distributedSettingsFromEnv({
        DATABASE_URL: 'postgres://x',
        KAFKA_BROKERS: 'k:9092',
        READ_MODELS_URL: 'redis://r',
      }),
    ).toThrow(/READ_MODELS_URL/);
  });
});

// Makes startTestApp() bring up the distributed profile with its read models in MongoDB: READ_MODELS_URL is
// MONGODB_URL, and each stack's database is named after its PostgreSQL schema, so every started stack (every
// data directory) gets a fresh database (see apps/standalone/src/test-support/distributed-stack.ts).
process.env.ARBOR_TEST_PROFILE = 'distributed';
process.env.ARBOR_TEST_READ_MODELS = 'mongodb';

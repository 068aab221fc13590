/**
 * The command-service as a separate process belongs to the distributed profile (PostgreSQL event store and read
 * models, Kafka between services), which is not built yet. Until then, `npm start` runs the command-service inside
 * the standalone app, composed in apps/standalone/src/start-standalone.ts.
 */
process.stderr.write(
  'The distributed profile is not available yet: run `npm start` for the embedded profile, which includes the command-service.\n',
);
process.exit(2);

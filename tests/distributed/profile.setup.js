// Makes startTestApp() bring up the distributed profile (see apps/standalone/src/test-support/test-app.ts).
process.env.ARBOR_TEST_PROFILE = 'distributed';

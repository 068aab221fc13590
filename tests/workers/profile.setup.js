// Makes startTestApp() start the embedded profile with two HTTP worker processes beside the writer
// (IAM_WORKERS=2; see apps/standalone/src/test-support/test-app.ts).
process.env.ARBOR_TEST_WORKERS = '2';

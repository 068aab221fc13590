import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../apps/standalone/src/test-support/distributed-stack';

/*
 * The gateway's start-up line names the issuer and where clients discover it (issue 11 item 19; contract
 * section 2): clients must reach Arbor at the issuer URL, which is fixed and not the request's Host.
 * The embedded server's line: tests/first-hour/readme-walk.e2e.spec.ts.
 */
const ROOT = resolve(__dirname, '../..');

it('the gateway logs its issuer and discovery URL when it starts listening', async () => {
  const [port, dataDir, schema] = [
    await freePort(),
    mkdtempSync(join(tmpdir(), 'arbor-line-')),
    `t_line_${randomBytes(4).toString('hex')}`,
  ];
  const gateway = spawn(process.execPath, [join(ROOT, 'apps/gateway/dist/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: process.env.DATABASE_URL ?? '',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      IAM_PG_SCHEMA: schema,
      IAM_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      COMMAND_SERVICE_URL: 'http://127.0.0.1:1', // on loopback: no internal token needed; never called here
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const line = await new Promise<Record<string, unknown>>((resolveLine, reject) => {
      let out = '';
      let err = '';
      gateway.stderr!.on('data', (d) => (err += d));
      gateway.stdout!.on('data', (d) => {
        out += d;
        const found = out.split('\n').find((l) => l.includes('"message":"arbor listening"'));
        if (found) resolveLine(JSON.parse(found));
      });
      gateway.once('exit', (code) => reject(new Error(`the gateway exited with ${code}: ${err}`)));
    });
    expect(line).toMatchObject({
      port,
      issuer: `http://localhost:${port}`,
      discovery: `http://localhost:${port}/.well-known/oauth-authorization-server`,
    });
  } finally {
    if (gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await exited;
    }
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  }
});

// Keycloak 26.4.7 as a benchmark peer: the Quarkus distribution from Maven Central, built once for production mode
// with the H2 dev-file database, started with `start --optimized` over plain HTTP on loopback.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../process-stats.mjs';
import { form } from '../load.mjs';
import { api, firstSetup, log, run, startPeer } from './common.mjs';

export const KEYCLOAK_VERSION = '26.4.7';
const ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
/** Build-time options: `kc.sh build` bakes them in, `start --optimized` then skips the build at every start. */
const BUILD_OPTIONS = ['--db=dev-file'];

/**
 * Makes sure `<cache>/keycloak-26.4.7/keycloak-26.4.7` holds the distribution, built for production mode: on the
 * first run Maven copies the zip from Maven Central (its ordinary client, so its configured mirror applies), it is
 * unzipped, and `kc.sh build` runs with BUILD_OPTIONS. A `built.json` marks a finished setup; later runs reuse it.
 */
export async function ensureKeycloak(cache) {
  const dir = join(cache, `keycloak-${KEYCLOAK_VERSION}`);
  const home = join(dir, `keycloak-${KEYCLOAK_VERSION}`);
  if (existsSync(join(dir, 'built.json')))
    return { home, cached: true, setupSeconds: 0, firstSetupSeconds: firstSetup(dir) };
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'setup.log');
  const t0 = Date.now();
  log(`keycloak: fetching ${ARTIFACT} with Maven into ${dir} (first run: a few minutes; log ${logFile})`);
  const zip = join(dir, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
  if (!existsSync(zip)) {
    await run('mvn', ['-B', '-q', `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${dir}`], {
      cwd: dir,
      logFile,
    });
  }
  rmSync(home, { recursive: true, force: true });
  await run('unzip', ['-q', '-o', zip], { cwd: dir, logFile });
  await run(join(home, 'bin', 'kc.sh'), ['build', ...BUILD_OPTIONS], { cwd: home, logFile });
  rmSync(zip, { force: true });
  const setupSeconds = (Date.now() - t0) / 1000;
  writeFileSync(
    join(dir, 'built.json'),
    JSON.stringify({ version: KEYCLOAK_VERSION, BUILD_OPTIONS, setupSeconds }) + '\n',
  );
  return { home, cached: false, setupSeconds, firstSetupSeconds: setupSeconds };
}

/** `java -version`'s first line: the JVM Keycloak runs on (kc.sh takes $JAVA_HOME or the java on PATH). */
function javaVersion() {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' }); // it prints to stderr
  return `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n')[0] || null;
}

/**
 * Starts Keycloak in production mode (`start --optimized`: the cached build, the H2 dev-file database placed in
 * `dataDir` through `--db-url-path`), plain HTTP on a free loopback port, the management interface on another,
 * the bootstrap admin from the environment. Then, through the admin REST API: a realm whose default signature
 * algorithm is ES256 (Keycloak adds the realm's ECDSA key when it first signs) with one-hour access tokens (the
 * introspected token must outlive the run), and a confidential client with service accounts (client_credentials)
 * authenticating with its secret (`client-secret`: HTTP Basic; Keycloak compares secrets, it does not hash them).
 */
export async function startKeycloak({ home, dataDir }) {
  const [port, managementPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const admin = { username: 'bench-admin', password: randomBytes(18).toString('hex') };
  const env = {
    ...process.env,
    KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
    KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    // The transaction manager's object store would otherwise go to the cached distribution's data/ dir.
    JAVA_OPTS_APPEND: [
      process.env.JAVA_OPTS_APPEND ?? '',
      `-Dquarkus.transaction-manager.object-store.directory=${join(dataDir, 'transaction-logs')}`,
    ]
      .join(' ')
      .trim(),
  };
  const args = [
    'start',
    '--optimized',
    '--http-enabled=true',
    '--http-host=127.0.0.1',
    `--http-port=${port}`,
    `--http-management-port=${managementPort}`,
    '--hostname-strict=false',
    `--db-url-path=${dataDir}`,
  ];
  const server = await startPeer({
    cmd: join(home, 'bin', 'kc.sh'),
    args,
    env,
    cwd: dataDir,
    logFile: join(dataDir, 'keycloak.log'),
    readyUrl: `${url}/realms/master`,
  });
  try {
    const tokenRes = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'password', client_id: 'admin-cli', ...admin }),
    });
    const adminToken = (await tokenRes.json()).access_token;
    if (!adminToken) throw new Error(`keycloak: no admin token (${tokenRes.status})`);
    const realm = 'arbor-bench';
    await api(`${url}/admin/realms`, {
      method: 'POST',
      token: adminToken,
      body: { realm, enabled: true, defaultSignatureAlgorithm: 'ES256', accessTokenLifespan: 3600 },
    });
    const clientId = 'arbor-bench-client';
    const secret = randomBytes(24).toString('hex');
    await api(`${url}/admin/realms/${realm}/clients`, {
      method: 'POST',
      token: adminToken,
      body: {
        clientId,
        enabled: true,
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        secret,
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
      },
    });
    const info = await api(`${url}/admin/serverinfo`, { token: adminToken }).catch(() => null);
    const oidc = `/realms/${realm}/protocol/openid-connect`;
    return {
      ...server,
      version: info?.systemInfo?.version ?? null,
      details: {
        java: javaVersion(),
        mode: 'production (start --optimized)',
        db: 'dev-file (H2)',
        buildOptions: BUILD_OPTIONS,
      },
      clientId,
      secret,
      tokenUrl: url,
      tokenPath: `${oidc}/token`,
      introspectUrl: url,
      introspectPath: `${oidc}/token/introspect`,
      introspectHeaders: 'client', // the client's own HTTP Basic, as RFC 7662 has a protected resource do
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

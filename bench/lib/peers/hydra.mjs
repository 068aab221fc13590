// Ory Hydra v2.3.0 as a benchmark peer: built from the Go module proxy into the cache, run on a SQLite file in the run's
// data dir (`--hydra-dsn sqlite`, the default: durable, as Arbor's embedded profile is) or in memory (`memory`), with
// `serve all --dev` (an http issuer on loopback), JWT access tokens and the cheapest client-secret hashing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../process-stats.mjs';
import { api, firstSetup, log, run, startPeer } from './common.mjs';

export const HYDRA_VERSION = 'v2.3.0';
const MODULE = 'github.com/ory/hydra/v2';
// mattn/go-sqlite3 (cgo) is only compiled in with the `sqlite` tag; without it DSN=memory has no driver.
const BUILD_TAGS = 'sqlite,sqlite_omit_load_extension';

/**
 * Makes sure the hydra binary is in `<cache>/hydra-v2.3.0/hydra`: on the first run, a scratch module there gets
 * Hydra as a tool (`go get -tool`) and `go build` compiles it (several minutes on two cores; `-p=1` and nice keep
 * it gentle on a shared machine). Later runs find the binary and do nothing. Returns the path and what it took.
 */
export async function ensureHydra(cache) {
  const dir = join(cache, `hydra-${HYDRA_VERSION}`);
  const bin = join(dir, 'hydra');
  if (existsSync(bin)) return { bin, cached: true, setupSeconds: 0, firstSetupSeconds: firstSetup(dir) };
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'setup.log');
  const env = { ...process.env, GOFLAGS: '-p=1 -buildvcs=false', CGO_ENABLED: '1' };
  const t0 = Date.now();
  log(`hydra: building ${MODULE}@${HYDRA_VERSION} into ${dir} (first run: several minutes; log ${logFile})`);
  if (!existsSync(join(dir, 'go.mod'))) await run('go', ['mod', 'init', 'peers'], { cwd: dir, env, logFile });
  await run('go', ['get', '-tool', `${MODULE}@${HYDRA_VERSION}`], { cwd: dir, env, logFile });
  // Hydra's own go.mod swaps pop for Ory's fork; replace directives of a dependency do not apply, so copy them.
  for (const [from, to] of moduleReplaces(dir, env)) {
    await run('go', ['mod', 'edit', '-replace', `${from}=${to}`], { cwd: dir, env, logFile });
  }
  await run('go', ['mod', 'tidy'], { cwd: dir, env, logFile });
  await run('go', ['build', '-tags', BUILD_TAGS, '-o', bin + '.tmp', MODULE], { cwd: dir, env, logFile });
  await run('mv', [bin + '.tmp', bin], { cwd: dir, logFile });
  const setupSeconds = (Date.now() - t0) / 1000;
  writeFileSync(
    join(dir, 'built.json'),
    JSON.stringify({ version: HYDRA_VERSION, tags: BUILD_TAGS, setupSeconds }) + '\n',
  );
  return { bin, cached: false, setupSeconds, firstSetupSeconds: setupSeconds };
}

/**
 * The `replace` directives of Hydra's go.mod that point at another module version (`A => B vX`), as
 * [A, B@vX] pairs. Directory replacements are left out: the nested module they name (internal/httpclient) is not
 * in the module zip, so the published github.com/ory/hydra-client-go/v2 its require names is used instead.
 */
function moduleReplaces(dir, env) {
  const info = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `${MODULE}@${HYDRA_VERSION}`], { cwd: dir, env, encoding: 'utf8' }),
  );
  const gomod = readFileSync(info.GoMod, 'utf8');
  const pairs = [];
  for (const m of gomod.matchAll(/^\s*replace\s+(\S+)(?:\s+\S+)?\s+=>\s+(\S+)\s+(v\S+)\s*$/gm)) {
    pairs.push([m[1], `${m[2]}@${m[3]}`]);
  }
  return pairs;
}

/** The Go module version the binary was built from, as `go version -m` reads it out of the binary itself. */
function builtVersion(bin) {
  try {
    const info = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8' });
    return new RegExp(`^\\s*(?:dep|mod)\\s+${MODULE.replace(/[/.]/g, '\\$&')}\\s+(\\S+)`, 'm').exec(info)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Starts Hydra (`serve all --dev`, SQLite in a file of `dataDir` or in memory as `dsn` says, telemetry off) on two free loopback ports, with JWT access
 * tokens and PBKDF2 at one iteration for client secrets (the least its config schema admits: bcrypt's minimum cost
 * is 4). Then, through the admin API: replaces the access-token signing key set with one ES256 key (Hydra generates
 * RS256 by default and signs with the set's first private key), and creates a confidential client
 * (client_credentials, client_secret_basic, jwt strategy). Returns what bench/peers.mjs drives.
 */
export async function startHydra({ bin, dataDir, dsn: dsnKind = 'sqlite' }) {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  // A file (WAL, foreign keys on, as Hydra's docs write SQLite DSNs) needs its schema first; `memory` migrates itself.
  const dsn = dsnKind === 'memory' ? 'memory' : `sqlite://${join(dataDir, 'hydra.sqlite')}?_fk=true&_journal_mode=WAL`;
  if (dsnKind !== 'memory')
    await run(bin, ['migrate', 'sql', 'up', '-e', '--yes'], {
      cwd: dataDir,
      env: { ...process.env, DSN: dsn },
      logFile: join(dataDir, 'hydra-migrate.log'),
    });
  const publicUrl = `http://127.0.0.1:${publicPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const env = {
    ...process.env,
    DSN: dsn,
    SECRETS_SYSTEM: randomBytes(24).toString('hex'),
    SERVE_PUBLIC_HOST: '127.0.0.1',
    SERVE_PUBLIC_PORT: String(publicPort),
    SERVE_ADMIN_HOST: '127.0.0.1',
    SERVE_ADMIN_PORT: String(adminPort),
    URLS_SELF_ISSUER: publicUrl,
    STRATEGIES_ACCESS_TOKEN: 'jwt',
    OAUTH2_HASHERS_ALGORITHM: 'pbkdf2',
    OAUTH2_HASHERS_PBKDF2_ITERATIONS: '1',
    LOG_LEVEL: 'warn', // Hydra logs every request at info: a cost no other server in the table pays
    SQA_OPT_OUT: 'true',
  };
  const server = await startPeer({
    cmd: bin,
    args: ['serve', 'all', '--dev', '--sqa-opt-out'],
    env,
    cwd: dataDir,
    logFile: join(dataDir, 'hydra.log'),
    readyUrl: `${adminUrl}/health/ready`,
  });
  try {
    const set = 'hydra.jwt.access-token';
    await api(`${adminUrl}/admin/keys/${set}`, { method: 'DELETE', expect: [204, 404] });
    await api(`${adminUrl}/admin/keys/${set}`, {
      method: 'POST',
      body: { alg: 'ES256', use: 'sig', kid: `bench-es256-${randomBytes(4).toString('hex')}` },
    });
    const secret = randomBytes(24).toString('hex');
    const client = await api(`${adminUrl}/admin/clients`, {
      method: 'POST',
      body: {
        client_name: 'arbor-bench',
        client_secret: secret,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        access_token_strategy: 'jwt',
      },
    });
    const versionAnswer = await api(`${adminUrl}/version`, {}).catch(() => null);
    return {
      ...server,
      version: builtVersion(bin) ?? versionAnswer?.version ?? null,
      details: {
        reportedVersion: versionAnswer?.version ?? null,
        dsn: dsnKind === 'memory' ? 'memory' : 'sqlite file (WAL) in the run data dir',
        hasher: 'pbkdf2, 1 iteration',
        accessTokenStrategy: 'jwt',
        buildTags: BUILD_TAGS,
      },
      clientId: client.client_id,
      secret,
      tokenUrl: publicUrl,
      tokenPath: '/oauth2/token',
      introspectUrl: adminUrl,
      introspectPath: '/admin/oauth2/introspect',
      introspectHeaders: {}, // the admin port's introspection takes no client authentication
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

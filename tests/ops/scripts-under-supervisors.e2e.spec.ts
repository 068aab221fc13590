import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

/**
 * The shell entry points run under supervisors (systemd, pm2, any Node parent) whose stdout and stderr are
 * sockets, not ttys, files or pipes. Linux refuses to open `/dev/stderr` (and `/dev/stdout`, `/dev/fd/N`)
 * when the descriptor is a socket (ENXIO), so a script must write to the descriptor it already holds.
 * Node's `stdio: 'pipe'` is a Unix socket pair, exactly what such a supervisor hands its child.
 */
const ROOT = resolve(__dirname, '../..');

function executable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/**
 * A copy of `script` (path relative to the repository) in a scratch tree whose service scripts and `npm`
 * are stubs: the script runs its own text, but provisions and builds nothing.
 */
function scratchTree(script: string): { root: string; path: string; bin: string } {
  const root = mkdtempSync(join(tmpdir(), 'arbor-scripts-'));
  mkdirSync(join(root, 'scripts/services'), { recursive: true });
  mkdirSync(join(root, '.ci'), { recursive: true });
  const bin = join(root, 'bin');
  mkdirSync(bin);
  copyFileSync(join(ROOT, script), join(root, script));
  chmodSync(join(root, script), 0o755);
  executable(
    join(root, 'scripts/services/postgres.sh'),
    '#!/usr/bin/env bash\necho "[postgres] already running"\necho DATABASE_URL=postgres://u:p@db.test:5432/arbor_test\n',
  );
  executable(
    join(root, 'scripts/services/kafka.sh'),
    '#!/usr/bin/env bash\necho "[kafka] already running"\necho KAFKA_BROKERS=broker.test:9092\n',
  );
  executable(
    join(root, 'scripts/services/ferretdb.sh'),
    '#!/usr/bin/env bash\necho "[ferretdb] already running"\necho MONGODB_URL=mongodb://mongo.test:27018/\n',
  );
  // `npm run --silent build` / `npm test` end the run here: everything before them has worked.
  executable(
    join(bin, 'npm'),
    '#!/usr/bin/env bash\ncase "$*" in ci*) exit 0;; esac\necho "reached npm $* with DATABASE_URL=$DATABASE_URL KAFKA_BROKERS=$KAFKA_BROKERS"\nexit 7\n',
  );
  return { root, path: join(root, script), bin };
}

/** Runs `path` with stdout and stderr sockets, as a Node supervisor does. */
function runUnderSupervisor(path: string, bin: string, env: Record<string, string> = {}) {
  return spawnSync('bash', [path], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: tmpdir(), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('shell entry points under a supervisor (stdout and stderr are sockets)', () => {
  it('the harness gives the child a socket as stderr, on which /dev/stderr cannot be opened', () => {
    const probe = spawnSync('bash', ['-c', 'readlink /proc/self/fd/2; echo x > /dev/stderr'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(probe.stdout).toMatch(/^socket:/);
    expect(probe.stderr).toContain('No such device or address');
  });

  it('npm run start:distributed provisions the services and gets to the build', () => {
    const tree = scratchTree('scripts/start-distributed.sh');
    const run = runUnderSupervisor(tree.path, tree.bin);
    expect(run.stderr).not.toContain('No such device or address');
    // The service scripts' output is streamed to stderr; their variables are taken from it.
    expect(run.stderr).toContain('[postgres] already running');
    expect(run.stderr).toContain('[kafka] already running');
    expect(run.stdout).toContain(
      'reached npm run --silent build with DATABASE_URL=postgres://u:p@db.test:5432/arbor KAFKA_BROKERS=broker.test:9092',
    );
  });

  it('.ci/run starts the services and gets to npm test', () => {
    const tree = scratchTree('.ci/run');
    const run = runUnderSupervisor(tree.path, tree.bin);
    expect(run.stderr).not.toContain('No such device or address');
    expect(run.stderr).toContain('[postgres] already running');
    expect(run.stderr).toContain('[ferretdb] already running');
    expect(run.stdout).toContain('MONGODB_URL=mongodb://mongo.test:27018/');
    expect(run.stdout).toContain(
      'reached npm test with DATABASE_URL=postgres://u:p@db.test:5432/arbor_test KAFKA_BROKERS=broker.test:9092',
    );
  });

  it('no script, CI step or benchmark names /dev/stderr, /dev/stdout, /dev/fd or a tty', () => {
    const roots = ['scripts', '.ci', 'bench', 'package.json', 'Dockerfile', 'docker-compose.yml'].map((p) =>
      join(ROOT, p),
    );
    const files: string[] = [];
    const walk = (path: string) => {
      if (statSync(path).isDirectory()) {
        for (const entry of readdirSync(path))
          if (entry !== 'results' && entry !== 'node_modules') walk(join(path, entry));
      } else files.push(path);
    };
    roots.forEach(walk);
    // Comments may explain the rule; code may not break it.
    const code = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(#|\/\/|\*)/.test(line))
        .join('\n');
    const offenders = files
      .filter((file) => /\/dev\/(stderr|stdout|stdin|tty|fd\/)/.test(code(file)))
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});

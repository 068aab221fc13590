#!/usr/bin/env node
'use strict';
/**
 * `npx arbor <command>` (the root package's `bin`). The CLI is TypeScript, like the rest of Arbor; this
 * launcher, plain JavaScript, builds it first, as `npm start` builds the server: `tsc -b` of apps/cli and the
 * libraries it uses, incremental (a no-op when nothing changed), so it works right after `npm ci` and never
 * runs code older than the checkout. Where TypeScript is not installed (an image pruned of dev dependencies,
 * like the Dockerfile's, which built everything already) it runs the built CLI as it is. Build output goes to
 * stderr; stdout is the command's alone.
 */
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
const main = join(root, 'apps', 'cli', 'dist', 'main.js');
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
} catch {
  tsc = undefined;
}
if (tsc !== undefined) {
  const build = spawnSync(process.execPath, [tsc, '-b', join(root, 'apps', 'cli')], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (build.status !== 0) {
    process.stderr.write('arbor: the build failed (see above).\n');
    process.exit(1);
  }
} else if (!existsSync(main)) {
  process.stderr.write('arbor: neither a built CLI nor TypeScript to build it: run `npm ci` first.\n');
  process.exit(1);
}
require(main);

#!/usr/bin/env node
'use strict';
/**
 * `npx arbor <command>` (the root package's `bin`). The CLI is TypeScript, like the rest of Arbor; this
 * launcher, plain JavaScript, builds it first, as `npm start` builds the server: `tsc -b` of apps/cli and the
 * libraries it uses, incremental (a no-op when nothing changed), so it works right after `npm ci` and never
 * runs code older than the checkout. Build output goes to stderr; stdout is the command's alone.
 */
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const build = spawnSync(process.execPath, [tsc, '-b', join(root, 'apps', 'cli')], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
if (build.status !== 0) {
  process.stderr.write('arbor: the build failed (see above).\n');
  process.exit(1);
}
require(join(root, 'apps', 'cli', 'dist', 'main.js'));

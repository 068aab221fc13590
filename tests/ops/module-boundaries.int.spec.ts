import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * The layer rules (eslint.config.mjs, `@nx/enforce-module-boundaries` over the tags in each project.json) fail
 * the lint on a deliberate violation. Each probe is a one-line source file linted as if it lived in a project
 * (ESLint's lintText with a filePath: nothing is written to the tree), by the real ESLint and the real config.
 * A control probe (a legal import) keeps the test honest: the Nx rule silently skips itself when no project
 * graph is cached, and the control then still passes while every violation would stop failing.
 */
const ROOT = resolve(__dirname, '../..');
const RULE = '@nx/enforce-module-boundaries';

interface Probe {
  /** Where the probe pretends to live, relative to the workspace root. */
  filePath: string;
  code: string;
}

const PROBES: Record<string, Probe> = {
  'domain imports another project': {
    filePath: 'libs/domain/src/boundary-probe.ts',
    code: "import { parseQueryString } from '@arbor/http';\nexport const probe = parseQueryString;\n",
  },
  'an adapter imports another adapter': {
    filePath: 'libs/kafka/src/boundary-probe.ts',
    code: "import { InProcessBus } from '@arbor/in-process-bus';\nexport const probe = InProcessBus;\n",
  },
  'a lib imports an app': {
    // in-process-bus: no app it could import reaches it back (a cycle is reported as a cycle instead).
    filePath: 'libs/in-process-bus/src/boundary-probe.ts',
    code: "import { startGateway } from '@arbor/gateway';\nexport const probe = startGateway;\n",
  },
  'production code imports libs/testing': {
    filePath: 'libs/postgres/src/boundary-probe.ts',
    code: "import { describeWithEnv } from '@arbor/testing';\nexport const probe = describeWithEnv;\n",
  },
  'control: application imports domain': {
    filePath: 'libs/application/src/boundary-probe.ts',
    code: "import { IamError } from '@arbor/domain';\nexport const probe = IamError;\n",
  },
};

/** Lints every probe in one child process (the config is an ES module) and returns the rule's messages per probe. */
function lintProbes(): Record<string, string[]> {
  const script = `
    import { ESLint } from 'eslint';
    const probes = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = {};
    for (const [name, { filePath, code }] of Object.entries(probes)) {
      const [result] = await eslint.lintText(code, { filePath });
      out[name] = result.messages.filter((m) => m.ruleId === ${JSON.stringify(RULE)} && m.severity === 2).map((m) => m.message);
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(PROBES)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, string[]>;
}

describe('module boundaries (lint)', () => {
  let messages: Record<string, string[]>;

  beforeAll(() => {
    // The rule reads the cached Nx project graph: compute it first (as every `nx lint` does).
    execFileSync(process.execPath, [join(ROOT, 'node_modules/.bin/nx'), 'show', 'projects'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
    messages = lintProbes();
  });

  it('lets a layer import what it may', () => {
    expect(messages['control: application imports domain']).toEqual([]);
  });

  it('fails when domain imports anything else', () => {
    expect(messages['domain imports another project']).toEqual([
      expect.stringContaining('"layer:domain" can only depend on libs tagged with "layer:domain"'),
    ]);
  });

  it('fails when an adapter imports another adapter', () => {
    expect(messages['an adapter imports another adapter']).toEqual([
      expect.stringContaining(
        '"layer:adapter" can only depend on libs tagged with "layer:domain", "layer:application"',
      ),
    ]);
  });

  it('fails when a lib imports an app', () => {
    // Nx refuses any import of a project of type application before the tags are looked at.
    expect(messages['a lib imports an app']).toEqual(['Imports of apps are forbidden']);
  });

  it('keeps libs/testing out of production code', () => {
    expect(messages['production code imports libs/testing']).toEqual([
      expect.stringContaining('"layer:adapter" can only depend on libs tagged with'),
    ]);
  });
});

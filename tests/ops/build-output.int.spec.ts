import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Build output holds no test code: no spec, no `*.test-support.ts`, nothing under a `test-support/` folder
 * (fixtures there carry test credentials). Asked of the compiler itself: `tsc --listFilesOnly` names every
 * source file that `npm run build` (tsc -b tsconfig.build.json) compiles into each project's dist/.
 */
const ROOT = resolve(__dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const TEST_CODE = /(\.spec\.ts$|\.test-support\.ts$|\/test-support\/)/;

/** Every project the build reaches from tsconfig.build.json through its references. */
function buildProjects(): string[] {
  const seen = new Set<string>();
  const visit = (config: string) => {
    const parsed = JSON.parse(readFileSync(config, 'utf8')) as { references?: { path: string }[] };
    for (const ref of parsed.references ?? []) {
      const dir = resolve(dirname(config), ref.path);
      if (seen.has(dir)) continue;
      seen.add(dir);
      visit(join(dir, 'tsconfig.json'));
    }
  };
  visit(join(ROOT, 'tsconfig.build.json'));
  return [...seen].sort();
}

describe('build output', () => {
  const projects = buildProjects();

  it('covers every app and library the build reaches', () => {
    expect(projects.map((dir) => relative(ROOT, dir))).toEqual(
      expect.arrayContaining([
        'apps/standalone',
        'apps/gateway',
        'apps/command-service',
        'apps/projector',
        'libs/application',
        'libs/sqlite',
        'libs/postgres',
      ]),
    );
  });

  it.each(projects.map((dir) => [relative(ROOT, dir), dir]))('%s compiles no test code', (_name, dir) => {
    const listed = execFileSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json'), '--listFilesOnly'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const own = listed.split('\n').filter((file) => file.startsWith(join(dir, 'src') + '/'));
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((file) => TEST_CODE.test(file)).map((file) => relative(ROOT, file))).toEqual([]);
  });
});

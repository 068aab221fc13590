import type { ReadModels } from '@arbor/application';
import type { ReadModelsHarness } from '@arbor/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteReadModels, type SqliteReadModels } from './sqlite-read-models';

/** Read models in a file of a fresh temporary directory for each test, removed after it. */
export function temporaryReadModels(prefix: string): ReadModelsHarness & { reopen(): Promise<ReadModels> } {
  let dir: string | undefined;
  const file = () => path.join(dir!, 'read-models.sqlite');
  return {
    open: async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      return openSqliteReadModels(file());
    },
    reopen: async () => openSqliteReadModels(file()),
    release: async (readModels) => {
      await (readModels as SqliteReadModels).close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

import type { ReadModels } from '@arbor/application';

/** Read models under test: each engine's spec says how to get them empty, and what to do after a test. */
export interface ReadModelsHarness {
  /** Read models over empty storage; called before each test. */
  open(): Promise<ReadModels>;
  /** Called after each test with what `open` returned. */
  release(readModels: ReadModels): Promise<void>;
}

import type { ApiContext } from './api-context';
import { decisionPosition } from './access-evaluation';

/**
 * The position an access answer claims (contract section 9, "Positions"): read from the read models only where the
 * process knows none. An embedded HTTP worker knows the checkpoint its writer last announced (`atLeast`), which
 * trails the read models by at most a message: claimed without a query, except by an explanation, whose events
 * must be at or before the position it names (then the checkpoint is read).
 */
function contextWith(projection: ApiContext['projection'], checkpoint: number, head = 100) {
  const reads: string[] = [];
  const ctx = {
    projection,
    readModels: {
      checkpoint: async () => {
        reads.push('checkpoint');
        return checkpoint;
      },
    },
    eventStore: {
      headPosition: async () => {
        reads.push('head');
        return head;
      },
    },
  } as unknown as ApiContext;
  return { ctx, reads };
}

const waitFor = async () => undefined;

it('claims the position the process knows (the embedded projector) without a query', async () => {
  const { ctx, reads } = contextWith({ waitFor, position: 42, atLeast: 40 }, 41);
  await expect(decisionPosition(ctx, undefined)).resolves.toBe(42);
  await expect(decisionPosition(ctx, undefined, undefined, true)).resolves.toBe(42);
  expect(reads).toEqual([]);
});

it("claims an embedded worker's last word from its writer without a query, unless the claim must be exact", async () => {
  const { ctx, reads } = contextWith({ waitFor, atLeast: 40 }, 43);
  await expect(decisionPosition(ctx, undefined)).resolves.toBe(40);
  expect(reads).toEqual([]);
  await expect(decisionPosition(ctx, undefined, undefined, true)).resolves.toBe(43);
  expect(reads).toEqual(['checkpoint']);
});

it('reads the checkpoint where the process knows nothing (a gateway)', async () => {
  const { ctx, reads } = contextWith({ waitFor }, 43);
  await expect(decisionPosition(ctx, undefined)).resolves.toBe(43);
  expect(reads).toEqual(['checkpoint']);
});

it('after a min_position wait, claims at least that position', async () => {
  let heard = 40;
  const projection = {
    waitFor: async (position: number) => {
      heard = Math.max(heard, position);
    },
    get atLeast() {
      return heard;
    },
  };
  const { ctx, reads } = contextWith(projection, 50);
  await expect(decisionPosition(ctx, 45)).resolves.toBe(45);
  expect(reads).toEqual(['head']);
});

it("answers a min_position its worker already heard of without reading the log's head or waiting", async () => {
  let waited = 0;
  const projection = {
    waitFor: async () => {
      waited++;
    },
    atLeast: 40,
  };
  const { ctx, reads } = contextWith(projection, 50);
  await expect(decisionPosition(ctx, 40)).resolves.toBe(40);
  await expect(decisionPosition(ctx, 12)).resolves.toBe(40);
  expect([reads, waited]).toEqual([[], 0]);
});

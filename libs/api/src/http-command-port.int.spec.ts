import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command, CommandContext } from '@arbor/application';
import { HttpCommandPort } from './internal-command-api';

/**
 * What a gateway tells its caller when the command service fails the exchange (contract section 1, 503): a
 * connection never made means the write was not applied; an exchange that broke or timed out may have been applied
 * (or may still be), so only the same Idempotency-Key makes a retry safe.
 */
const command = { type: 'createOrg', name: 'Unsent' } as unknown as Command;
const context = { principal: { type: 'user', id: 'usr_1', accessToken: 'a.b.c' } } as unknown as CommandContext;

const listening = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

describe('HttpCommandPort, when the command service fails the exchange', () => {
  it('says a write was not applied when no connection could be made', async () => {
    const closed = createServer();
    const port = await listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    const refused = new HttpCommandPort({ baseUrl: `http://127.0.0.1:${port}` }).execute(command, context);
    await expect(refused).rejects.toMatchObject({
      code: 'IAM_ERR_UNAVAILABLE',
      message: expect.stringContaining('not applied'),
      retryAfterSeconds: 1,
    });
  });

  it('says a write may have been applied when the request was sent and no answer came', async () => {
    const silent = createServer(() => undefined);
    const port = await listening(silent);
    try {
      const timedOut = new HttpCommandPort({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 }).execute(
        command,
        context,
      );
      await expect(timedOut).rejects.toMatchObject({
        code: 'IAM_ERR_UNAVAILABLE',
        message: expect.stringMatching(/may have been applied.*same Idempotency-Key/),
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

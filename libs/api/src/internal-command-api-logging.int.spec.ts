import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@arbor/application';
import { internalCommandRouter } from './internal-command-api';

/**
 * Commands carry passwords and client secrets. A body the command service's JSON parser refuses must not
 * bring them into a log line or an answer: the parser's message quotes the body.
 */
describe('the internal command API with a body it cannot parse', () => {
  it('answers 400 without logging or echoing any of the body', async () => {
    const lines: string[] = [];
    const record = (message: string, fields?: Record<string, unknown>) =>
      void lines.push(JSON.stringify({ message, fields }));
    const log: Logger = { info: record, warn: record, error: record };
    const app = express();
    app.use(
      internalCommandRouter(
        { execute: async () => ({ kind: 'applied', events: [], position: 0 }) },
        {
          log,
          authenticate: async () => {
            throw new Error('not reached');
          },
        },
      ),
    );
    const written: string[] = [];
    const spies = [
      jest
        .spyOn(console, 'error')
        .mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(' '))),
      jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (written.push(String(chunk)), true)),
    ];
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/v1/commands`;
      const bodies = [
        '{"command":{"type":"AddUserToOrg","newUser":{"password":hunter2-cobalt-secret}}}',
        '{"password":"hunter2-cobalt-secret"',
        'hunter2-cobalt-secret',
      ];
      for (const body of bodies) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await res.text();
        expect([res.status, JSON.parse(text).code]).toEqual([400, 'IAM_ERR_VALIDATION']);
        expect(text).not.toContain('hunter2');
      }
      // Express's default handler logs on the next turn: let it.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      server.close();
      for (const spy of spies) spy.mockRestore();
    }
    expect([...lines, ...written].filter((line) => line.includes('hunter2'))).toEqual([]);
  });
});

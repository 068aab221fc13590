import { jsonLogger } from './logger';

/** What the logger writes to stdout and stderr while `run` runs, one parsed JSON object per line. */
function capture(run: () => void): { out: Record<string, unknown>[]; err: Record<string, unknown>[] } {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (out.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (err.push(String(chunk)), true)),
  ];
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const parse = (chunks: string[]) =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  return { out: parse(out), err: parse(err) };
}

describe('jsonLogger', () => {
  it('writes one JSON line per entry: info on stdout, warn and error on stderr, with level, time, base and fields', () => {
    const { out, err } = capture(() => {
      const log = jsonLogger({ app: 'test' });
      log.info('started', { port: 8080 });
      log.warn('slow', { ms: 5 });
      log.error('failed', { error: 'boom' });
    });
    expect(out).toEqual([
      { level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), app: 'test', port: 8080, message: 'started' },
    ]);
    expect(err.map((line) => [line.level, line.message, line.app])).toEqual([
      ['warn', 'slow', 'test'],
      ['error', 'failed', 'test'],
    ]);
  });

  it('drops entries below the minimum level, and everything when silent', () => {
    const warnOnly = capture(() => {
      const log = jsonLogger({}, 'warn');
      log.info('dropped');
      log.warn('kept');
    });
    expect([warnOnly.out, warnOnly.err.map((line) => line.message)]).toEqual([[], ['kept']]);
    const silent = capture(() => jsonLogger({}, 'silent').error('dropped'));
    expect([silent.out, silent.err]).toEqual([[], []]);
  });

  it('redacts passwords, client secrets, tokens and authorization headers a caller passes by mistake', () => {
    const secrets = {
      password: 'pw-1',
      newPassword: 'pw-2',
      clientSecret: 'cs-1',
      client_secret: 'cs-2',
      refresh_token: 'rt-1',
      refreshToken: 'rt-2',
      access_token: 'at-1',
      internalToken: 'it-1',
      authorization: 'Bearer at-2',
    };
    const { out } = capture(() =>
      jsonLogger().info('oops', {
        ...secrets,
        request: { headers: { authorization: 'Basic x' }, password: 'pw-3' },
        kept: 'visible',
      }),
    );
    const line = JSON.stringify(out);
    for (const value of [...Object.values(secrets), 'Basic x', 'pw-3']) expect(line).not.toContain(value);
    expect(out[0]).toMatchObject({
      password: '[redacted]',
      kept: 'visible',
      request: { password: '[redacted]', headers: { authorization: '[redacted]' } },
    });
  });
});

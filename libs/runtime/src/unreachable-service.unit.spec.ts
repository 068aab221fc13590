import { connect } from 'node:net';
import { Client } from 'pg';
import { startFailureMessage } from './shutdown';

/** A start that failed on a service nobody runs names the variable that points there, never its value. */
describe('startFailureMessage', () => {
  const refused = (port: number) => new Promise<Error>((resolve) => connect(port, '127.0.0.1').once('error', resolve));

  it('names DATABASE_URL for PostgreSQL that does not answer, without quoting the URL', async () => {
    const url = 'postgres://arbor:S3cret@127.0.0.1:1/arbor';
    const error = await new Client({ connectionString: url }).connect().then(
      () => new Error('connected?'),
      (e: Error) => e,
    );
    const message = startFailureMessage('gateway failed to start', error, {
      DATABASE_URL: url,
      KAFKA_BROKERS: 'k:9092',
    });
    expect(message).toBe(
      'gateway failed to start: connect ECONNREFUSED 127.0.0.1:1 (nothing answers at 127.0.0.1:1, which DATABASE_URL names)',
    );
    expect(message).not.toContain('S3cret');
  });

  it('names every variable that points there (localhost is the loopback address), and KAFKA_BROKERS by its list', async () => {
    const error = await refused(1);
    const env = {
      DATABASE_URL: 'postgres://db:5432/x',
      KAFKA_BROKERS: 'broker:9092, localhost:1',
      COMMAND_SERVICE_URL: 'http://127.0.0.1:1',
    };
    expect(startFailureMessage('p', error, env)).toBe(
      'p: connect ECONNREFUSED 127.0.0.1:1 (nothing answers at 127.0.0.1:1, which KAFKA_BROKERS and COMMAND_SERVICE_URL name)',
    );
  });

  it('adds nothing to another error, or to an address no variable names', async () => {
    expect(startFailureMessage('p', new Error('PORT must be ...'), { DATABASE_URL: 'postgres://127.0.0.1:1/x' })).toBe(
      'p: PORT must be ...',
    );
    expect(startFailureMessage('p', await refused(1), { DATABASE_URL: 'postgres://127.0.0.1:5432/x' })).toBe(
      'p: connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  it('names a variable whose host name may have resolved there, by the port, when none names the address', async () => {
    const env = { DATABASE_URL: 'postgres://u:S3cret@db.internal:1/x', KAFKA_BROKERS: 'kafka.internal:9092' };
    const message = startFailureMessage('p', await refused(1), env);
    expect(message).toBe(
      'p: connect ECONNREFUSED 127.0.0.1:1 (nothing answers at 127.0.0.1:1, the port DATABASE_URL names; its host name may resolve there)',
    );
    expect(message).not.toContain('S3cret');
    // An IP address elsewhere on that port is not that host.
    expect(startFailureMessage('p', await refused(1), { DATABASE_URL: 'postgres://10.1.2.3:1/x' })).toBe(
      'p: connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});

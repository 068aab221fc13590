import { oauthErrorOf } from '@arbor/http';
import { mapError } from './problem-mapping';

/**
 * A store that cannot take a write right now (a full disk, a database out of resources) is the server's
 * temporary condition, not a fault: 503 with Retry-After (RFC 9110 section 15.6.4), which the OAuth endpoints
 * render as RFC 6749 `temporarily_unavailable`.
 */
const engineError = (code: string, message = 'engine error') => Object.assign(new Error(message), { code });

describe('storage that cannot take a write', () => {
  it.each([
    ['SQLite: database or disk is full', engineError('SQLITE_FULL', 'database or disk is full')],
    ['SQLite: disk I/O error on write', engineError('SQLITE_IOERR_WRITE', 'disk I/O error')],
    ['SQLite: disk I/O error on fsync', engineError('SQLITE_IOERR_FSYNC', 'disk I/O error')],
    ['PostgreSQL 53100 disk_full', engineError('53100', 'could not extend file')],
    ['PostgreSQL 53200 out_of_memory', engineError('53200')],
    ['PostgreSQL 53300 too_many_connections', engineError('53300')],
    ['the OS: no space left on device', engineError('ENOSPC', 'no space left on device')],
  ])('%s is a 503 with Retry-After, temporarily_unavailable on the OAuth endpoints', (_what, error) => {
    const problem = mapError(error);
    expect(problem.status).toBe(503);
    expect(problem.code).toBe('IAM_ERR_UNAVAILABLE');
    expect(problem.headers?.['Retry-After']).toMatch(/^\d+$/);
    // Nothing of the engine's message reaches the client.
    expect(problem.detail).not.toContain((error as Error).message);
    expect(oauthErrorOf(problem).error).toBe('temporarily_unavailable');
  });

  it('anything else unexpected stays a bland 500', () => {
    expect(mapError(engineError('SQLITE_CONSTRAINT_UNIQUE')).status).toBe(500);
    expect(mapError(new TypeError('x is undefined')).status).toBe(500);
  });
});

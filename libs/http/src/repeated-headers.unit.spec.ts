import { repeatedSingletonHeader } from './repeated-headers';

describe('repeatedSingletonHeader', () => {
  it('names a repeated Authorization, Content-Type or Idempotency-Key, whatever the case of each line', () => {
    expect(repeatedSingletonHeader(['Authorization', 'Basic a', 'host', 'x', 'authorization', 'Basic b'])).toBe(
      'authorization',
    );
    expect(repeatedSingletonHeader(['content-type', 'application/json', 'CONTENT-TYPE', 'text/plain'])).toBe(
      'content-type',
    );
    expect(repeatedSingletonHeader(['Idempotency-Key', 'k1', 'idempotency-key', 'k1'])).toBe('idempotency-key');
  });

  it('lets each of them come once, and lists and other fields repeat', () => {
    expect(
      repeatedSingletonHeader([
        'Authorization',
        'Bearer t',
        'Content-Type',
        'application/json',
        'Idempotency-Key',
        'k',
        'If-Match',
        '"a"',
        'if-match',
        '"b"',
        'Accept',
        'a/b',
        'accept',
        'c/d',
        'x-authorization',
        '1',
        'X-Authorization',
        '2',
        'content-types',
        '1',
        'content-types',
        '2',
      ]),
    ).toBeUndefined();
    expect(repeatedSingletonHeader([])).toBeUndefined();
  });
});

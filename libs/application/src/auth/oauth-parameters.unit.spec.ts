import { readClientCredentials } from './client-authentication';
import { grantScope, parseScopeParameter } from './scope-parameter';
import { TokenAudiences, tokenAudiencesFromEnv } from './token-audiences';
import { callerOfPrincipal, ownsAccessToken, ownsRefreshToken, PUBLIC_CALLER } from './token-caller';

/** The pure rules behind the token endpoints' parameters (contract section 3). */

describe('parseScopeParameter (RFC 6749 section 3.3)', () => {
  it('takes absent as "the default" and single-space-separated tokens, without repeats', () => {
    expect(parseScopeParameter(undefined)).toEqual({ ok: true, value: undefined });
    expect(parseScopeParameter('orgs:read')).toEqual({ ok: true, value: ['orgs:read'] });
    expect(parseScopeParameter('orgs:read users:read orgs:read')).toEqual({
      ok: true,
      value: ['orgs:read', 'users:read'],
    });
    expect(parseScopeParameter('!#[]~')).toEqual({ ok: true, value: ['!#[]~'] });
  });

  it.each(['', ' ', '  ', ' a', 'a ', 'a  b', 'a\tb', 'a\nb', 'a"b', 'a\\b', 'é', 'a\u00a0b'])(
    'refuses %j',
    (scope) => {
      expect(parseScopeParameter(scope).ok).toBe(false);
    },
  );

  it('refuses what is not a string', () => {
    for (const scope of [null, 7, ['orgs:read'], {}]) expect(parseScopeParameter(scope).ok).toBe(false);
  });
});

describe('grantScope', () => {
  it('grants everything allowed by default, a requested subset as asked, and nothing beyond', () => {
    expect(grantScope(undefined, ['a', 'b'])).toEqual({ ok: true, value: ['a', 'b'] });
    expect(grantScope(['b'], ['a', 'b'])).toEqual({ ok: true, value: ['b'] });
    expect(grantScope(['b', 'c'], ['a', 'b'])).toEqual({ ok: false, description: 'Scope not allowed: c.' });
  });
});

describe('TokenAudiences (RFC 8707)', () => {
  const audiences = new TokenAudiences('https://iam.test/api/v1', ['https://orders.test', 'urn:example:billing']);

  it('selects Arbor by default, and the known resources asked for, once each', () => {
    expect(audiences.select(undefined)).toEqual({ ok: true, value: ['https://iam.test/api/v1'] });
    expect(audiences.select('https://orders.test')).toEqual({ ok: true, value: ['https://orders.test'] });
    expect(audiences.select(['urn:example:billing', 'https://orders.test', 'urn:example:billing'])).toEqual({
      ok: true,
      value: ['urn:example:billing', 'https://orders.test'],
    });
  });

  it.each(['https://unknown.test', 'https://orders.test/', 'orders', '', 'https://orders.test#x', '/api/v1'])(
    'refuses %j',
    (resource) => {
      expect(audiences.select(resource).ok).toBe(false);
      expect(audiences.select(['https://orders.test', resource]).ok).toBe(false);
    },
  );

  it('reads IAM_AUDIENCE and IAM_RESOURCES, and refuses configured values that are no absolute URIs', () => {
    const fromEnv = tokenAudiencesFromEnv({ IAM_RESOURCES: ' https://a.test , urn:x:y,' }, 'https://iam.test');
    expect([fromEnv.own, fromEnv.others]).toEqual(['https://iam.test/api/v1', ['https://a.test', 'urn:x:y']]);
    expect(tokenAudiencesFromEnv({ IAM_AUDIENCE: 'https://api.test' }, 'https://iam.test').own).toBe(
      'https://api.test',
    );
    expect(() => tokenAudiencesFromEnv({ IAM_RESOURCES: 'orders' }, 'https://iam.test')).toThrow('IAM_RESOURCES');
    expect(() => tokenAudiencesFromEnv({ IAM_AUDIENCE: 'https://api.test#frag' }, 'https://iam.test')).toThrow(
      'IAM_AUDIENCE',
    );
  });
});

describe('readClientCredentials (RFC 6749 section 2.3.1)', () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  it('tells Basic, body, public and no client apart', () => {
    expect(readClientCredentials(basic('cli_a', 's'), {})).toEqual({
      kind: 'basic',
      clientId: 'cli_a',
      clientSecret: 's',
    });
    expect(readClientCredentials(basic('cli_a', 's'), { client_id: 'cli_a' })).toEqual({
      kind: 'basic',
      clientId: 'cli_a',
      clientSecret: 's',
    });
    expect(readClientCredentials(undefined, { client_id: 'cli_a', client_secret: 's' })).toEqual({
      kind: 'post',
      clientId: 'cli_a',
      clientSecret: 's',
    });
    expect(readClientCredentials(undefined, { client_id: 'arbor-first-party' })).toEqual({
      kind: 'public',
      clientId: 'arbor-first-party',
    });
    expect(readClientCredentials(undefined, {})).toEqual({ kind: 'none' });
  });

  it('refuses Basic naming one client and the body another, two methods, and half a body pair', () => {
    expect(readClientCredentials(basic('cli_a', 's'), { client_id: 'cli_b' }).kind).toBe('invalid');
    expect(readClientCredentials(basic('cli_a', 's'), { client_secret: 's' }).kind).toBe('invalid');
    expect(readClientCredentials(undefined, { client_secret: 's' }).kind).toBe('invalid');
    expect(readClientCredentials(undefined, { client_id: '' }).kind).toBe('invalid');
  });
});

describe('token ownership (RFC 7009 section 2.1)', () => {
  const userToken = { sub: 'usr_1', client_id: 'arbor-first-party' } as never;
  const clientToken = { sub: 'cli_1', client_id: 'cli_1' } as never;
  const refresh = { subject: 'usr_1' } as never;
  const user = (id: string) =>
    callerOfPrincipal({ type: 'user', id, platformAdmin: false, scopes: new Set(), tokenId: 'j' });
  const client = (clientId: string) =>
    callerOfPrincipal({ type: 'client', id: 'cc', clientId, orgId: 'org', scopes: new Set(), tokenId: 'j' });

  it('gives users their own tokens, clients theirs, the public client every refresh token', () => {
    expect([
      ownsAccessToken(user('usr_1'), userToken),
      ownsAccessToken(user('usr_2'), userToken),
      ownsAccessToken(client('cli_1'), userToken),
    ]).toEqual([true, false, false]);
    expect([
      ownsAccessToken(client('cli_1'), clientToken),
      ownsAccessToken(client('cli_2'), clientToken),
      ownsAccessToken(user('cli_1'), clientToken),
    ]).toEqual([true, false, false]);
    expect([
      ownsRefreshToken(user('usr_1'), refresh),
      ownsRefreshToken(user('usr_2'), refresh),
      ownsRefreshToken(PUBLIC_CALLER, refresh),
    ]).toEqual([true, false, true]);
  });

  it('lets only platform admins with the scope introspect or revoke any token', () => {
    const admin = (scopes: string[]) =>
      callerOfPrincipal({
        type: 'user',
        id: 'usr_0',
        platformAdmin: true,
        scopes: new Set(scopes as never[]),
        tokenId: 'j',
      });
    expect(admin(['tokens:introspect', 'users:write'])).toMatchObject({ introspectsAny: true, revokesAny: true });
    expect(admin(['orgs:read'])).toMatchObject({ introspectsAny: false, revokesAny: false });
    const member = callerOfPrincipal({
      type: 'user',
      id: 'usr_1',
      platformAdmin: false,
      scopes: new Set(['tokens:introspect', 'users:write'] as never[]),
      tokenId: 'j',
    });
    expect(member).toMatchObject({ introspectsAny: false, revokesAny: false });
  });
});

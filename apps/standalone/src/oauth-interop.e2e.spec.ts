import { createPublicKey } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import * as oauth from 'oauth4webapi';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ARBOR_AUDIENCE,
  OTHER_RESOURCE,
  createOrg,
  startTestApp,
  type TestApp,
} from './test-support/test-app';

/**
 * Interoperability with an independent, strict OAuth 2.0 client library (oauth4webapi 3.x) and JWT library
 * (jose): discovery through RFC 8414 metadata, the client_credentials grant with client_secret_basic and
 * client_secret_post, RFC 7662 introspection and RFC 7009 revocation, then RFC 9068 access-token checks by
 * three unchanged libraries (jose, oauth4webapi's resource-server side, jsonwebtoken), audience included.
 */

const ISSUER = 'http://arbor.test';
// oauth4webapi refuses plain http unless told otherwise; the test server listens on http://127.0.0.1.
const http = { [oauth.allowInsecureRequests]: true } as const;

let app: TestApp;
let as: oauth.AuthorizationServer;
let orgId: string;
let client: oauth.Client;
let clientSecret: string;
/** A resource server: a client holding tokens:introspect, so introspection answers it about any token. */
let resourceServer: oauth.Client;
let resourceServerSecret: string;
/** The metadata with the key set's URL pointed at the test server too, for oauth4webapi's resource-server side. */
let asLocalJwks: oauth.AuthorizationServer;

beforeAll(async () => {
  app = await startTestApp();
  // Discovery: the harness's issuer is http://arbor.test, a public name that does not resolve here, so
  // oauth.discoveryRequest(issuer) cannot reach it. Fetch the RFC 8414 document from where the server really
  // listens and let oauth4webapi validate it (including that its `issuer` is the one we expect).
  const discovered = await oauth.processDiscoveryResponse(
    new URL(ISSUER),
    await fetch(`${app.url}/.well-known/oauth-authorization-server`),
  );
  // The endpoints in the metadata name the public issuer's host too; point them at the test server, keeping
  // their paths, so that every request below still follows the URLs the server published.
  const local = (endpoint: string | undefined) => {
    if (!endpoint) throw new Error('endpoint missing from the metadata');
    const url = new URL(endpoint);
    expect(url.origin).toBe(ISSUER);
    return new URL(url.pathname + url.search, app.url).href;
  };
  as = {
    ...discovered,
    token_endpoint: local(discovered.token_endpoint),
    introspection_endpoint: local(discovered.introspection_endpoint),
    revocation_endpoint: local(discovered.revocation_endpoint),
  };
  asLocalJwks = { ...as, jwks_uri: local(discovered.jwks_uri) };

  orgId = (await createOrg(app, 'Interop')).id;
  const created = await app.call('POST', '/api/v1/oauth2/client-credentials', {
    body: { name: 'interop', orgId, scopes: ['orgs:read', 'events:read'] },
  });
  expect(created.status).toBe(201);
  client = { client_id: created.body.clientId };
  clientSecret = created.body.clientSecret;
  const rs = await app.call('POST', '/api/v1/oauth2/client-credentials', {
    body: { name: 'interop rs', orgId, scopes: ['tokens:introspect'] },
  });
  expect(rs.status).toBe(201);
  resourceServer = { client_id: rs.body.clientId };
  resourceServerSecret = rs.body.clientSecret;
});
afterAll(() => app.close());

const jwks = () => createRemoteJWKSet(new URL('/.well-known/jwks.json', app.url));

async function clientCredentials(
  auth: oauth.ClientAuth,
  scope?: string,
  resource?: string,
): Promise<oauth.TokenEndpointResponse> {
  const parameters: Record<string, string> = {};
  if (scope) parameters.scope = scope;
  if (resource) parameters.resource = resource;
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, parameters, http);
  return oauth.processClientCredentialsResponse(as, client, response);
}

async function introspect(
  token: string,
  auth: oauth.ClientAuth = oauth.ClientSecretBasic(clientSecret),
  caller: oauth.Client = client,
): Promise<oauth.IntrospectionResponse> {
  const response = await oauth.introspectionRequest(as, caller, auth, token, http);
  return oauth.processIntrospectionResponse(as, caller, response);
}

/** Introspection as the resource server, which may ask about any token. */
const introspectAsResourceServer = (
  token: string,
  auth: oauth.ClientAuth = oauth.ClientSecretBasic(resourceServerSecret),
) => introspect(token, auth, resourceServer);

describe('RFC 8414 discovery through oauth4webapi', () => {
  it('validates the metadata and advertises what the client uses', () => {
    expect(as.issuer).toBe(ISSUER);
    expect(as.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'refresh_token', 'password']),
    );
    expect(as.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(as.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
  });
});

describe.each([
  ['client_secret_basic', () => oauth.ClientSecretBasic(clientSecret)],
  ['client_secret_post', () => oauth.ClientSecretPost(clientSecret)],
])('client_credentials with %s', (_method, auth) => {
  it('issues an RFC 9068 access token that jose verifies against the JWKS, with the client claims', async () => {
    const tokens = await clientCredentials(auth());
    expect(tokens.token_type).toBe('bearer'); // oauth4webapi lower-cases it
    expect(tokens.expires_in).toBe(900);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope!.split(' ').sort()).toEqual(['events:read', 'orgs:read']);

    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks(), {
      issuer: ISSUER,
      typ: 'at+jwt',
    });
    expect(['ES256', 'EdDSA']).toContain(protectedHeader.alg);
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      sub: client.client_id,
      client_id: client.client_id,
      org_id: orgId,
      scope: tokens.scope,
      jti: expect.any(String),
    });
    expect(payload.exp! - payload.iat!).toBe(900);

    // The token works on the API, within the client's organization.
    expect((await app.call('GET', `/api/v1/orgs/${orgId}`, { token: tokens.access_token })).status).toBe(200);
  });

  it('narrows the scope on request', async () => {
    const tokens = await clientCredentials(auth(), 'orgs:read');
    expect(tokens.scope).toBe('orgs:read');
    const { payload } = await jwtVerify(tokens.access_token, jwks(), { issuer: ISSUER, typ: 'at+jwt' });
    expect(payload.scope).toBe('orgs:read');
  });

  it('introspects its token and sees it inactive after revocation', async () => {
    const tokens = await clientCredentials(auth());
    const active = await introspect(tokens.access_token, auth());
    expect(active).toMatchObject({
      active: true,
      sub: client.client_id,
      client_id: client.client_id,
      org_id: orgId,
      iss: ISSUER,
      scope: tokens.scope,
    });
    expect(active.exp! - active.iat!).toBe(900);

    const revoked = await oauth.revocationRequest(as, client, auth(), tokens.access_token, http);
    await expect(oauth.processRevocationResponse(revoked)).resolves.toBeUndefined();
    expect(await introspect(tokens.access_token, auth())).toEqual({ active: false });
    expect((await app.call('GET', `/api/v1/orgs/${orgId}`, { token: tokens.access_token })).status).toBe(401);
  });
});

describe('errors as oauth4webapi sees them', () => {
  it('reports a wrong secret sent in the body as an invalid_client response body error', async () => {
    const other = await app.call('POST', '/api/v1/oauth2/client-credentials', {
      body: { name: 'wrong post', orgId, scopes: ['orgs:read'] },
    });
    const otherClient = { client_id: other.body.clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      otherClient,
      oauth.ClientSecretPost('wrong'),
      {},
      http,
    );
    const error = await oauth.processClientCredentialsResponse(as, otherClient, response).catch((e) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('reports a wrong Basic secret as a Basic authentication challenge', async () => {
    const other = await app.call('POST', '/api/v1/oauth2/client-credentials', {
      body: { name: 'wrong basic', orgId, scopes: ['orgs:read'] },
    });
    const otherClient = { client_id: other.body.clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      otherClient,
      oauth.ClientSecretBasic('wrong'),
      {},
      http,
    );
    const error = await oauth.processClientCredentialsResponse(as, otherClient, response).catch((e) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(error.status).toBe(401);
    expect(error.cause.map((c: oauth.WWWAuthenticateChallenge) => c.scheme)).toContain('basic');
  });

  it('reports a scope beyond the client as invalid_scope', async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(clientSecret),
      { scope: 'orgs:write' },
      http,
    );
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_scope' });
  });
});

describe('user grants through oauth4webapi', () => {
  // The documented first-party public client: oauth4webapi's None() sends its client_id in the body.
  const cli: oauth.Client = { client_id: 'arbor-first-party' };

  it('logs in with the password grant, refreshes with rotation and introspects the refresh token', async () => {
    const login = await oauth.genericTokenEndpointRequest(
      as,
      cli,
      oauth.None(),
      'password',
      { username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      http,
    );
    const first = await oauth.processGenericTokenEndpointResponse(as, cli, login);
    expect(first.refresh_token).toEqual(expect.any(String));
    const { payload } = await jwtVerify(first.access_token, jwks(), {
      issuer: ISSUER,
      typ: 'at+jwt',
      audience: ARBOR_AUDIENCE,
    });
    expect(payload.client_id).toBe('arbor-first-party');

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      cli,
      await oauth.refreshTokenGrantRequest(as, cli, oauth.None(), first.refresh_token!, http),
    );
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    await jwtVerify(refreshed.access_token, jwks(), { issuer: ISSUER, typ: 'at+jwt' });

    expect(await introspectAsResourceServer(refreshed.refresh_token!)).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      iss: ISSUER,
    });
    expect(
      await introspectAsResourceServer(first.refresh_token!, oauth.ClientSecretPost(resourceServerSecret)),
    ).toEqual({ active: false });

    const reused = await oauth.refreshTokenGrantRequest(as, cli, oauth.None(), first.refresh_token!, http);
    const error = await oauth.processRefreshTokenResponse(as, cli, reused).catch((e) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await introspectAsResourceServer(refreshed.refresh_token!)).toEqual({ active: false });
  });
});

describe('RFC 9068 access tokens as three unchanged JWT libraries see them', () => {
  const userToken = async () => {
    const res = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      body: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const clientToken = async (resource?: string) =>
    (await clientCredentials(oauth.ClientSecretBasic(clientSecret), undefined, resource)).access_token;

  /** jsonwebtoken takes a key, not a key set: the JWKS entry named by the token's kid. */
  const publicKeyOf = async (token: string) => {
    const { kid } = decodeProtectedHeader(token);
    const { keys } = (await app.call('GET', '/.well-known/jwks.json', { token: null })).body;
    return createPublicKey({ key: keys.find((k: { kid: string }) => k.kid === kid), format: 'jwk' });
  };

  it.each([
    ['a user token', userToken, 'arbor-first-party'],
    ['a client token', clientToken, undefined],
  ])(
    '%s verifies with jose, oauth4webapi and jsonwebtoken for Arbor’s audience',
    async (_kind, issue, expectedClientId) => {
      const token = await issue();
      const { payload } = await jwtVerify(token, jwks(), {
        issuer: ISSUER,
        audience: ARBOR_AUDIENCE,
        typ: 'at+jwt',
        requiredClaims: ['iss', 'exp', 'aud', 'sub', 'iat', 'jti', 'client_id'],
      });
      expect(payload.client_id).toBe(expectedClientId ?? client.client_id);

      const request = new Request(`${app.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
      const claims = await oauth.validateJwtAccessToken(asLocalJwks, request, ARBOR_AUDIENCE, http);
      expect(claims).toMatchObject({
        iss: ISSUER,
        aud: ARBOR_AUDIENCE,
        client_id: payload.client_id,
        sub: payload.sub,
      });

      const verified = jsonwebtoken.verify(token, await publicKeyOf(token), {
        audience: ARBOR_AUDIENCE,
        issuer: ISSUER,
        algorithms: ['ES256'],
      });
      expect(verified).toMatchObject({ aud: ARBOR_AUDIENCE, client_id: payload.client_id });
    },
  );

  it('issues a token for another resource that the libraries accept for that audience only, and Arbor’s API refuses with 401', async () => {
    const token = await clientToken(OTHER_RESOURCE);
    await expect(
      jwtVerify(token, jwks(), { issuer: ISSUER, audience: OTHER_RESOURCE, typ: 'at+jwt' }),
    ).resolves.toBeDefined();
    await expect(jwtVerify(token, jwks(), { issuer: ISSUER, audience: ARBOR_AUDIENCE, typ: 'at+jwt' })).rejects.toThrow(
      /aud/,
    );
    const request = new Request(`${app.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
    await expect(oauth.validateJwtAccessToken(asLocalJwks, request, ARBOR_AUDIENCE, http)).rejects.toThrow(/aud/);
    const key = await publicKeyOf(token);
    expect(jsonwebtoken.verify(token, key, { audience: OTHER_RESOURCE, algorithms: ['ES256'] })).toMatchObject({
      aud: OTHER_RESOURCE,
    });
    expect(() => jsonwebtoken.verify(token, key, { audience: ARBOR_AUDIENCE, algorithms: ['ES256'] })).toThrow(
      /audience/,
    );
    expect((await app.call('GET', `/api/v1/orgs/${orgId}`, { token })).status).toBe(401);
  });
});

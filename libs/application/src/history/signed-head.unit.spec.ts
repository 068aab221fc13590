import jwt from 'jsonwebtoken';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningKeyRing } from '../security/signing-key-ring';
import { CHAIN_GENESIS } from './event-chain';
import { signLogHead, SignedHeadError, SIGNED_HEAD_TYP, verifySignedHead } from './signed-head';

describe('signed heads of the event log', () => {
  let dirs: string[] = [];
  const ring = () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
    dirs.push(dir);
    return SigningKeyRing.loadOrCreate(dir);
  };
  afterEach(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });
  const head = { position: 42, hash: Buffer.alloc(32, 1) };

  it('verifies with the JWKS alone and answers the claims signed', () => {
    const keys = ring();
    const jws = signLogHead(keys, 'https://iam.example', head, 40);
    expect(jwt.decode(jws, { complete: true })?.header).toEqual({
      alg: 'ES256',
      typ: SIGNED_HEAD_TYP,
      kid: keys.current.kid,
    });
    expect(verifySignedHead(jws, keys.jwks(), { issuer: 'https://iam.example' })).toEqual({
      iss: 'https://iam.example',
      iat: expect.any(Number),
      position: 42,
      hash: Buffer.alloc(32, 1).toString('base64url'),
      events: 40,
    });
  });

  it('refuses another issuer, another key set, a changed claim, another typ and missing claims', () => {
    const keys = ring();
    const jws = signLogHead(keys, 'https://iam.example', { position: 0, hash: CHAIN_GENESIS }, 0);
    const refused =
      (token: string, jwks: object = keys.jwks()) =>
      () =>
        verifySignedHead(token, jwks, { issuer: 'https://iam.example' });
    expect(refused(jws, ring().jwks())).toThrow(SignedHeadError);
    expect(() => verifySignedHead(jws, keys.jwks(), { issuer: 'https://other.example' })).toThrow('does not verify');
    const [h, , s] = jws.split('.');
    const more = Buffer.from(JSON.stringify({ iss: 'https://iam.example', position: 99 })).toString('base64url');
    expect(refused(`${h}.${more}.${s}`)).toThrow('does not verify');
    const key = keys.current;
    const token = jwt.sign({ iss: 'https://iam.example' }, key.privateKey, {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid },
    });
    expect(refused(token)).toThrow('typ is at+jwt');
    const bare = jwt.sign({ iss: 'https://iam.example', position: 1 }, key.privateKey, {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: SIGNED_HEAD_TYP, kid: key.kid },
    });
    expect(refused(bare)).toThrow('lacks');
    expect(refused('not a jws')).toThrow('not a JWS');
  });
});

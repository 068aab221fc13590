// The reference the targets were set against: what plain express 5 does on this machine with no
// database, no validation and no auth beyond one hash. `GET /empty` answers {}; `POST /token` is a minimal
// client_credentials grant (HTTP Basic, SHA-256 of the secret, an ES256 JWT signed with a KeyObject parsed
// once). Run by bench/run.mjs as its own process, like the server. Not Arbor code: only a yardstick.
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const express = require('express');

const app = express();
const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const secretHash = crypto
  .createHash('sha256')
  .update(process.env.REFERENCE_SECRET ?? 'reference-secret')
  .digest();
const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'reference' })).toString('base64url');

app.get('/readyz', (_req, res) => {
  res.json({ status: 'ready' });
});
app.get('/empty', (_req, res) => {
  res.json({});
});
app.post('/token', (req, res) => {
  req.resume();
  const [id, secret = ''] = Buffer.from((req.headers.authorization ?? '').slice('Basic '.length), 'base64')
    .toString()
    .split(':');
  const given = crypto.createHash('sha256').update(secret).digest();
  if (!crypto.timingSafeEqual(given, secretHash)) {
    res.status(401).json({ error: 'invalid_client' });
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'http://reference',
    sub: id,
    client_id: id,
    scope: 'orgs:read',
    iat: now,
    exp: now + 900,
    jti: crypto.randomUUID(),
  };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = crypto
    .sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
    .toString('base64url');
  res.json({ access_token: `${input}.${signature}`, token_type: 'Bearer', expires_in: 900 });
});

app.listen(Number(process.env.PORT), '127.0.0.1');

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookHttpTransport } from './webhook-http-transport';

describe('WebhookHttpTransport', () => {
  let server: http.Server;
  let base: string;
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  let answer: (res: http.ServerResponse) => void = (res) => res.writeHead(204).end();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    received.length = 0;
    answer = (res) => res.writeHead(204).end();
  });

  const request = (url: string, timeoutMs = 2000) => ({
    url,
    headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1' },
    body: '{"a":"é"}',
    timeoutMs,
  });

  it('refuses loopback targets, by address or by a name resolving to one, unless private targets are allowed', async () => {
    const strict = new WebhookHttpTransport();
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    try {
      const port = new URL(base).port;
      expect(await strict.send(request(base))).toEqual({ error: 'address not allowed' });
      expect(await strict.send(request(`http://localhost:${port}/hook`))).toEqual({ error: 'address not allowed' });
      expect(await strict.send(request('http://[::1]:9/'))).toEqual({ error: 'address not allowed' });
      expect(received).toHaveLength(0);
      expect(await open.send(request(`${base}/hook`))).toEqual({ status: 204 });
      expect(received).toHaveLength(1);
      expect(received[0].body).toBe('{"a":"é"}');
      expect(received[0].headers['webhook-id']).toBe('evt_1');
      expect(received[0].headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
    } finally {
      await strict.close();
      await open.close();
    }
  });

  it('never reaches cloud instance metadata or link-local addresses, in any form, even where private targets are allowed', async () => {
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    try {
      for (const target of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:169.254.169.254]/latest/meta-data/',
        'http://[::ffff:a9fe:a9fe]/',
        'http://169.254.170.2/v2/credentials',
        'http://100.100.100.200/latest/meta-data/',
        'http://[fd00:ec2::254]/',
      ])
        expect([target, await open.send(request(target))]).toEqual([target, { error: 'address not allowed' }]);
    } finally {
      await open.close();
    }
  });

  it('refuses loopback in the IPv6 forms that carry an IPv4 address (compatible, NAT64, 6to4) when private targets are not allowed', async () => {
    const strict = new WebhookHttpTransport();
    try {
      for (const target of ['http://[::127.0.0.1]:9/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/'])
        expect([target, await strict.send(request(target))]).toEqual([target, { error: 'address not allowed' }]);
    } finally {
      await strict.close();
    }
  });

  it("does not make one receiver's deliveries wait for the sockets another's slow requests to the same host hold", async () => {
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    const stalled: http.ServerResponse[] = [];
    try {
      answer = (res) => void stalled.push(res);
      const slow = Array.from({ length: 6 }, (_, i) => open.send(request(`${base}/slow${i}`, 5000)));
      while (received.length < 6) await new Promise((resolve) => setTimeout(resolve, 10));
      answer = (res) => res.writeHead(204).end();
      expect(await open.send(request(`${base}/fast`, 1000))).toEqual({ status: 204 });
      for (const res of stalled) res.writeHead(204).end();
      expect(await Promise.all(slow)).toEqual(Array(6).fill({ status: 204 }));
    } finally {
      await open.close();
    }
  });

  it('reports statuses without following redirects, and names refusals and timeouts', async () => {
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    try {
      answer = (res) => res.writeHead(302, { location: `${base}/elsewhere` }).end();
      expect(await open.send(request(base))).toEqual({ status: 302 });
      expect(received).toHaveLength(1);
      answer = (res) => res.writeHead(500).end('stack trace the log must not keep');
      expect(await open.send(request(base))).toEqual({ status: 500 });
      answer = (res) => setTimeout(() => res.writeHead(204).end(), 500);
      expect(await open.send(request(base, 100))).toEqual({ error: 'timeout' });
      expect(await open.send(request('http://127.0.0.1:1/'))).toEqual({ error: 'connection refused' });
      expect(await open.send(request('ftp://example.com/'))).toEqual({ error: 'unsupported URL scheme' });
    } finally {
      await open.close();
    }
  });

  it('names a certificate of an authority the client does not trust as such, with or without its root in the chain', async () => {
    // A certificate authority of the test's own, which the transport does not trust, and certificates it signs.
    const dir = mkdtempSync(join(tmpdir(), 'arbor-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const open = new WebhookHttpTransport({ allowPrivateTargets: true });
    const servers: https.Server[] = [];
    try {
      ssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-subj',
        '/CN=Arbor test CA',
        '-days',
        '2',
      );
      writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
      ssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'leaf.key',
        '-out',
        'leaf.csr',
        '-subj',
        '/CN=127.0.0.1',
      );
      const sign = (out: string, ...validity: string[]) =>
        ssl(
          'x509',
          '-req',
          '-in',
          'leaf.csr',
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          out,
          '-extfile',
          'ext',
          ...validity,
        );
      sign('leaf.pem', '-days', '2');
      // Node reports these two as SELF_SIGNED_CERT_IN_CHAIN and UNABLE_TO_VERIFY_LEAF_SIGNATURE.
      const chains: Array<[string, string]> = [
        [
          'a chain ending in an unknown root',
          readFileSync(join(dir, 'leaf.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'),
        ],
        ['a leaf of an unknown authority, alone', readFileSync(join(dir, 'leaf.pem'), 'utf8')],
      ];
      for (const [what, cert] of chains) {
        const server = https.createServer({ key: readFileSync(join(dir, 'leaf.key')), cert }, (_req, res) =>
          res.writeHead(204).end(),
        );
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        expect([what, await open.send(request(url))]).toEqual([what, { error: 'TLS certificate not trusted' }]);
      }
    } finally {
      await open.close();
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

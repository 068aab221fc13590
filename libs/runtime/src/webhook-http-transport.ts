import {
  deliveryAddressProblem,
  type WebhookRequest,
  type WebhookResponse,
  type WebhookTransport,
} from '@arbor/application';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

/** What the transport allows. */
export interface WebhookHttpTransportOptions {
  /**
   * IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS: deliver to loopback, private, link-local and other non-public
   * addresses too (a receiver on the operator's own network, the tests' local one). Default false.
   */
  allowPrivateTargets?: boolean;
}

/**
 * Webhook deliveries over HTTP(S) with keep-alive. The address check happens on the address actually
 * connected to, after DNS resolution (`deliveryAddressProblem`): a public
 * name that resolves to 127.0.0.1 (DNS rebinding) is refused as `address not allowed`, whatever was checked
 * when the subscription was made. Redirects are not followed (a 3xx is a failure): following them would
 * let a receiver point the dispatcher anywhere.
 */
export class WebhookHttpTransport implements WebhookTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly allowPrivate: boolean;
  /**
   * dns.lookup, then the check of every address (`deliveryAddressProblem`: IPv6 forms that carry an IPv4
   * address, link-local and cloud metadata even where private targets are allowed). Node skips the lookup for
   * an IP-literal host: `send` checks those itself.
   */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => deliveryAddressProblem(a.address, this.allowPrivate) !== undefined);
      if (refused) return callback(new Error(`${hostname}: the address is not allowed`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

  constructor(options: WebhookHttpTransportOptions = {}) {
    this.allowPrivate = options.allowPrivateTargets ?? false;
    // No socket limit per host: each subscription has one request in flight at most, and a cap would let one
    // tenant's slow receiver hold the sockets another's deliveries to the same host wait for.
    this.httpAgent = new http.Agent({ keepAlive: true });
    this.httpsAgent = new https.Agent({ keepAlive: true });
  }

  send(request: WebhookRequest): Promise<WebhookResponse> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return resolve({ error: 'invalid URL' });
      }
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') return resolve({ error: 'unsupported URL scheme' });
      const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      if (isIP(literal) !== 0 && deliveryAddressProblem(literal, this.allowPrivate) !== undefined)
        return resolve({ error: 'address not allowed' });
      const body = Buffer.from(request.body, 'utf8');
      let req: http.ClientRequest;
      try {
        req = (secure ? https : http).request(url, {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...request.headers, 'content-length': String(body.length) },
          timeout: request.timeoutMs,
          lookup: this.lookup,
        });
      } catch (e) {
        // The agent refuses an IP-literal target before connecting, by throwing here.
        return resolve({ error: reasonOf(e as NodeJS.ErrnoException) });
      }
      const timer = setTimeout(() => req.destroy(new Error('timeout')), request.timeoutMs);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('response', (res) => {
        // The body is nobody's business here; reading it frees the socket for the next delivery.
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0 });
        });
        res.on('error', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0 });
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ error: reasonOf(e) });
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * The codes of a certificate the client refused (Node's names of OpenSSL's X509_V_ERR_* verification results, in
 * lib/_tls_wrap.js and src/crypto/crypto_common.cc, and the host name check's).
 */
const CERTIFICATE_NOT_TRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A short, stable reason for the delivery log: never the receiver's words, never a body. */
function reasonOf(e: NodeJS.ErrnoException): string {
  if (e.message === 'timeout') return 'timeout';
  if (/not allowed/i.test(e.message)) return 'address not allowed';
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      if (e.code !== undefined && CERTIFICATE_NOT_TRUSTED.has(e.code)) return 'TLS certificate not trusted';
      return e.code ? `network error (${e.code})` : 'network error';
  }
}

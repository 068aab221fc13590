import type { ClientView, ReadModels } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { ClientSecretHasher } from '../security/client-secret-hasher';
import type { LoginThrottle } from './login-throttle';

export type ClientCredentialsInput =
  /** A confidential client authenticating (`client_secret_basic` or `client_secret_post`). */
  | { kind: 'basic' | 'post'; clientId: string; clientSecret: string }
  /** A body `client_id` without a secret: a public client identifying itself (RFC 6749 section 3.2.1). */
  | { kind: 'public'; clientId: string }
  | { kind: 'none' }
  /** Malformed or contradictory: the caller answers `invalid_request`. */
  | { kind: 'invalid'; description: string };

/**
 * Client authentication per RFC 6749 section 2.3.1: HTTP Basic (`client_secret_basic`, with both parts
 * form-urlencoded) or `client_id` + `client_secret` in the body (`client_secret_post`); never both. A body
 * `client_id` alongside Basic must name the same client; alone, it identifies a public client.
 */
export function readClientCredentials(
  authorization: string | undefined,
  body: Record<string, unknown>,
): ClientCredentialsInput {
  const inBody = body.client_secret !== undefined;
  if (body.client_id !== undefined && (typeof body.client_id !== 'string' || body.client_id === ''))
    return { kind: 'invalid', description: 'client_id must be a non-empty string.' };
  if (authorization && /^basic /i.test(authorization)) {
    if (inBody) return { kind: 'invalid', description: 'Use one client authentication method, not two.' };
    const parts = basicCredentials(authorization.slice(6).trim());
    if (parts === undefined) return { kind: 'invalid', description: 'Malformed Basic credentials.' };
    const [clientId, clientSecret] = parts;
    if (body.client_id !== undefined && body.client_id !== clientId)
      return {
        kind: 'invalid',
        description: 'The body client_id names another client than the HTTP Basic credentials.',
      };
    return { kind: 'basic', clientId, clientSecret };
  }
  if (inBody) {
    if (body.client_id === undefined || typeof body.client_secret !== 'string')
      return { kind: 'invalid', description: 'client_id and client_secret must both be given.' };
    return { kind: 'post', clientId: body.client_id as string, clientSecret: body.client_secret };
  }
  if (body.client_id !== undefined) return { kind: 'public', clientId: body.client_id as string };
  return { kind: 'none' };
}

/** RFC 4648 section 4 base64, padded or not (RFC 7617's token68 leaves the padding to the encoder). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The client id and secret of an HTTP Basic `token68` (RFC 7617 section 2, both parts form-urlencoded per RFC
 * 6749 section 2.3.1), read as strictly as a form field (contract section 1): base64 of UTF-8, percent-escapes
 * that decode to UTF-8, no U+0000 in either part. `undefined` for anything else, which the endpoints answer
 * `invalid_request`: a lenient decoder would skip stray characters and turn bad bytes into U+FFFD, so a
 * mangled header could name a client other than the one its sender meant.
 */
function basicCredentials(token: string): [clientId: string, clientSecret: string] | undefined {
  if (!BASE64.test(token)) return undefined;
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const formDecode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    const clientId = formDecode(decoded.slice(0, colon));
    const clientSecret = formDecode(decoded.slice(colon + 1));
    if (clientId.includes('\u0000') || clientSecret.includes('\u0000')) return undefined;
    return [clientId, clientSecret];
  } catch {
    // URIError: an escape that is not UTF-8 (`%FF`), or a `%` that starts no escape (refused here as before).
    return undefined;
  }
}

export type ClientCheck = { ok: true; client: ClientView } | { ok: false; retryAfterSeconds?: number };

/**
 * Verifies a client's secret. Failures are throttled per client id (`client:<client id>`), source and pair
 * (LoginThrottle.clientFailed): past a limit a failure answers `retryAfterSeconds`; a right secret always
 * passes. `address` is the caller's address as express reports it (`req.ip`).
 */
export class ClientAuthenticator {
  constructor(
    private readonly deps: {
      readModels: ReadModels;
      vault: SecretVault;
      secrets: ClientSecretHasher;
      throttle: LoginThrottle;
    },
  ) {}

  async verify(clientId: string, clientSecret: string, address: string | undefined): Promise<ClientCheck> {
    const client = await this.deps.readModels.clients.getByClientId(clientId);
    const stored = client ? await this.deps.vault.getClientSecretHash(client.id) : undefined;
    // verify() hashes even when nothing is stored, so unknown clients take as long as wrong secrets.
    if (!(await this.deps.secrets.verify(clientSecret, stored)) || !client) {
      const refused = await this.deps.throttle.clientFailed(`client:${clientId}`, address);
      return refused ? { ok: false, retryAfterSeconds: refused.retryAfterSeconds } : { ok: false };
    }
    return { ok: true, client };
  }
}

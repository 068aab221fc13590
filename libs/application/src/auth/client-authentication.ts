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
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid', description: 'Malformed Basic credentials.' };
    let clientId: string;
    let clientSecret: string;
    try {
      const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      clientId = formDecode(decoded.slice(0, colon));
      clientSecret = formDecode(decoded.slice(colon + 1));
    } catch {
      return { kind: 'invalid', description: 'Malformed Basic credentials.' };
    }
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

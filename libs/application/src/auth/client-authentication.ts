import type { ClientView, ReadModels } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { ClientSecretHasher } from '../security/client-secret-hasher';
import type { LoginThrottle } from './login-throttle';

export type ClientCredentialsInput =
  | { kind: 'basic' | 'post'; clientId: string; clientSecret: string }
  | { kind: 'none' }
  | { kind: 'invalid'; description: string };

/**
 * Client authentication per RFC 6749 section 2.3.1: HTTP Basic (`client_secret_basic`, with both parts
 * form-urlencoded) or `client_id` + `client_secret` in the body (`client_secret_post`); never both.
 */
export function readClientCredentials(authorization: string | undefined, body: Record<string, unknown>): ClientCredentialsInput {
  const inBody = body.client_secret !== undefined;
  if (authorization && /^basic /i.test(authorization)) {
    if (inBody) return { kind: 'invalid', description: 'Use one client authentication method, not two.' };
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid', description: 'Malformed Basic credentials.' };
    try {
      const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return { kind: 'basic', clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      return { kind: 'invalid', description: 'Malformed Basic credentials.' };
    }
  }
  if (inBody || body.client_id !== undefined) {
    if (typeof body.client_id !== 'string' || typeof body.client_secret !== 'string' || body.client_id === '')
      return { kind: 'invalid', description: 'client_id and client_secret must both be given.' };
    return { kind: 'post', clientId: body.client_id, clientSecret: body.client_secret };
  }
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
    private readonly deps: { readModels: ReadModels; vault: SecretVault; secrets: ClientSecretHasher; throttle: LoginThrottle },
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

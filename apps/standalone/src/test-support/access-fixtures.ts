import type { BuiltInRoleId } from '@arbor/domain';
import { passwordToken, type TestApp } from './test-app';

/** The built-in role ids (libs/domain roles.ts), the ones these fixtures grant. */
export type Role = BuiltInRoleId;
export const PASSWORD = 'a long enough password';

let counter = 0;
/** A name or email part that no other call in this process returns. */
export const unique = (prefix: string): string => `${prefix}-${++counter}-${Date.now().toString(36)}`;

/** The ids of a list response, sorted, for comparing sets. */
export const idsOf = (items: Array<{ id?: string; userId?: string }>): string[] =>
  items.map((i) => i.id ?? i.userId ?? '').sort();
export const sorted = (ids: string[]): string[] => [...ids].sort();

function expectStatus(what: string, res: { status: number; text: string }, status: number): void {
  if (res.status !== status) throw new Error(`${what} failed: ${res.status} ${res.text}`);
}

/** Creates a new user as a member of `orgId` with `roles` (as the platform admin); returns the org user. */
export async function addNewUser(
  app: TestApp,
  orgId: string,
  roles: Role[],
  label = 'user',
): Promise<{ userId: string; email: string }> {
  const email = `${unique(label)}@example.test`.toLowerCase();
  const res = await app.call('POST', `/api/v1/orgs/${orgId}/users`, {
    body: { email, name: label, password: PASSWORD, roles },
  });
  expectStatus(`add ${email}`, res, 201);
  return res.body;
}

/** Creates a user with a membership on `orgId` and logs them in. */
export async function newLoggedInUser(
  app: TestApp,
  orgId: string,
  roles: Role[],
  label: string,
): Promise<{ id: string; email: string; token: string }> {
  const user = await addNewUser(app, orgId, roles, label);
  return { id: user.userId, email: user.email, token: await passwordToken(app, user.email, PASSWORD) };
}

/** Issues client credentials (as the platform admin). */
export async function createClient(app: TestApp, orgId: string, scopes: string[]): Promise<any> {
  const res = await app.call('POST', '/api/v1/oauth2/client-credentials', {
    body: { name: unique('client'), orgId, scopes },
  });
  expectStatus('create client', res, 201);
  return res.body;
}

/** The client_credentials grant with client_secret_post in a form body. */
export async function clientToken(app: TestApp, client: { clientId: string; clientSecret: string }): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const res = await app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    rawBody: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expectStatus('client token', res, 200);
  return res.body.access_token;
}

/** A password grant narrowed to `scope`. */
export async function scopedPasswordToken(
  app: TestApp,
  username: string,
  password: string,
  scope: string,
): Promise<string> {
  const res = await app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'password', username, password, scope },
  });
  expectStatus('scoped login', res, 200);
  return res.body.access_token;
}

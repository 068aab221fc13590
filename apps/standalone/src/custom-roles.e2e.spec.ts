import { createOrg, startTestApp, type TestApp } from './test-support/test-app';
import { clientToken, newLoggedInUser, unique } from './test-support/access-fixtures';
import { claimsOf } from './test-support/forge-token';

/**
 * Issue 13, custom roles and application permissions, through HTTP in both profiles. So far: the built-in
 * permissions `roles:read`, `roles:write` and `access:evaluate` and who holds them (contract section 4 table:
 * member `roles:read`; admin and owner all three), and so who may hand them to a client credential (nobody
 * hands out what they do not hold; `events:read` and `tokens:introspect` stay platform-admin-only).
 */

let app: TestApp;
let root: any;
let child: any;

beforeAll(async () => {
  app = await startTestApp();
  root = await createOrg(app, unique('Roles root'));
  child = await createOrg(app, unique('Roles child'), root.id);
});
afterAll(() => app.close());

const issueClient = (token: string, orgId: string, scopes: string[]) =>
  app.call('POST', '/api/v1/oauth2/client-credentials', { token, body: { name: unique('client'), orgId, scopes } });

const login = (username: string, password: string, scope?: string) =>
  app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'password', username, password, ...(scope ? { scope } : {}) },
  });

describe('the issue-13 built-in permissions', () => {
  it('are OAuth scopes the discovery document lists', async () => {
    const metadata = (await app.call('GET', '/.well-known/oauth-authorization-server', { token: null })).body;
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['roles:read', 'roles:write', 'access:evaluate']));
  });

  it('give a member roles:read by default, and nothing of roles:write or access:evaluate', async () => {
    const member = await newLoggedInUser(app, root.id, ['member'], 'roles-member');
    expect(claimsOf(member.token).scope.split(' ').sort()).toEqual(['orgs:read', 'roles:read', 'users:read']);
    for (const scope of ['roles:write', 'access:evaluate']) {
      const res = await login(member.email, 'a long enough password', scope);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
  });

  it('let an admin issue a client credential with access:evaluate, roles:read and roles:write below their grant', async () => {
    const admin = await newLoggedInUser(app, root.id, ['admin'], 'roles-admin');
    for (const scope of ['roles:read', 'roles:write', 'access:evaluate'])
      expect(claimsOf(admin.token).scope.split(' ')).toContain(scope);
    const issued = await issueClient(admin.token, child.id, ['access:evaluate', 'roles:read', 'roles:write']);
    expect(issued.status).toBe(201);
    expect(issued.body.scopes).toEqual(['roles:read', 'roles:write', 'access:evaluate']);
    expect(
      claimsOf(await clientToken(app, issued.body))
        .scope.split(' ')
        .sort(),
    ).toEqual(['access:evaluate', 'roles:read', 'roles:write']);
    // What no built-in role grants stays the platform admins' to hand out.
    for (const scope of ['events:read', 'tokens:introspect'])
      expect((await issueClient(admin.token, child.id, [scope])).status).toBe(403);
  });

  it('do not let a client holding only roles:read pass on access:evaluate', async () => {
    const reader = await issueClient(app.adminToken, root.id, ['roles:read', 'clients:write']);
    expect(reader.status).toBe(201);
    const token = await clientToken(app, reader.body);
    expect((await issueClient(token, child.id, ['roles:read'])).status).toBe(201);
    const refused = await issueClient(token, child.id, ['access:evaluate']);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('access:evaluate');
  });
});

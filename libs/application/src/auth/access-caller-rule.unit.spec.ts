import { IamError, PERMISSIONS, type Permission } from '@arbor/domain';
import { callerReach } from './access-caller-rule';
import type { ClientPrincipal, UserPrincipal } from './principal';

const user = (id: string, scopes: readonly Permission[], platformAdmin = false): UserPrincipal => ({
  type: 'user',
  id,
  platformAdmin,
  scopes: new Set(scopes),
  tokenId: `jti-${id}`,
});
const client = (scopes: readonly Permission[]): ClientPrincipal => ({
  type: 'client',
  id: 'ccr_1',
  clientId: 'cli_1',
  orgId: 'org_a',
  scopes: new Set(scopes),
  tokenId: 'jti-c',
});
const withoutEvaluate = PERMISSIONS.filter((p) => p !== 'access:evaluate');

/** The one caller rule both the point checks (requireMayAsk) and the search scopes (accessQuestionScope) read. */
describe('callerReach', () => {
  it('lets a user ask about themselves without access:evaluate, platform admins included', () => {
    expect(callerReach(user('u1', []), { type: 'user', id: 'u1' })).toEqual({ kind: 'self' });
    expect(callerReach(user('u1', [], true), { type: 'user', id: 'u1' })).toEqual({ kind: 'self' });
  });

  it('refuses any other question (another user, a client, a subject search) without the scope: 403', () => {
    for (const subject of [{ type: 'user', id: 'u2' }, { type: 'client', id: 'u1' }, undefined]) {
      expect(() => callerReach(user('u1', withoutEvaluate, true), subject)).toThrow(IamError);
      expect(() => callerReach(client(withoutEvaluate), subject)).toThrow(
        expect.objectContaining({ code: 'IAM_ERR_FORBIDDEN' }),
      );
    }
  });

  it('with access:evaluate: platform admins anywhere, clients in their subtree, users where they hold it', () => {
    const subject = { type: 'user', id: 'u2' };
    expect(callerReach(user('u1', ['access:evaluate'], true), subject)).toEqual({ kind: 'anywhere' });
    expect(callerReach(client(['access:evaluate']), subject)).toEqual({ kind: 'client_subtree', orgId: 'org_a' });
    expect(callerReach(user('u1', ['access:evaluate']), subject)).toEqual({ kind: 'where_held' });
    expect(callerReach(user('u1', ['access:evaluate']))).toEqual({ kind: 'where_held' });
  });
});

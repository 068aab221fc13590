import { RouteTable } from './route-table';

const table = (): RouteTable<string> => {
  const t = new RouteTable<string>();
  t.add('get', '/orgs', 'listOrgs');
  t.add('post', '/orgs', 'createOrg');
  t.add('get', '/orgs/{orgId}', 'getOrg');
  t.add('delete', '/orgs/{orgId}', 'deleteOrg');
  t.add('get', '/orgs/{orgId}/children', 'children');
  t.add('get', '/orgs/{orgId}/users/{userId}', 'orgUser');
  t.add('post', '/auth/tokens/introspect', 'introspect');
  t.add('get', '/users/me', 'me');
  t.add('get', '/users/{userId}', 'getUser');
  return t;
};

describe('RouteTable', () => {
  const t = table();

  it('finds the route of a method and a path, with its parameters', () => {
    expect(t.match('GET', '/orgs')).toEqual({ kind: 'found', value: 'listOrgs', params: {} });
    expect(t.match('POST', '/orgs')).toEqual({ kind: 'found', value: 'createOrg', params: {} });
    expect(t.match('GET', '/orgs/org_1/users/usr_2')).toEqual({
      kind: 'found',
      value: 'orgUser',
      params: { orgId: 'org_1', userId: 'usr_2' },
    });
    expect(t.match('POST', '/auth/tokens/introspect')).toMatchObject({ value: 'introspect' });
  });

  it('matches literal segments case-insensitively and allows one trailing slash, as Express does', () => {
    expect(t.match('GET', '/ORGS/org_1/Children')).toEqual({
      kind: 'found',
      value: 'children',
      params: { orgId: 'org_1' },
    });
    expect(t.match('GET', '/orgs/')).toMatchObject({ value: 'listOrgs' });
    expect(t.match('GET', '/orgs/org_1/')).toMatchObject({ value: 'getOrg', params: { orgId: 'org_1' } });
    expect(t.match('GET', '/orgs//')).toEqual({ kind: 'none' });
  });

  it('keeps parameter values as sent (case included) and percent-decodes them', () => {
    expect(t.match('GET', '/orgs/Org%20A%2Fb')).toMatchObject({ params: { orgId: 'Org A/b' } });
    expect(t.match('GET', '/orgs/%E0%A4%A')).toEqual({ kind: 'bad-encoding' });
  });

  it('never matches a parameter to an empty segment, nor a path with more or fewer segments', () => {
    expect(t.match('GET', '/orgs//children')).toEqual({ kind: 'none' });
    expect(t.match('GET', '/orgs/a/b')).toEqual({ kind: 'none' });
    expect(t.match('GET', '/')).toEqual({ kind: 'none' });
    expect(t.match('GET', '/nothing/here/at/all/really')).toEqual({ kind: 'none' });
  });

  it('lets the first route added win when two templates match the same path', () => {
    expect(t.match('GET', '/users/me')).toMatchObject({ value: 'me' });
    expect(t.match('GET', '/users/usr_1')).toMatchObject({ value: 'getUser', params: { userId: 'usr_1' } });
  });

  it('serves HEAD with GET routes', () => {
    expect(t.match('HEAD', '/orgs/org_1')).toMatchObject({ kind: 'found', value: 'getOrg' });
  });

  it('lists the methods of a path that exists with other methods only', () => {
    expect(t.match('PUT', '/orgs')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'POST'] });
    expect(t.match('PATCH', '/orgs/org_1')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'DELETE'] });
    expect(t.match('GET', '/auth/tokens/introspect')).toEqual({ kind: 'method-not-allowed', allow: ['POST'] });
  });
});

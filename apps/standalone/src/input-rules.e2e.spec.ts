import { PASSWORD, addNewUser, unique } from './test-support/access-fixtures';
import { createOrg, passwordToken, startTestApp, type TestApp } from './test-support/test-app';

/*
 * Input rules of contract section 1 and 2 (issue 11): what the API refuses, and how names and emails compare.
 * Every request here is the platform admin's unless it says otherwise.
 */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const json = { 'content-type': 'application/json' };

describe('one problem type, one title (RFC 9457 §3.1.3)', () => {
  it('gives IAM_ERR_VALIDATION the same title whether the binder or the domain refuses the request', async () => {
    const malformed = await app.call('POST', '/api/v1/orgs', { rawBody: '{"name": ', headers: json });
    const schema = await app.call('POST', '/api/v1/orgs', { body: { name: 'x', colour: 'red' } });
    const badCursor = await app.call('GET', '/api/v1/orgs?cursor=%21%21');
    const root = await createOrg(app, unique('titles'));
    const domain = await app.call('POST', `/api/v1/orgs/${root.id}/users`, {
      body: { roles: ['member'], name: 'No email' },
    });
    const titles = [malformed, schema, badCursor, domain].map((r) => {
      expect(r.body.code).toBe('IAM_ERR_VALIDATION');
      return r.body.title;
    });
    expect(new Set(titles).size).toBe(1);
  });

  it('gives IAM_ERR_NOT_FOUND the same title for an unknown path and an unknown resource', async () => {
    const path = await app.call('GET', '/api/v1/no-such-thing');
    const resource = await app.call('GET', '/api/v1/orgs/org_doesnotexist');
    expect(path.body.code).toBe('IAM_ERR_NOT_FOUND');
    expect(resource.body.code).toBe('IAM_ERR_NOT_FOUND');
    expect(path.body.title).toBe(resource.body.title);
  });

  it('says that a password is optional when adding a new member', async () => {
    const root = await createOrg(app, unique('password-optional'));
    const res = await app.call('POST', `/api/v1/orgs/${root.id}/users`, {
      body: { userId: 'usr_x', email: 'a@b.test', roles: ['member'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).not.toMatch(/name and password/);
    expect(res.body.detail).toMatch(/password is optional/);
  });
});

describe('OPTIONS and the methods it advertises agree', () => {
  it('routes every method OPTIONS advertises on /users/me to the /users/me routes', async () => {
    const options = await app.call('OPTIONS', '/api/v1/users/me');
    expect(options.status).toBe(204);
    const allow = (options.headers.get('allow') ?? '').split(', ');
    expect(allow.sort()).toEqual(['GET', 'HEAD', 'PATCH']);
    const patch = await app.call('PATCH', '/api/v1/users/me', { body: { name: 'Platform Admin' } });
    expect(patch.status).toBe(200);
    // Another method is refused as a method of this path, not answered as if `me` were a user id.
    const del = await app.call('DELETE', '/api/v1/users/me');
    expect(del.status).toBe(405);
  });

  it('never treats `me` as a user id below /users/me', async () => {
    const options = await app.call('OPTIONS', '/api/v1/users/me/orgs');
    const get = await app.call('GET', '/api/v1/users/me/orgs');
    // Either the path exists and answers, or neither OPTIONS nor GET pretend it does.
    expect(options.status).toBe(404);
    expect(get.status).toBe(404);
    expect(get.body.detail).not.toMatch(/User me/);
  });
});

describe('numbers and nesting in JSON bodies', () => {
  it.each([
    ['1e400', 'a number beyond the double range'],
    ['-1e400', 'a negative one'],
    ['9007199254740993', 'an integer beyond 2^53 - 1'],
    ['-9007199254740992', 'a negative integer beyond -(2^53 - 1)'],
    ['1e20', 'an integer in exponent form beyond 2^53 - 1'],
  ])('refuses metadata holding %s (%s) with 400 naming the member', async (literal) => {
    const res = await app.call('POST', '/api/v1/orgs', {
      rawBody: `{"name": "${unique('n')}", "metadata": {"a": [1, ${literal}]}}`,
      headers: json,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('IAM_ERR_VALIDATION');
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/body/metadata/a/1' })]);
  });

  it('keeps the largest exact integers and ordinary fractions as sent', async () => {
    const name = unique('exact');
    const res = await app.call('POST', '/api/v1/orgs', {
      rawBody: `{"name": "${name}", "metadata": {"max": 9007199254740991, "min": -9007199254740991, "f": 0.5}}`,
      headers: json,
    });
    expect(res.status).toBe(201);
    expect(res.body.metadata).toEqual({ max: 9007199254740991, min: -9007199254740991, f: 0.5 });
  });

  it('refuses metadata nested 10,000 levels deep with 400, not a stack overflow', async () => {
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const res = await app.call('POST', '/api/v1/orgs', {
      rawBody: `{"name": "${unique('deep')}", "metadata": ${deep}}`,
      headers: json,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('IAM_ERR_VALIDATION');
    const root = await createOrg(app, unique('deep-put'));
    const put = await app.call('PUT', `/api/v1/orgs/${root.id}`, {
      rawBody: `{"name": "x", "parentId": null, "metadata": ${deep}}`,
      headers: json,
    });
    expect(put.status).toBe(400);
  });
});

describe('well-formed Unicode', () => {
  it('refuses a name holding a lone UTF-16 surrogate with 400', async () => {
    const res = await app.call('POST', '/api/v1/orgs', { rawBody: '{"name": "s\\ud800x"}', headers: json });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/body/name' })]);
    const lowOnly = await app.call('POST', '/api/v1/orgs', {
      rawBody: '{"name": "ok", "metadata": {"k\\udc00": 1}}',
      headers: json,
    });
    expect(lowOnly.status).toBe(400);
  });

  it('accepts a well-formed surrogate pair', async () => {
    const res = await app.call('POST', '/api/v1/orgs', {
      rawBody: `{"name": "${unique('pair')} \\ud83c\\udf33"}`,
      headers: json,
    });
    expect(res.status).toBe(201);
    expect(res.body.name.endsWith('\u{1F333}')).toBe(true);
  });
});

describe('caseless matching (Unicode default caseless matching, full case folding)', () => {
  it('refuses sibling names that fold equal: Straße and STRASSE', async () => {
    const root = await createOrg(app, unique('fold'));
    await createOrg(app, 'Straße', root.id);
    const clash = await app.call('POST', '/api/v1/orgs', { body: { name: 'STRASSE', parentId: root.id } });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('IAM_ERR_NAME_TAKEN');
    // Final sigma and a canonically equivalent spelling fold equal too.
    await createOrg(app, 'ΟΔΟΣ', root.id);
    expect((await app.call('POST', '/api/v1/orgs', { body: { name: 'οδος', parentId: root.id } })).status).toBe(409);
    await createOrg(app, 'Cafe\u0301', root.id);
    expect((await app.call('POST', '/api/v1/orgs', { body: { name: 'CAFÉ', parentId: root.id } })).status).toBe(409);
  });

  it('treats emails that fold equal as one account: adding, searching and logging in', async () => {
    const root = await createOrg(app, unique('fold-email'));
    const other = await createOrg(app, unique('fold-email-2'));
    const local = unique('straße');
    const created = await app.call('POST', `/api/v1/orgs/${root.id}/users`, {
      body: { email: `${local}@example.test`, name: 'S', password: PASSWORD, roles: ['member'] },
    });
    expect(created.status).toBe(201);
    const folded = `${local.replace('ß', 'SS').toUpperCase()}@EXAMPLE.TEST`;
    const again = await app.call('POST', `/api/v1/orgs/${other.id}/users`, {
      body: { email: folded, name: 'Other', password: PASSWORD, roles: ['member'] },
    });
    // The same account: a caller who sees it is told so (409 naming it), never handed a second one.
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      code: 'IAM_ERR_EMAIL_TAKEN',
      detail: expect.stringContaining(created.body.userId),
    });
    const found = await app.call('GET', `/api/v1/users?email=${encodeURIComponent(folded)}`);
    expect(found.body.items.map((u: { id: string }) => u.id)).toEqual([created.body.userId]);
    await expect(passwordToken(app, folded, PASSWORD)).resolves.toEqual(expect.any(String));
  });
});

describe('page cursors are bound to their list and filters', () => {
  const firstPage = async (path: string) => {
    const res = await app.call('GET', path);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toEqual(expect.any(String));
    return res.body.nextCursor as string;
  };
  const refused = (res: { status: number; body: any }) => {
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('IAM_ERR_VALIDATION');
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/query/cursor' })]);
  };

  it('refuses a cursor edited by hand', async () => {
    const root = await createOrg(app, unique('cursor'));
    for (const n of ['a', 'b', 'c']) await createOrg(app, `${n}-child`, root.id);
    const cursor = await firstPage(`/api/v1/orgs/${root.id}/children?limit=1`);
    const raw = Buffer.from(cursor.split('.')[0], 'base64url').toString('utf8');
    const edited = Buffer.from(raw.replace(/a-child/g, 'b-child'), 'utf8').toString('base64url');
    expect(edited).not.toBe(cursor.split('.')[0]);
    refused(
      await app.call(
        'GET',
        `/api/v1/orgs/${root.id}/children?limit=1&cursor=${edited}${cursor.slice(cursor.split('.')[0].length)}`,
      ),
    );
    refused(await app.call('GET', `/api/v1/orgs/${root.id}/children?limit=1&cursor=${edited}`));
  });

  it('refuses a cursor from another list, another resource or other filters', async () => {
    const root = await createOrg(app, unique('cursor-src'));
    const sibling = await createOrg(app, unique('cursor-other'));
    for (const n of ['a', 'b', 'c']) {
      await createOrg(app, `${n}-x`, root.id);
      await createOrg(app, `${n}-x`, sibling.id);
    }
    await addNewUser(app, root.id, ['member'], 'cursor-user');
    await addNewUser(app, root.id, ['member'], 'cursor-user');
    const children = await firstPage(`/api/v1/orgs/${root.id}/children?limit=1`);
    // The same cursor still serves its own list.
    expect((await app.call('GET', `/api/v1/orgs/${root.id}/children?limit=2&cursor=${children}`)).status).toBe(200);
    refused(await app.call('GET', `/api/v1/orgs/${sibling.id}/children?limit=1&cursor=${children}`));
    refused(await app.call('GET', `/api/v1/orgs/${root.id}/children?limit=1&depth=2&cursor=${children}`));
    refused(await app.call('GET', `/api/v1/orgs?limit=1&cursor=${children}`));
    const members = await firstPage(`/api/v1/orgs/${root.id}/users?limit=1`);
    refused(await app.call('GET', `/api/v1/users?limit=1&cursor=${members}`));
    const searched = await firstPage(`/api/v1/orgs?limit=1&q=x`);
    refused(await app.call('GET', `/api/v1/orgs?limit=1&q=a&cursor=${searched}`));
    await firstPage(`/api/v1/events?limit=1`);
    // A position that the event list could have issued, but did not.
    refused(await app.call('GET', `/api/v1/events?limit=1&cursor=${Buffer.from('p:1').toString('base64url')}`));
  });
});

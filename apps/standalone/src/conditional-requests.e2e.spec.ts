import { addNewUser, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/*
 * Conditional requests (RFC 9110 section 13, contract section 1): strong ETags derived from the
 * representation sent, If-Match with strong comparison, lists and `*`, If-None-Match with weak comparison and
 * 304 on reads, 412 on writes, evaluated in the order of section 13.2.2.
 */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const etagOf = async (path: string, token?: string): Promise<string> => {
  const res = await app.call('GET', path, token === undefined ? {} : { token });
  expect(res.status).toBe(200);
  const tag = res.headers.get('etag');
  expect(tag).toMatch(/^"[\x21\x23-\x7e]+"$/);
  return tag!;
};

describe('If-Match on writes', () => {
  it('compares strongly: a weak tag never matches, not even the current one', async () => {
    const org = await createOrg(app, unique('Weak'));
    const tag = await etagOf(`/api/v1/orgs/${org.id}`);
    const weak = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('W2'), parentId: null },
      headers: { 'if-match': `W/${tag}` },
    });
    expect(weak.status).toBe(412);
    expect(weak.body.code).toBe('IAM_ERR_PRECONDITION_FAILED');
    expect((await app.call('GET', `/api/v1/orgs/${org.id}`)).body.version).toBe(1);
  });

  it('holds when any tag of a list is the current one, also across several header lines', async () => {
    const org = await createOrg(app, unique('Listed'));
    const tag = await etagOf(`/api/v1/orgs/${org.id}`);
    const listed = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('L2'), parentId: null },
      headers: { 'if-match': `"0-nope", W/"x", ${tag} , "a,b"` },
    });
    expect(listed.status).toBe(200);
    expect(listed.body.version).toBe(2);
    const stale = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('L3'), parentId: null },
      headers: { 'if-match': `"0-nope", ${tag}` },
    });
    expect(stale.status).toBe(412);
  });

  it('reads the whole list syntax of RFC 9110 section 5.6.1: tabs around commas, empty elements, obs-text', async () => {
    const org = await createOrg(app, unique('ListSyntax'));
    const tag = await etagOf(`/api/v1/orgs/${org.id}`);
    const written = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('LS2'), parentId: null },
      headers: { 'if-match': `, "0-nope"\t,\t, W/"x",${tag},` },
    });
    expect(written.status).toBe(200);
    const current = await etagOf(`/api/v1/orgs/${org.id}`);
    const cached = await app.call('GET', `/api/v1/orgs/${org.id}`, {
      headers: { 'if-none-match': `"\u00e9t\u00e9",\t${current}` },
    });
    expect(cached.status).toBe(304);
    const stale = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('LS3'), parentId: null },
      headers: { 'if-match': `,\t${tag}\t,` },
    });
    expect(stale.status).toBe(412);
  });

  it('holds with * whenever the resource exists; an absent one is a 404', async () => {
    const org = await createOrg(app, unique('Star'));
    const star = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('S2'), parentId: null },
      headers: { 'if-match': '*' },
    });
    expect(star.status).toBe(200);
    const gone = await app.call('DELETE', '/api/v1/orgs/org_doesnotexist', { headers: { 'if-match': '*' } });
    expect(gone.status).toBe(404);
  });

  it('answers a malformed If-Match with a precise 400 that speaks of the header, not of a version', async () => {
    const org = await createOrg(app, unique('Garbled'));
    for (const value of ['banana', '"unterminated', 'w/"1"', '*, "1"', '"a" "b"', '1']) {
      const res = await app.call('DELETE', `/api/v1/orgs/${org.id}`, { headers: { 'if-match': value } });
      expect([value, res.status]).toEqual([value, 400]);
      expect(res.body).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/headers/if-match' }] });
      expect(res.text).not.toMatch(/-1/);
    }
    expect((await app.call('GET', `/api/v1/orgs/${org.id}`)).status).toBe(200);
  });

  it('refuses with 412 a write whose If-None-Match matches, or is *, on an existing resource', async () => {
    const org = await createOrg(app, unique('NoneMatch'));
    const tag = await etagOf(`/api/v1/orgs/${org.id}`);
    for (const value of ['*', tag, `W/${tag}`]) {
      const res = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
        body: { name: unique('N2'), parentId: null },
        headers: { 'if-none-match': value },
      });
      expect([value, res.status]).toEqual([value, 412]);
    }
    const other = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: unique('N3'), parentId: null },
      headers: { 'if-none-match': '"1-other"' },
    });
    expect(other.status).toBe(200);
  });

  it('tells a caller who may not do the write 403 (or 404), not 412, whatever the precondition', async () => {
    const root = await createOrg(app, unique('Gate'));
    const member = await newLoggedInUser(app, root.id, ['member'], 'gate-member');
    const put = await app.call('PUT', `/api/v1/orgs/${root.id}`, {
      token: member.token,
      body: { name: unique('G2'), parentId: null },
      headers: { 'if-match': '"9-stale"' },
    });
    expect(put.status).toBe(403);
    const other = await createOrg(app, unique('Elsewhere'));
    const hidden = await app.call('DELETE', `/api/v1/orgs/${other.id}`, {
      token: member.token,
      headers: { 'if-match': '"9-stale"' },
    });
    expect(hidden.status).toBe(404);
  });

  it('guards org users, users and client credentials the same way', async () => {
    const org = await createOrg(app, unique('Guarded'));
    const { userId } = await addNewUser(app, org.id, ['member'], 'guarded');
    const orgUser = `/api/v1/orgs/${org.id}/users/${userId}`;
    const orgUserTag = await etagOf(orgUser);
    expect(
      (await app.call('PATCH', orgUser, { body: { roles: ['admin'] }, headers: { 'if-match': `W/${orgUserTag}` } }))
        .status,
    ).toBe(412);
    expect(
      (await app.call('PATCH', orgUser, { body: { roles: ['admin'] }, headers: { 'if-match': orgUserTag } })).status,
    ).toBe(200);
    expect((await app.call('DELETE', orgUser, { headers: { 'if-match': orgUserTag } })).status).toBe(412);

    const user = `/api/v1/users/${userId}`;
    const userTag = await etagOf(user);
    expect(
      (await app.call('PATCH', user, { body: { name: 'G. Uarded' }, headers: { 'if-match': `"x", ${userTag}` } }))
        .status,
    ).toBe(200);
    expect((await app.call('PATCH', user, { body: { name: 'Again' }, headers: { 'if-match': userTag } })).status).toBe(
      412,
    );

    const client = await createClient(app, org.id, ['orgs:read']);
    const clientPath = `/api/v1/oauth2/client-credentials/${client.id}`;
    expect((await app.call('DELETE', clientPath, { headers: { 'if-match': '"1-stale"' } })).status).toBe(412);
    expect((await app.call('DELETE', clientPath, { headers: { 'if-match': await etagOf(clientPath) } })).status).toBe(
      204,
    );
  });
});

describe('ETags follow the representation, and reads honour If-None-Match', () => {
  it('answers a GET or HEAD whose If-None-Match matches with 304, the ETag and no body', async () => {
    const org = await createOrg(app, unique('Cached'));
    const path = `/api/v1/orgs/${org.id}`;
    const tag = await etagOf(path);
    for (const value of [tag, `W/${tag}`, `"other", ${tag}`, '*']) {
      const res = await app.call('GET', path, { headers: { 'if-none-match': value } });
      expect([value, res.status]).toEqual([value, 304]);
      expect(res.headers.get('etag')).toBe(tag);
      expect(res.text).toBe('');
    }
    const head = await app.call('HEAD', path, { headers: { 'if-none-match': tag } });
    expect(head.status).toBe(304);
    const miss = await app.call('GET', path, { headers: { 'if-none-match': '"1-other"' } });
    expect(miss.status).toBe(200);
    expect(miss.body.id).toBe(org.id);
    // If-Match goes first (RFC 9110 section 13.2.2): a failed one is a 412 whatever If-None-Match says.
    const both = await app.call('GET', path, { headers: { 'if-match': '"1-other"', 'if-none-match': tag } });
    expect(both.status).toBe(412);
    expect((await app.call('GET', path, { headers: { 'if-match': tag } })).status).toBe(200);
  });

  it('answers a malformed precondition of a read with 400 only where the read would be a 2xx, else its 404', async () => {
    const org = await createOrg(app, unique('Malformed read'));
    const hidden = await createOrg(app, unique('Malformed hidden'));
    const outsider = await newLoggedInUser(app, org.id, ['member'], 'malformed-reader');
    const client = await createClient(app, org.id, ['clients:read']);
    const reads = [
      {
        path: `/api/v1/orgs/${org.id}`,
        absent: '/api/v1/orgs/org_00000000000000000000000000',
        hidden: `/api/v1/orgs/${hidden.id}`,
      },
      { path: `/api/v1/users/${outsider.id}`, absent: '/api/v1/users/usr_00000000000000000000000000' },
      {
        path: `/api/v1/oauth2/client-credentials/${client.id}`,
        absent: '/api/v1/oauth2/client-credentials/cc_00000000000000000000000000',
      },
    ];
    for (const header of ['if-none-match', 'if-match'])
      for (const value of [
        'garbage',
        '"unterminated',
        'W/x',
        `"${'a'.repeat(2047)}"`,
        '',
        ', ,',
        '"a" "b"',
        '*, "a"',
      ]) {
        for (const read of reads) {
          const asked = { headers: { [header]: value } };
          expect([read.path, header, value, (await app.call('GET', read.path, asked)).status]).toEqual([
            read.path,
            header,
            value,
            400,
          ]);
          expect([read.absent, header, value, (await app.call('GET', read.absent, asked)).status]).toEqual([
            read.absent,
            header,
            value,
            404,
          ]);
        }
        // Not the caller's to see: the same 404 as without the header.
        const res = await app.call('GET', reads[0].hidden!, { token: outsider.token, headers: { [header]: value } });
        expect([header, value, res.status]).toEqual([header, value, 404]);
      }
  });

  it("changes an organization's ETag when an ancestor's move changes its depth, though its version stays", async () => {
    const root = await createOrg(app, unique('Tree'));
    const a = await createOrg(app, 'A', root.id);
    const b = await createOrg(app, 'B', root.id);
    const c = await createOrg(app, 'C', a.id);
    const path = `/api/v1/orgs/${c.id}`;
    const before = await etagOf(path);
    expect((await app.call('PUT', `/api/v1/orgs/${a.id}`, { body: { name: 'A', parentId: b.id } })).status).toBe(200);
    const after = await app.call('GET', path, { headers: { 'if-none-match': before } });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ depth: 3, version: 1 });
    expect(after.headers.get('etag')).not.toBe(before);
    const stale = await app.call('PUT', path, {
      body: { name: 'C2', parentId: a.id },
      headers: { 'if-match': before },
    });
    expect(stale.status).toBe(412);
  });

  it("changes an org user's ETag when the user's name changes, though the membership's version stays", async () => {
    const org = await createOrg(app, unique('Named'));
    const { userId } = await addNewUser(app, org.id, ['member'], 'named');
    const path = `/api/v1/orgs/${org.id}/users/${userId}`;
    const before = await etagOf(path);
    expect((await app.call('PATCH', `/api/v1/users/${userId}`, { body: { name: 'Someone Else' } })).status).toBe(200);
    const after = await app.call('GET', path, { headers: { 'if-none-match': before } });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ name: 'Someone Else', version: 1 });
    const stale = await app.call('PATCH', path, { body: { roles: ['admin'] }, headers: { 'if-match': before } });
    expect(stale.status).toBe(412);
    expect((await app.call('GET', path)).body.roles).toEqual(['member']);
  });

  it('gives the same ETag to the same representation on every read route and in write responses', async () => {
    const org = await createOrg(app, unique('Same'));
    const put = await app.call('PUT', `/api/v1/orgs/${org.id}`, { body: { name: unique('Same2'), parentId: null } });
    expect(put.headers.get('etag')).toBe(await etagOf(`/api/v1/orgs/${org.id}`));
    const me = await newLoggedInUser(app, org.id, ['member'], 'same-me');
    expect(await etagOf('/api/v1/users/me', me.token)).toBe(await etagOf(`/api/v1/users/${me.id}`));
  });
});

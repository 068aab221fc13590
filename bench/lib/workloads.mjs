// The embedded profile's workloads, in the order they run. Each is one autocannon request template; `expect`
// checks the probe response before the load, `alongside` runs a second load at the same time.
import { basic, form, post, rand } from './load.mjs';

/** Rounds of the first and the deep page, alternating, after a walk. */
const ALTERNATING_ROUNDS = 400;

export function workloads(s, t, opts) {
  const bearer = () => ({ authorization: `Bearer ${t.admin()}` });
  const auth = (req) => ({
    ...req,
    setupRequest: (r) => ((r.headers = { ...r.headers, ...bearer() }), req.setupRequest ? req.setupRequest(r) : r),
  });
  const clientAuth = s.clients.map((c) => basic(c.clientId, c.secret));
  let created = 0;
  /** Unspent refresh tokens: refresh_grant's pool, filled by its `prepare` and by its answers. */
  const refreshTokens = [];
  const runTag = Date.now().toString(36);
  const getOrg = auth({
    method: 'GET',
    path: '/',
    setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.orgIds)}`), r),
  });
  // search/resource for the search user (orgs:read on 50 subtrees), 100 per page: the first page, and a page
  // halfway through the result (its token found by paging there before the load): keyset pages cost the same.
  const searchPath = '/access/v1/search/resource';
  const searchBody = (token) =>
    JSON.stringify({
      subject: { type: 'user', id: s.searchUserId },
      action: { name: 'orgs:read' },
      resource: { type: 'organization' },
      page: { limit: 100, ...(token ? { token } : {}) },
    });
  const deepSearch = { body: searchBody(), page: Math.floor(s.searchResults / 100 / 2) };
  const searchReq = (body, path = searchPath) =>
    auth({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      setupRequest: (r) => ((r.body = body()), r),
    });
  // search/subject: who may orgs:read on a deep organization below the depth-2 one where the seed gave 10,000
  // users a membership (inherited grants), 100 per page: the first page, and a page halfway through.
  const subjectPath = '/access/v1/search/subject';
  const subjectBody = (token) =>
    JSON.stringify({
      subject: { type: 'user' },
      action: { name: 'orgs:read' },
      resource: { type: 'organization', id: s.subjectOrgId },
      page: { limit: 100, ...(token ? { token } : {}) },
    });
  const deepSubject = { body: subjectBody(), page: Math.floor(s.subjectResults / 100 / 2) };
  /**
   * Pages through the whole search `path`/`body` once, one request at a time with the admin's bearer, before
   * the load: the token of page `deep.page + 1` goes to `deep.body`; returns the walk (results against the
   * seed's `expected`, pages, and page latencies in ms: the first, the median, the slowest and where it lay,
   * the median of each half), which the report keeps beside the workload. A walk that comes short or long of
   * `expected` is a failed probe.
   */
  const walk = async (url, path, body, deep, expected) => {
    let token;
    let results = 0;
    const ms = [];
    // One untimed first page: the walk follows a load, whose last requests the server may still be answering.
    await fetch(url + path, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: body(),
    }).then((res) => res.arrayBuffer());
    for (;;) {
      const t0 = performance.now();
      const res = await fetch(url + path, {
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'application/json' },
        body: body(token),
      });
      const json = await res.json();
      ms.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`${path} page ${ms.length} answered ${res.status}`);
      results += json.page.count;
      token = json.page.next_token;
      if (ms.length === deep.page) deep.body = body(token);
      if (!token) break;
    }
    // The first page against the deep one, one request at a time and alternating, so that both meet the same
    // server state: with no queue, a request's time is its own cost (under load every connection waits about
    // as long for its turn, whatever it asks, so paired loads cannot compare the two).
    const firstMs = [];
    const deepMs = [];
    const timed = async (b, into) => {
      const t0 = performance.now();
      const res = await fetch(url + path, {
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'application/json' },
        body: b,
      });
      await res.arrayBuffer();
      into.push(performance.now() - t0);
    };
    for (let round = 0; round < ALTERNATING_ROUNDS; round++) {
      await timed(body(), firstMs);
      await timed(deep.body, deepMs);
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const sorted = [...ms].sort((a, b) => a - b);
    const r = (x) => Math.round(x * 100) / 100;
    return {
      results,
      expected,
      complete: results === expected,
      pages: ms.length,
      pageMs: { first: r(ms[0]), p50: r(sorted[Math.floor(sorted.length / 2)]), max: r(sorted[sorted.length - 1]) },
      // Where the slowest page lay (1 = the first), and the median of each half: a cost growing with depth shows.
      slowestPage: ms.indexOf(sorted[sorted.length - 1]) + 1,
      halvesP50Ms: [ms.slice(0, ms.length >> 1), ms.slice(ms.length >> 1)].map((h) =>
        r([...h].sort((a, b) => a - b)[h.length >> 1] ?? NaN),
      ),
      alternating: { rounds: ALTERNATING_ROUNDS, firstP50Ms: r(median(firstMs)), deepP50Ms: r(median(deepMs)) },
    };
  };
  // Request bodies are encoded before the load, not per request: the load generator shares the machine's two
  // cores with the server, and its JSON.stringify per request was CPU the GET workloads it is compared with
  // never spend. One body per evaluation pair (1,000), and 1,000 batches of 20, ask the server the same questions in
  // the same mix.
  const PREPARED_BODIES = 1000;
  const prepared = (make) => Array.from({ length: PREPARED_BODIES }, (_, i) => make(i));
  /** A single AuthZEN evaluation workload over the seed's leaf pairs, with `context` when given. */
  const evaluation = (name, context, query = '') => {
    const bodies = s.evaluationPairs.map((p) =>
      JSON.stringify({
        subject: { type: 'user', id: p.userId },
        resource: { type: 'organization', id: p.orgId },
        action: { name: 'orgs:read' },
        ...(context ? { context } : {}),
      }),
    );
    return {
      name,
      what: `POST /access/v1/evaluation${query}: a depth-3 member on a depth-${s.stats.maxDepth} leaf below (inherited), admin bearer${context ? `, context ${JSON.stringify(context)}` : ''}`,
      expect: context?.explain ? /"decision":true,"context":\{"explanation"/ : /"decision":true/,
      req: auth({
        method: 'POST',
        path: `/access/v1/evaluation${query}`,
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => ((r.body = rand(bodies)), r),
      }),
    };
  };
  // 20 random leaf pairs per body, as the batch workload asks.
  const batchBodies = prepared(() =>
    JSON.stringify({
      action: { name: 'orgs:read' },
      evaluations: Array.from({ length: 20 }, () => {
        const p = rand(s.evaluationPairs);
        return { subject: { type: 'user', id: p.userId }, resource: { type: 'organization', id: p.orgId } };
      }),
    }),
  );
  return [
    {
      name: 'empty_route',
      what: 'GET /__bench/empty (plain express, no auth): the floor',
      req: { method: 'GET', path: '/__bench/empty' },
    },
    {
      name: 'client_credentials',
      what: `POST /auth/tokens grant_type=client_credentials, Basic auth, ${s.clients.length} clients`,
      req: {
        method: 'POST',
        path: '/api/v1/auth/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        setupRequest: (r) => ((r.headers = { ...r.headers, authorization: rand(clientAuth) }), r),
      },
    },
    {
      // Refresh-token rotation (RFC 6749 section 6): every request spends a refresh token from a pool and puts back
      // the one its answer returns, so each is one spend and one new token in tokens.sqlite, both durable before the
      // answer. (Not autocannon's per-connection context: it is reset whenever the request list wraps, here every
      // request.) The pool starts from password grants made before the load (`prepare`): enough for the probe and
      // the warm-up's and the measured window's connections, each of which leaves its last token unspent.
      name: 'refresh_grant',
      what: 'POST /auth/tokens grant_type=refresh_token (rotation: each answer gives the next request its token)',
      // The probe's body is cut at 300 characters, inside the access token: its start is what can be checked.
      expect: /^\{"access_token":"ey/,
      prepare: async (url) => {
        const wanted = 2 * (opts.connections + 5) + 1;
        while (refreshTokens.length < wanted) {
          const u = s.loginUsers[refreshTokens.length % s.loginUsers.length];
          const body = form({ grant_type: 'password', username: u.email, password: u.password });
          const r = await post(url, '/api/v1/auth/tokens', body);
          if (r.status !== 200 || !r.json?.refresh_token) {
            throw new Error(`refresh_grant: a password grant answered ${r.status}`);
          }
          refreshTokens.push(r.json.refresh_token);
        }
        return undefined;
      },
      req: {
        method: 'POST',
        path: '/api/v1/auth/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (r) => {
          r.body = form({ grant_type: 'refresh_token', refresh_token: refreshTokens.shift() ?? 'pool-empty' });
          return r;
        },
        onResponse: (status, body) => {
          if (status === 200) refreshTokens.push(JSON.parse(body).refresh_token);
        },
      },
    },
    {
      name: 'introspection',
      what: 'POST /auth/tokens/introspect (admin bearer, client token)',
      expect: /"active":true/,
      req: auth({
        method: 'POST',
        path: '/api/v1/auth/tokens/introspect',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (r) => ((r.body = `token=${rand(t.clientTokens)}`), r),
      }),
    },
    { name: 'get_org', what: `GET /orgs/{id}, random among ${s.orgIds.length}`, req: getOrg },
    {
      // The same organizations as of the seed's last position: folded from the log (its stream and its
      // ancestors', one stream per level, up to depth 11), not read from the read model.
      name: 'get_org_as_of',
      what: `GET /orgs/{id}?asOfPosition=${s.stats.events} (point in time: folded from the log), random among ${s.orgIds.length}`,
      expect: /"version":1/,
      req: auth({
        method: 'GET',
        path: '/',
        setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.orgIds)}?asOfPosition=${s.stats.events}`), r),
      }),
    },
    {
      // Point in time from the temporal read model (issue 14): a random organization's children as of the seed's
      // last position (most organizations are leaves or small subtrees), and the depth-mid subtree whole.
      name: 'children_as_of',
      what: `GET /orgs/{id}/children?asOfPosition=${s.stats.events} (temporal read model), random among ${s.orgIds.length}`,
      expect: /"items":\[/,
      req: auth({
        method: 'GET',
        path: '/',
        setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.orgIds)}/children?asOfPosition=${s.stats.events}`), r),
      }),
    },
    {
      name: 'children_mid_as_of',
      what: `GET /orgs/{depth-${s.midDepth} org}/children?depth=all&asOfPosition=${s.stats.events} (first page)`,
      expect: /"items":\[\{/,
      req: auth({ method: 'GET', path: `/api/v1/orgs/${s.midId}/children?depth=all&asOfPosition=${s.stats.events}` }),
    },
    {
      name: 'children_root',
      what: 'GET /orgs/{root}/children?depth=all (first page)',
      expect: /"items":\[\{/,
      req: auth({ method: 'GET', path: `/api/v1/orgs/${s.rootId}/children?depth=all` }),
    },
    {
      name: 'children_mid',
      what: `GET /orgs/{depth-${s.midDepth} org}/children?depth=all`,
      expect: /"items":\[\{/,
      req: auth({ method: 'GET', path: `/api/v1/orgs/${s.midId}/children?depth=all` }),
    },
    {
      name: 'parents_leaf',
      what: `GET /orgs/{depth-${s.stats.maxDepth} leaf}/parents`,
      expect: /"items":\[\{/,
      req: auth({
        method: 'GET',
        path: '/',
        setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.leafIds)}/parents`), r),
      }),
    },
    {
      name: 'org_users',
      what: 'GET /orgs/{id}/users (100 members, first page)',
      expect: /"items":\[\{/,
      req: auth({
        method: 'GET',
        path: '/',
        setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.hotOrgIds)}/users`), r),
      }),
    },
    evaluation('evaluation_leaf', undefined),
    // The same question, explained: what an explanation costs when asked for (unasked, `decide` returns before
    // any of its work: libs/api/src/access-evaluation.unit.spec.ts).
    evaluation('evaluation_leaf_explained', { explain: true }),
    // The same question as of the seed's last position: decided over the temporal read model (issue 14).
    evaluation('evaluation_leaf_as_of', undefined, `?asOfPosition=${s.stats.events}`),
    {
      name: 'evaluations_batch_20',
      what: `POST /access/v1/evaluations: 20 evaluations (leaf pairs as above) in one request`,
      expect: /"evaluations":\[\{"decision":true/,
      req: auth({
        method: 'POST',
        path: '/access/v1/evaluations',
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => ((r.body = rand(batchBodies)), r),
      }),
    },
    {
      name: 'search_resource',
      what: `POST ${searchPath}, a user with grants on ${s.searchRoots} subtrees (${s.searchResults} orgs), first page of 100`,
      expect: /"next_token":"[^"]/,
      req: searchReq(() => searchBody()),
    },
    {
      name: 'search_resource_deep',
      what: `the same search, page ${deepSearch.page + 1} of ${Math.ceil(s.searchResults / 100)}`,
      expect: /"count":100/,
      prepare: (url) => walk(url, searchPath, searchBody, deepSearch, s.searchResults),
      req: searchReq(() => deepSearch.body),
    },
    {
      name: 'search_subject',
      what: `POST ${subjectPath}: the users who may orgs:read on a depth-${s.subjectOrgDepth} organization, ${s.subjectMembers} of them by a membership on its depth-${s.subjectRootDepth} ancestor (${s.subjectResults} results), first page of 100`,
      expect: /"next_token":"[^"]/,
      req: searchReq(() => subjectBody(), subjectPath),
    },
    {
      name: 'search_subject_deep',
      what: `the same search, page ${deepSubject.page + 1} of ${Math.ceil(s.subjectResults / 100)}`,
      expect: /"count":100/,
      prepare: (url) => walk(url, subjectPath, subjectBody, deepSubject, s.subjectResults),
      req: searchReq(() => deepSubject.body, subjectPath),
    },
    {
      name: 'create_org',
      what: `POST /orgs under ${s.createParentIds.length} depth-4 parents (a command)`,
      req: auth({
        method: 'POST',
        path: '/api/v1/orgs',
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => (
          (r.body = JSON.stringify({ name: `bench ${runTag} ${++created}`, parentId: rand(s.createParentIds) })),
          r
        ),
      }),
    },
    {
      // A user created in an organization (no password: no hash): a command whose personal data is sealed under a new
      // data key, made in vault.sqlite before the event is appended.
      name: 'create_user',
      what: `POST /orgs/{id}/users {email, name, roles} under ${s.createParentIds.length} depth-4 organizations (a command, a new data key)`,
      req: auth({
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => {
          const n = ++created;
          r.path = `/api/v1/orgs/${rand(s.createParentIds)}/users`;
          r.body = JSON.stringify({ email: `bench-${runTag}-${n}@example.com`, name: `Bench ${n}`, roles: ['member'] });
          return r;
        },
      }),
    },
    {
      // Issue 15's latency target: at a fixed 500 creations/s (not as fast as the server takes them), p99 <= 25 ms.
      name: 'create_org_at_500',
      what: `POST /orgs as create_org, 500 requests/s over the connections (autocannon: each second's share at its start)`,
      rate: 500,
      req: auth({
        method: 'POST',
        path: '/api/v1/orgs',
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => (
          (r.body = JSON.stringify({ name: `bench ${runTag} r${++created}`, parentId: rand(s.createParentIds) })),
          r
        ),
      }),
    },
    {
      // The same target, measured at an even pace: autocannon's rate above sends each second's share at its start.
      name: 'create_org_paced_500',
      what: `POST /orgs as create_org, one every 2 ms (500/s evenly spaced, open loop; latency from when each was due)`,
      rate: 500,
      paced: true,
      req: auth({
        method: 'POST',
        path: '/api/v1/orgs',
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => (
          (r.body = JSON.stringify({ name: `bench ${runTag} r${++created}`, parentId: rand(s.createParentIds) })),
          r
        ),
      }),
    },
    {
      name: 'password_grant_flood',
      what: `POST /auth/tokens grant_type=password, ${opts.floodConnections} connections (scrypt-bound)`,
      connections: opts.floodConnections,
      warmup: false,
      req: {
        method: 'POST',
        path: '/api/v1/auth/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (r) => {
          const u = rand(s.loginUsers);
          r.body = form({ grant_type: 'password', username: u.email, password: u.password });
          return r;
        },
      },
      alongside: {
        name: 'get_org_during_flood',
        what: 'GET /orgs/{id}, 10 connections, during the password flood',
        connections: 10,
        req: getOrg,
      },
    },
  ];
}

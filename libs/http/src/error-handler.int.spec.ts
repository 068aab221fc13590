import express from 'express';
import type { SampleServer } from './bind-routes.test-support';
import { bearer, expectProblem, listen, mapError, startSampleServer } from './bind-routes.test-support';
import { errorHandler } from './error-handler';

describe('notFoundHandler and errorHandler behind bound routes', () => {
  let server: SampleServer;
  const call: SampleServer['call'] = (method, path, init) => server.call(method, path, init);
  const auth = bearer;

  beforeAll(async () => {
    server = await startSampleServer();
  });

  afterAll(() => server.close());

  it('answers unmatched paths under the mount with a 404 problem', async () => {
    expectProblem(await call('GET', '/no/such/thing'), 404, 'IAM_ERR_NOT_FOUND');
    expectProblem(await call('GET', '/orgs/7/children/extra'), 404, 'IAM_ERR_NOT_FOUND');
  });

  it('turns undecodable path parameters into a 400 problem', async () => {
    expectProblem(await call('GET', '/orgs/%E0%A4%A/children', { headers: auth }), 400, 'IAM_ERR_VALIDATION');
  });
});

describe('errorHandler', () => {
  it('renders errors of an app-wide body parser as problems', async () => {
    const log = jest.fn();
    const app = express();
    app.use(express.json({ limit: 16 }));
    app.post('/echo', (req, res) => {
      res.json(req.body);
    });
    app.use(errorHandler(mapError, log));
    const other = await listen(app);
    try {
      const url = `${other.base}/echo`;
      const post = (body: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const tooLarge = await post(JSON.stringify({ name: 'x'.repeat(64) }));
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.headers.get('content-type')).toBe('application/problem+json');
      expect(((await tooLarge.json()) as { code: string }).code).toBe('IAM_ERR_PAYLOAD_TOO_LARGE');
      const malformed = await post('{"a":');
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/body' }] });
    } finally {
      await other.close();
    }
  });
});

import { Router, type Response } from 'express';
import { dirname, join } from 'node:path';

/** Where the rendered reference lives; its assets are served below it (`/api/v1/docs/<file>`). */
export const API_DOCS_PATH = '/api/v1/docs';

/**
 * The page's own script: Swagger UI rendering the OpenAPI document of the same server. It is a file, not an
 * inline script, so the page's Content-Security-Policy can forbid inline scripts. `queryConfigEnabled`
 * stays off: a `?url=` must never make the page render (and run "Try it out" against) another document.
 */
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    queryConfigEnabled: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Arbor Identity &amp; Access API</title>
  <link rel="stylesheet" href="${API_DOCS_PATH}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${API_DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script src="${API_DOCS_PATH}/initializer.js"></script>
</body>
</html>
`;

/**
 * Swagger UI needs inline styles (and data: images in its CSS); scripts only from here, requests only to
 * here, and no framing (the page can send the reader's bearer token with "Try it out").
 */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

/** The swagger-ui-dist files the page loads, served from node_modules (no CDN: the page works offline). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/**
 * `GET /api/v1/docs`: the API reference rendered by Swagger UI (swagger-ui-dist from npm), reading
 * `/api/v1/openapi.json`. Public, like the document it renders. Resolves the package at creation, so a
 * deployment without it fails at start rather than on the first visit.
 */
export function apiDocsRouter(): Router {
  const assetDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const router = Router({ caseSensitive: true, strict: true });
  const common = (res: Response, type: string): Response =>
    res.set({ 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=300' });

  router.get(API_DOCS_PATH, (_req, res) => {
    common(res, 'text/html; charset=utf-8')
      .set({ 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' })
      .send(PAGE);
  });
  router.get(`${API_DOCS_PATH}/initializer.js`, (_req, res) => {
    common(res, 'text/javascript; charset=utf-8').send(INITIALIZER);
  });
  for (const [file, type] of Object.entries(ASSETS)) {
    router.get(`${API_DOCS_PATH}/${file}`, (_req, res, next) => {
      common(res, type).sendFile(join(assetDir, file), (err) => err && next(err));
    });
  }
  return router;
}

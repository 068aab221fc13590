import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { TestApp } from './test-app';

/**
 * Checks that the server accepts a request body exactly when the OpenAPI document it serves does (what
 * scripts/schemathesis.sh checks by fuzzing): the body is validated against the operation's request schema in
 * `GET /api/v1/openapi.json`, then sent; a refusal must be a 400 IAM_ERR_VALIDATION.
 */
export interface DocumentAgreement {
  /** The document's verdict on `text` (parsed as JSON) and the server's answer to it. */
  both(
    method: string,
    path: string,
    text: string,
    docPath?: string,
  ): Promise<{ schemaValid: boolean; status: number; body: any }>;
  /** Asserts that schema and server agree on `text`: both accept it (2xx), or both refuse it (400). */
  expectAgreement(method: string, path: string, text: string, accepted: boolean, docPath?: string): Promise<void>;
}

export async function documentAgreement(app: TestApp): Promise<DocumentAgreement> {
  const doc = (await app.call('GET', '/api/v1/openapi.json', { token: null })).body;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'doc');
  const validators = new Map<string, ValidateFunction>();
  const validator = (method: string, docPath: string): ValidateFunction => {
    const key = `${method} ${docPath}`;
    let validate = validators.get(key);
    if (!validate) {
      const escaped = docPath.replace(/~/g, '~0').replace(/\//g, '~1');
      const pointer = `/paths/${escaped}/${method.toLowerCase()}/requestBody/content/application~1json/schema`;
      validate = ajv.compile({ $ref: `doc#${pointer}` });
      validators.set(key, validate);
    }
    return validate;
  };
  const both: DocumentAgreement['both'] = async (method, path, text, docPath = path) => {
    const schemaValid = validator(method, docPath)(JSON.parse(text)) as boolean;
    const res = await app.call(method, path, { rawBody: text, headers: { 'content-type': 'application/json' } });
    return { schemaValid, status: res.status, body: res.body };
  };
  return {
    both,
    async expectAgreement(method, path, text, accepted, docPath) {
      const { schemaValid, status, body } = await both(method, path, text, docPath);
      const answer = status === 400 ? 400 : status < 300 ? 'ok' : status;
      expect({ path, text, schemaValid, answer }).toEqual({
        path,
        text,
        schemaValid: accepted,
        answer: accepted ? 'ok' : 400,
      });
      if (!accepted) expect(body.code).toBe('IAM_ERR_VALIDATION');
    },
  };
}

import type { ValidateFunction } from 'ajv';
import type { Request } from 'express';
import { MAX_JSON_DEPTH, jsonStructureFault } from './duplicate-keys';
import type { JsonPath } from './free-values';
import { assertUtf8Escapes, collectUnique } from './parse-query-string';
import { readRawBody } from './read-raw-body';
import { payloadTooLargeProblem, unsupportedMediaTypeProblem, validationProblem } from './request-problems';
import { toFieldErrors } from './to-field-errors';
import { isJsonType } from './write-response';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** What a route accepts as body, with its validators compiled at bind time. */
export interface BodyRules {
  required: boolean;
  /** Lower-case media types without parameters. */
  mediaTypes: ReadonlySet<string>;
  /** Human-readable list for 415 details, computed once. */
  mediaTypeList: string;
  /**
   * On a PATCH route, the media types as an `Accept-Patch` field value (RFC 5789 sections 2.2 and 3.1): every
   * 415 of the route carries it, so a client learns which patch documents it may send.
   */
  acceptPatch?: Record<string, string>;
  /** Exact types: present when a JSON media type is accepted. */
  validateJson?: ValidateFunction;
  /** Coercing: form fields are all strings, so their schema types are coerced like query parameters. */
  validateForm?: ValidateFunction;
  /** Form fields that may repeat, collected as arrays (`request.body.repeatable`). */
  repeatable?: ReadonlySet<string>;
  /** Where the JSON body's values are never read (see `ignoresFreeValues`): exempt from the number and text rules. */
  free?: (path: JsonPath) => boolean;
  /** The 400's detail when the body breaks its schema. */
  invalidDetail: string;
}

/** Only these media types can be parsed; anything else is a bind-time error. */
export const isParseableMediaType = (mediaType: string): boolean =>
  mediaType === FORM_CONTENT_TYPE || isJsonType(mediaType);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads, decodes and validates the body of a route that declares one. Returns `undefined` for an absent
 * optional body. The checks run in the order a client can act on: absence, media type, size, syntax, schema.
 */
export const extractRequestBody = async (req: Request, rules: BodyRules, limit: number): Promise<unknown> => {
  const headers = req.headers;
  const declaredLength = headers['content-length'];
  const preParsed = (req as { _body?: boolean })._body === true;
  if (!hasContent(req)) return absent(rules);

  const media = parseMediaType(headers['content-type']);
  if (media === undefined || !rules.mediaTypes.has(media.type)) {
    throw unsupportedMediaTypeProblem(`The request body must be sent as ${rules.mediaTypeList}.`, rules.acceptPatch);
  }
  if (media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    throw unsupportedMediaTypeProblem('The request body must be encoded as UTF-8.', rules.acceptPatch);
  }
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw unsupportedMediaTypeProblem('Compressed request bodies are not accepted.', rules.acceptPatch);
  }

  const isJson = media.type !== FORM_CONTENT_TYPE;
  let value: unknown;
  if (preParsed) {
    // An app-wide body parser ran before the router and already consumed the stream; use its result.
    value = req.body;
  } else {
    if (declaredLength !== undefined && Number(declaredLength) > limit) {
      req.resume();
      throw payloadTooLargeProblem(limit);
    }
    const bytes = await readRawBody(req, limit);
    if (bytes.length === 0) return absent(rules);
    value = decode(bytes, isJson, rules);
  }

  const validate = isJson ? rules.validateJson : rules.validateForm;
  if (validate !== undefined && !validate(value)) {
    throw validationProblem(rules.invalidDetail, toFieldErrors(validate.errors, 'body'));
  }
  return value;
};

/** Whether the request carries content (a body, possibly empty when chunked), read or not. */
const hasContent = (req: Request): boolean => {
  const headers = req.headers;
  const declaredLength = headers['content-length'];
  return (
    (req as { _body?: boolean })._body === true ||
    (!req.readableEnded &&
      (headers['transfer-encoding'] !== undefined || (declaredLength !== undefined && declaredLength !== '0')))
  );
};

/**
 * For operations that declare no request body: content is a 400, not something silently ignored (a client
 * that sends roles or options to such an operation believes they count).
 */
export const refuseRequestContent = (req: Request): undefined => {
  if (!hasContent(req)) return undefined;
  req.resume();
  throw validationProblem('This operation takes no request body.', [{ path: '/body', message: 'must be absent' }]);
};

const absent = (rules: BodyRules): undefined => {
  if (rules.required)
    throw validationProblem('The request body is required.', [{ path: '/body', message: 'is required' }]);
  return undefined;
};

const decode = (bytes: Buffer, isJson: boolean, rules: BodyRules): unknown => {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw validationProblem('The request body is not valid UTF-8.', [{ path: '/body', message: 'is not valid UTF-8' }]);
  }
  if (!isJson) {
    assertUtf8Escapes(text, 'body');
    return collectUnique(new URLSearchParams(text), Object.create(null), 'body', rules.repeatable);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, which may hold a password: never pass it on.
    throw validationProblem('The request body is malformed JSON.', [{ path: '/body', message: 'is malformed JSON' }]);
  }
  // Any JSON text may hold a number or a string to refuse; only objects and arrays nest or repeat names.
  const fault = jsonStructureFault(text, MAX_JSON_DEPTH, rules.free);
  if (fault?.kind === 'too-deep')
    throw validationProblem(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, [
      { path: '/body', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  if (fault?.kind === 'duplicate')
    throw validationProblem('The request body repeats a member name in one object.', [
      { path: `/body${fault.pointer}`, message: 'must not be repeated' },
    ]);
  if (fault?.kind === 'number')
    throw validationProblem('The request body holds a number beyond ±(2^53 - 1), which would not be kept exactly.', [
      { path: `/body${fault.pointer}`, message: 'must be a number from -(2^53 - 1) to 2^53 - 1' },
    ]);
  if (fault?.kind === 'text')
    throw validationProblem('The request body holds text that cannot be stored.', [
      { path: `/body${fault.pointer}`, message: fault.message },
    ]);
  return value;
};

interface MediaType {
  type: string;
  charset?: string;
}

/** `application/json; charset=UTF-8` → `{ type: 'application/json', charset: 'utf-8' }`. */
export const parseMediaType = (header: string | undefined): MediaType | undefined => {
  if (header === undefined) return undefined;
  const parts = header.split(';');
  const type = parts[0].trim().toLowerCase();
  if (type === '') return undefined;
  const media: MediaType = { type };
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq === -1 || parts[i].slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    media.charset = parts[i]
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return media;
};

import { IamError } from '@arbor/domain';
import type { Conditional } from '@arbor/application';
import { idempotencyKeyHeader } from './schemas';
import {
  ENTITY_TAG_LIST_PATTERN,
  ifMatchHolds,
  ifNoneMatchHolds,
  MAX_PRECONDITION_LENGTH,
  problemResponse,
  readPreconditions,
  representationTag,
  type HandlerRequest,
  type JsonSchema,
} from '@arbor/http';

/**
 * A write's target as it stands in the read models: the representation a GET of it sends (`body`, whose
 * strong ETag is `representationTag(version, body)`), and what the command must still find when the
 * preconditions hold (the versions behind that representation, e.g. `{expectedVersion}`).
 */
export interface CurrentRepresentation<E extends object> {
  version: number;
  body: unknown;
  expected: E;
}

/**
 * Evaluates a write's `If-Match`, then its `If-None-Match` (RFC 9110 sections 13.1.1, 13.1.2, in the order of
 * 13.2.2) against the target's current representation, and returns what the command must carry:
 * - nothing, when the request has neither header (and nothing is read);
 * - `expected` when both hold: the command side refuses with 412 if the resource has changed since;
 * - `{preconditionFailed: true}` when one does not: the command side answers 412 once it has authorized the
 *   command (a caller who may not see the resource or do this gets 404 or 403, as without the header).
 *
 * A target that does not exist is a 404 (IAM_ERR_NOT_FOUND with `notFound`): the answer without the headers
 * (RFC 9110 section 13.2.1). A malformed header is a 400. `If-Match: *` holds for any existing target, and a
 * weak tag never matches `If-Match` (strong comparison); `If-None-Match` compares weakly, and `*` fails on
 * any existing target.
 */
export async function preconditionOf<E extends object>(
  req: HandlerRequest<unknown, unknown, unknown>,
  read: () => Promise<CurrentRepresentation<E> | undefined>,
  notFound: string,
): Promise<Partial<E> & Conditional> {
  const headers = req.raw.headers;
  if (headers['if-match'] === undefined && headers['if-none-match'] === undefined) return {};
  const { ifMatch, ifNoneMatch } = readPreconditions(headers);
  const current = await read();
  if (current === undefined) throw new IamError('IAM_ERR_NOT_FOUND', notFound);
  const tag = representationTag(current.version, current.body);
  const failed =
    (ifMatch !== undefined && !ifMatchHolds(ifMatch, tag)) ||
    (ifNoneMatch !== undefined && !ifNoneMatchHolds(ifNoneMatch, tag));
  // Partial<E> holds for `{}`: the failed command carries no expectations, only the failure.
  return failed ? ({ preconditionFailed: true } as Partial<E> & Conditional) : current.expected;
}

/** The documented `If-Match` of a write (validated by `readPreconditions`). */
export const ifMatchHeader: JsonSchema = {
  type: 'string',
  maxLength: MAX_PRECONDITION_LENGTH,
  pattern: ENTITY_TAG_LIST_PATTERN,
  description:
    'RFC 9110 section 13.1.1: "*" or entity tags from the ETag of earlier responses. The change is made only if one of them is the current ETag (strong comparison: a weak tag never matches; "*": the resource exists); 412 otherwise. 400 when malformed.',
};

/** The documented `If-None-Match` of a write. */
export const ifNoneMatchWriteHeader: JsonSchema = {
  type: 'string',
  maxLength: MAX_PRECONDITION_LENGTH,
  pattern: ENTITY_TAG_LIST_PATTERN,
  description:
    'RFC 9110 section 13.1.2: 412 when one of these entity tags matches the current ETag (weak comparison), or with "*" whenever the resource exists.',
};

/** The documented conditional headers of a read (evaluated by the HTTP binder for every GET with an ETag). */
export const conditionalReadHeaders: Record<string, JsonSchema> = {
  'if-match': {
    type: 'string',
    maxLength: MAX_PRECONDITION_LENGTH,
    pattern: ENTITY_TAG_LIST_PATTERN,
    description:
      'RFC 9110 section 13.1.1: 412 unless one of these entity tags is the current ETag (strong comparison) or it is "*".',
  },
  'if-none-match': {
    type: 'string',
    maxLength: MAX_PRECONDITION_LENGTH,
    pattern: ENTITY_TAG_LIST_PATTERN,
    description:
      'RFC 9110 section 13.1.2: 304 Not Modified, with the ETag and no body, when one of these entity tags matches the current ETag (weak comparison) or it is "*".',
  },
};

const conditionalWriteProperties = { 'if-match': ifMatchHeader, 'if-none-match': ifNoneMatchWriteHeader };

/** The documented conditional headers of a write. */
export const conditionalWriteHeaders: JsonSchema = { type: 'object', properties: conditionalWriteProperties };

/** The headers of a conditional POST: the conditional ones and `Idempotency-Key` (contract section 1). */
export const conditionalPostHeaders: JsonSchema = {
  type: 'object',
  properties: { ...conditionalWriteProperties, 'idempotency-key': idempotencyKeyHeader },
};

/** The `ETag` response header, as documented on every route that answers one resource. */
export const etagHeader = {
  ETag: {
    description: 'Strong entity tag of this representation: "<version>-<digest of the body>" (contract section 1).',
    schema: { type: 'string' },
  },
};

/** The 412 of a write or read whose precondition does not hold. */
export const preconditionFailedResponse = problemResponse(
  'If-Match or If-None-Match does not hold for the current representation.',
);

/** The 304 of a read whose If-None-Match matched. */
export const notModifiedResponse = {
  description: 'Not Modified: If-None-Match matched the current ETag.',
  headers: etagHeader,
};

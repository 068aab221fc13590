export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Prefix of the `type` URI of every problem; the suffix is the stable error code. */
export const PROBLEM_TYPE_PREFIX = 'urn:arbor:error:';

export interface FieldError {
  /** JSON pointer into the request, prefixed by the location: `/body/name`, `/query/limit`. */
  path: string;
  message: string;
}

/** An RFC 9457 problem details body, extended with the stable `code` and per-field `errors`. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
}

/**
 * An error that already knows its HTTP rendering. The binder sends it as is; any other error goes through
 * `mapError` first. `detail` is sent to the client, so it must never carry secrets or internals.
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }

  get detail(): string {
    return this.message;
  }
}

export const isHttpProblem = (e: unknown): e is HttpProblem => e instanceof HttpProblem;

export const problemBody = (p: HttpProblem): ProblemBody => {
  const body: ProblemBody = {
    type: PROBLEM_TYPE_PREFIX + p.code,
    title: p.title,
    status: p.status,
    detail: p.detail,
    code: p.code,
  };
  if (p.errors !== undefined && p.errors.length > 0) body.errors = p.errors;
  return body;
};

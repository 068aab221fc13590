/** The result of checking a request parameter: its value, or why it is refused (for error_description). */
export type Checked<T> = { ok: true; value: T } | { ok: false; description: string };

/** `IAM_AUDIENCE`'s default: Arbor's API under its issuer. */
export const defaultAudience = (issuer: string): string => `${issuer}/api/v1`;

/**
 * The audiences tokens may be issued for (RFC 8707 resource indicators, RFC 9068 `aud`): Arbor's own API
 * (`own`, which the Authenticator requires) and the operator's other resource servers (`others`).
 */
export class TokenAudiences {
  private readonly known: ReadonlySet<string>;

  /** Throws when a URI is not absolute or has a fragment (RFC 8707 section 2). */
  constructor(
    readonly own: string,
    readonly others: readonly string[] = [],
  ) {
    for (const uri of [own, ...others])
      if (!isResourceUri(uri)) throw new Error(`Not an absolute URI without fragment: "${uri}"`);
    this.known = new Set([own, ...others]);
  }

  /**
   * The audiences for a token from the `resource` parameter(s): absent means Arbor's own; each value must be
   * one of the known URIs, exactly (RFC 8707 section 2: `invalid_target` otherwise). Repeats count once.
   */
  select(resource: unknown): Checked<string[]> {
    if (resource === undefined) return { ok: true, value: [this.own] };
    const values = Array.isArray(resource) ? resource : [resource];
    if (values.length === 0) return { ok: false, description: 'resource, when given, must name at least one URI.' };
    for (const value of values) {
      if (typeof value !== 'string' || !isResourceUri(value))
        return { ok: false, description: 'resource must be an absolute URI without a fragment (RFC 8707).' };
      if (!this.known.has(value))
        return { ok: false, description: `This server issues no tokens for the resource ${value}.` };
    }
    return { ok: true, value: [...new Set(values as string[])] };
  }
}

const isResourceUri = (value: string): boolean => {
  if (value.includes('#')) return false;
  try {
    return new URL(value).href !== '' && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value);
  } catch {
    return false;
  }
};

/**
 * `IAM_AUDIENCE` (default `<issuer>/api/v1`) and `IAM_RESOURCES` (comma-separated absolute URIs, default
 * none), read the same way by every process that serves the API; throws on a value that is not a URI.
 */
export function tokenAudiencesFromEnv(env: NodeJS.ProcessEnv, issuer: string): TokenAudiences {
  const others = (env.IAM_RESOURCES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  try {
    return new TokenAudiences(env.IAM_AUDIENCE || defaultAudience(issuer), others);
  } catch (e) {
    throw new Error(`IAM_AUDIENCE and IAM_RESOURCES must be absolute URIs without fragments: ${(e as Error).message}`);
  }
}

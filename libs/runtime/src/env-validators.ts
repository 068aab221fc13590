import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { cleanEnv, makeValidator, type ValidatorSpec } from 'envalid';
import type { LogLevel } from '@arbor/application';

/**
 * The variable checks every app shares, as envalid validators. Invariants:
 * - an unset or empty variable takes the default (envalid itself only defaults unset ones: `validate`);
 * - a bad value throws an Error whose message starts with the variable's name and quotes the value, and
 *   `validate` throws them all at once, one per line, instead of envalid's default (print and exit).
 */

/** A validator from `parse` (throws naming the variable) with the value of an unset variable. */
function withDefault<T>(_name: string, fallback: T, parse: (raw: string) => T): ValidatorSpec<T> {
  return makeValidator<T>(parse)({ default: fallback as never });
}

/** A TCP port (0 to 65535 in decimal digits, 0: any free port). */
export function port(name: string, fallback: number): ValidatorSpec<number> {
  return withDefault(name, fallback, (raw) => {
    const value = /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value > 65535)
      throw new Error(`${name} must be an integer from 0 to 65535, not "${raw}"`);
    return value;
  });
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A listening address: an IP address (brackets around IPv6 dropped) or a DNS host name (RFC 1123). */
export function host<T extends string | undefined>(name: string, fallback: T): ValidatorSpec<string | T> {
  return withDefault<string | T>(name, fallback, (raw) => {
    const bare = raw.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare) === 0 && !HOST_NAME.test(bare))
      throw new Error(`${name} must be an IP address or a host name, not "${raw}"`);
    return bare;
  });
}

const LOG_LEVELS: readonly LogLevel[] = ['info', 'warn', 'error', 'silent'];

/** IAM_LOG_LEVEL: `info` (default), `warn`, `error` or `silent`. */
export function logLevel(): ValidatorSpec<LogLevel> {
  return withDefault<LogLevel>('IAM_LOG_LEVEL', 'info', (raw) => {
    if (!(LOG_LEVELS as readonly string[]).includes(raw))
      throw new Error(`IAM_LOG_LEVEL must be info, warn, error or silent, not "${raw}"`);
    return raw as LogLevel;
  });
}

/** IAM_DATA_DIR as an absolute path; a directory if it exists. Its default (./data) is in RAW_DEFAULTS. */
export function dataDir(): ValidatorSpec<string> {
  return makeValidator<string>((raw) => {
    const dir = resolve(raw);
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new Error(`IAM_DATA_DIR must be a directory, not the file "${dir}"`);
    return dir;
  })();
}

/**
 * Defaults that must go through their validator, as text: a relative path resolves against the working
 * directory when read, and must be checked like a value that was set.
 */
const RAW_DEFAULTS: Readonly<Record<string, string>> = { IAM_DATA_DIR: './data' };

/** A whole number from `min` to `max`, or `fallback` (possibly undefined: "not configured"). */
export function wholeNumber<T extends number | undefined>(
  name: string,
  min: number,
  max: number,
  fallback: T,
  wording = 'an integer',
): ValidatorSpec<number | T> {
  return withDefault<number | T>(name, fallback, (raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`${name} must be ${wording} from ${min} to ${max}, not "${raw}"`);
    return value;
  });
}

/**
 * `raw` with everything up to its last `@` replaced by `***` (after the scheme's `://`, kept when there is one), for
 * quoting a refused value in an error message: a connection URL often carries a password (RFC 3986 section 3.2.1),
 * and the password of a value refused as malformed may be what broke it (`/`, `?`, `#`, a space or `@` unescaped),
 * so no character of it is trusted to end the user information. A value without `@` is quoted whole.
 */
export const withoutCredentials = (raw: string): string => {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  const scheme = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(raw)?.[0] ?? '';
  return `${scheme.trim()}***${raw.slice(at)}`;
};

/** An http(s) URL without its trailing slashes; `bare` also refuses a query or fragment (an issuer, RFC 8414 section 2). */
export function httpUrl(name: string, bare: boolean): ValidatorSpec<string | undefined> {
  return withDefault<string | undefined>(name, undefined, (raw) => {
    const url = raw.replace(/\/+$/, '');
    const shape = bare ? /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/ : /^https?:\/\//;
    if (!shape.test(url) || !URL.canParse(url))
      throw new Error(
        `${name} must be an http(s) URL${bare ? ' without query or fragment' : ''}, not "${withoutCredentials(raw)}"`,
      );
    return url;
  });
}

/**
 * A PostgreSQL connection URL (`postgres://` or `postgresql://`, as node-postgres reads it), or `fallback`. Refused
 * otherwise, naming the variable and the value without its credentials: a mistyped URL (`postgres//host/db`) used to
 * reach the driver as a host name of its own and fail as `getaddrinfo ENOTFOUND`, naming nothing.
 */
export function postgresUrl(name: string, fallback: string | undefined): ValidatorSpec<string | undefined> {
  return withDefault<string | undefined>(name, fallback, (raw) => {
    if (!/^postgres(ql)?:\/\/[^\s]+$/.test(raw) || !URL.canParse(raw))
      throw new Error(`${name} must be a postgres:// or postgresql:// URL, not "${withoutCredentials(raw)}"`);
    return raw;
  });
}

/** A lower-case SQL identifier that needs no quoting (a PostgreSQL schema name), or `fallback`. */
export function sqlIdentifier(name: string, fallback: string): ValidatorSpec<string> {
  return withDefault(name, fallback, (raw) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw))
      throw new Error(`${name} must be a lower-case SQL identifier, not "${raw}"`);
    return raw;
  });
}

/** Free text, or `fallback` when unset or empty. */
export function text<T extends string | undefined>(name: string, fallback: T): ValidatorSpec<string | T> {
  return withDefault<string | T>(name, fallback, (raw) => raw);
}

/** `true` turns a switch on; anything else (or nothing) leaves it off, as the switches always read. */
export function flag(name: string): ValidatorSpec<boolean> {
  return withDefault(name, false, (raw) => raw === 'true');
}

/** Something read by a parser of its own (it throws naming the variable), e.g. parseCorsOrigins. */
export function parsed<T>(name: string, parse: (raw: string | undefined) => T): ValidatorSpec<T> {
  return withDefault<T>(name, parse(undefined), (raw) => parse(raw));
}

/**
 * Runs envalid over `env` with `specs`, collecting every bad value: throws one Error listing them (one line
 * each, each naming its variable), or returns the cleaned values. Never exits the process: the caller decides.
 */
export function validate<S extends Record<string, ValidatorSpec<unknown>>>(
  env: NodeJS.ProcessEnv,
  specs: S,
): { [K in keyof S]: S[K] extends ValidatorSpec<infer T> ? T : never } {
  // Unset and empty are the same ("" in a compose or unit file blanks a variable out): both take the default.
  const given: Record<string, string> = {};
  for (const name of Object.keys(specs)) {
    const raw = env[name] === undefined || env[name] === '' ? RAW_DEFAULTS[name] : env[name];
    if (raw !== undefined) given[name] = raw;
  }
  const cleaned = cleanEnv(given, specs, {
    reporter: ({ errors }) => {
      const messages = Object.values(errors).map((error) => (error as Error).message);
      if (messages.length > 0) throw new Error(messages.join('\n'));
    },
  });
  // cleanEnv returns a proxy that throws on unknown keys; a plain copy is easier to spread and compare.
  return { ...cleaned } as never;
}

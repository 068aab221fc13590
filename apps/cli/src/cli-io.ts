import { parseArgs } from 'node:util';

/** What the command reads: the process environment, standard input, and where it writes its answer. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  args: string[];
  /** The whole of standard input (for `--password-stdin`). */
  readStdin(): Promise<string>;
  out(line: string): void;
  /**
   * Writes to standard output and resolves once the stream takes more (backpressure: a slow reader slows the
   * command, never its memory). Rejects when the output fails (a full disk); a reader that went away (EPIPE)
   * ends the process quietly instead (main.ts).
   */
  write(text: string): Promise<void>;
}

/** Thrown for what an operator must fix; the message is the whole answer (exit code 1, no stack). */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/**
 * `args` parsed by node:util's parseArgs, strict (an unknown option or a positional is refused), where every option
 * may be given once: parseArgs itself keeps the last of a repeated option silently, and `--file a --file b` would
 * verify or restore another file than the operator may believe. CliError naming the problem and `usage` otherwise.
 */
export function parseOptionsOnce<const T extends Record<string, 'string' | 'boolean'>>(
  args: string[],
  spec: T,
  usage: string,
): { [K in keyof T]?: T[K] extends 'string' ? string : boolean } {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, tokens: true, options });
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\nUsage: ${usage}`);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new CliError(`--${token.name} may be given once.\nUsage: ${usage}`);
    seen.add(token.name);
  }
  return parsed.values as { [K in keyof T]?: T[K] extends 'string' ? string : boolean };
}

/**
 * Structured logging. Callers pass fields, never request bodies or headers: those can hold passwords,
 * secrets and tokens, which must never reach a log line.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line on stdout (info) or stderr (warn, error). */
export function jsonLogger(base: Record<string, unknown> = {}, minimum: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const rank = { info: 0, warn: 1, error: 2, silent: 3 };
  const write = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (rank[level] < rank[minimum]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields });
    (level === 'info' ? process.stdout : process.stderr).write(line + '\n');
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

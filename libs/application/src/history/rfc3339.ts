/** RFC 3339 `date-time`: a full date, a time with seconds, an offset; `T` (or a space, RFC 3339 section 5.6) and `Z` in any case. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An RFC 3339 `date-time` as the ISO 8601 UTC instant the event stores compare (`toISOString`), or undefined when it
 * is none, or one they cannot compare: a real calendar date, an offset required (never a local time zone), the
 * instant within the years 0001-9999 once the offset is applied (RFC 3339 has no year 0; PostgreSQL refuses what
 * JavaScript can place but SQL cannot compare). A leap second (`23:59:60`, valid RFC 3339, unknown to JavaScript
 * dates) counts as the last millisecond of its minute. The event API (after its schema's `date-time` check) and
 * the CLI read instants by this one rule.
 */
export function rfc3339Instant(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 ? (leapYear ? 29 : 28) : new Date(Date.UTC(2001, month, 0)).getUTCDate();
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 60)
    return undefined;
  const iso = `${text.slice(0, 10)}T${text.slice(11)}`
    .toUpperCase()
    .replace(/:60(\.\d+)?(?=(Z|[+-]\d\d:\d\d)$)/, ':59.999');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || ms < FIRST_INSTANT || ms > LAST_INSTANT ? undefined : new Date(ms).toISOString();
}

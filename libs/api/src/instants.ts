import { IamError } from '@arbor/domain';

const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An RFC 3339 `date-time` (already checked by the schema) as the ISO instant the store compares. A leap
 * second (`23:59:60`, valid RFC 3339, unknown to JavaScript dates) counts as the last millisecond of its
 * minute. Instants outside the years 0001-9999 (after the offset is applied) are refused: RFC 3339 has no
 * year 0, and PostgreSQL refuses what JavaScript can place but SQL cannot compare. Anything outside that is a
 * 400, never a 500.
 */
export function instantOf(text: string, parameter: string): string {
  const ms = Date.parse(text.replace(/:60(\.\d+)?(?=(z|[+-]\d\d:\d\d)$)/i, ':59.999'));
  if (Number.isNaN(ms) || ms < FIRST_INSTANT || ms > LAST_INSTANT)
    throw new IamError('IAM_ERR_VALIDATION', 'The query parameters are invalid.', [
      { path: `/query/${parameter}`, message: 'must be a representable date-time' },
    ]);
  return new Date(ms).toISOString();
}

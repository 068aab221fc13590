import { rfc3339Instant } from '@arbor/application';
import { IamError } from '@arbor/domain';

/**
 * An RFC 3339 `date-time` query parameter (already checked by the schema's `date-time` format) as the ISO
 * instant the store compares (rfc3339Instant: a leap second is the last millisecond of its minute; the years
 * 0001-9999 once the offset is applied). Throws IamError IAM_ERR_VALIDATION naming `/query/<parameter>` for
 * anything else: a 400, never a 500.
 */
export function instantOf(text: string, parameter: string): string {
  const instant = rfc3339Instant(text);
  if (instant === undefined)
    throw new IamError('IAM_ERR_VALIDATION', 'The query parameters are invalid.', [
      { path: `/query/${parameter}`, message: 'must be a representable date-time' },
    ]);
  return instant;
}

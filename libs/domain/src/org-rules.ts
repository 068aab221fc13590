import { IamError, type FieldError } from './iam-error';

export const ORG_NAME_MAX = 200;
export const ORG_DESCRIPTION_MAX = 2000;
export const ORG_METADATA_MAX_BYTES = 4096;

// Control characters (C0, DEL, C1) make names unprintable in breadcrumbs and logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface OrgFields {
  name: string;
  description: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Normalises and checks the fields every organization write carries. The HTTP schemas check shapes first;
 * these rules are the authority for any caller of the domain. Returns the normalised fields (names are
 * trimmed and NFC-normalised, so that "Acme" and "Acme " are the same sibling name).
 */
export function checkOrgFields(input: { name: unknown; description?: unknown; metadata?: unknown }): OrgFields {
  const errors: FieldError[] = [];
  let name = '';
  if (typeof input.name !== 'string') {
    errors.push({ path: '/name', message: 'must be a string' });
  } else {
    name = input.name.normalize('NFC').trim();
    const length = [...name].length;
    if (length < 1) errors.push({ path: '/name', message: 'must not be empty' });
    else if (length > ORG_NAME_MAX)
      errors.push({ path: '/name', message: `must be at most ${ORG_NAME_MAX} characters` });
    else if (CONTROL.test(name)) errors.push({ path: '/name', message: 'must not contain control characters' });
  }

  let description: string | null = null;
  if (input.description !== undefined && input.description !== null) {
    if (typeof input.description !== 'string')
      errors.push({ path: '/description', message: 'must be a string or null' });
    else if ([...input.description].length > ORG_DESCRIPTION_MAX)
      errors.push({ path: '/description', message: `must be at most ${ORG_DESCRIPTION_MAX} characters` });
    else description = input.description;
  }

  let metadata: Record<string, unknown> = {};
  if (input.metadata !== undefined && input.metadata !== null) {
    if (typeof input.metadata !== 'object' || Array.isArray(input.metadata)) {
      errors.push({ path: '/metadata', message: 'must be a JSON object' });
    } else if (Buffer.byteLength(JSON.stringify(input.metadata), 'utf8') > ORG_METADATA_MAX_BYTES) {
      errors.push({ path: '/metadata', message: `must be at most ${ORG_METADATA_MAX_BYTES} bytes as JSON` });
    } else {
      metadata = input.metadata as Record<string, unknown>;
    }
  }

  if (errors.length > 0) throw new IamError('IAM_ERR_VALIDATION', 'The organization is not valid.', errors);
  return { name, description, metadata };
}

import { IamError } from './iam-error';

/**
 * Refuses a write whose `If-Match` matched a representation the resource has since moved on from (a write
 * that raced the gateway's evaluation of the precondition): IAM_ERR_PRECONDITION_FAILED, answered 412.
 */
export function checkPrecondition(resource: string, version: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== version)
    throw new IamError(
      'IAM_ERR_PRECONDITION_FAILED',
      `The ${resource} changed after If-Match was evaluated (version ${expected} then, ${version} now).`,
    );
}

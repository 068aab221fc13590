import { IamError } from '@arbor/domain';
import type { OrgRef } from '../auth/access-facts';
import type { AccessPolicy } from '../auth/access-policy';
import type { Principal } from '../auth/principal';

/**
 * The organization of a client credential a write names, once `principal` may write its clients there
 * (`clients:write`, contract section 7). The answers follow what the caller may see (contract section 1): 404
 * (IAM_ERR_NOT_FOUND, as GET answers) for an unknown credential and for a caller who may not read its
 * organization's clients (not seeing the organization, or a member without `clients:read`): a 403 there would
 * tell a credential id that exists from one that does not. 403 (IAM_ERR_FORBIDDEN) for a caller who sees it
 * (`clients:read`) but may not change it.
 */
export async function clientOrgForWrite(
  policy: AccessPolicy<OrgRef>,
  principal: Principal,
  clientCredentialId: string,
): Promise<string> {
  const hidden = new IamError('IAM_ERR_NOT_FOUND', `Client credential ${clientCredentialId} does not exist.`);
  const orgId = await policy.facts.clientOrg(clientCredentialId);
  if (orgId === undefined) throw hidden;
  try {
    await policy.requireOnOrg(principal, 'clients:write', orgId);
  } catch (e) {
    if (!(e instanceof IamError)) throw e;
    if (e.code === 'IAM_ERR_NOT_FOUND') throw hidden;
    const sees = (await policy.permissionsOn(principal, orgId)).has('clients:read');
    throw sees ? e : hidden;
  }
  return orgId;
}

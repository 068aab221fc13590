import { Type, type Static } from '@sinclair/typebox';
import { decideSetAuditRetention } from '@arbor/domain';
import { IdInput, commandType, defineUseCase } from './use-case';

/** SetAuditRetention (PUT .../audit-retention): `days` is checked by the decider, with a precise field error. */
export const SetAuditRetentionInput = Type.Object({
  type: commandType('SetAuditRetention'),
  orgId: IdInput,
  days: Type.Unknown(),
});
export type SetAuditRetentionInput = Static<typeof SetAuditRetentionInput>;

/** `orgs:write` on the organization: its admins (and platform admins) govern what is kept about their subtree. */
export const setAuditRetention = defineUseCase({
  type: 'SetAuditRetention',
  input: SetAuditRetentionInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'orgs:write', c.orgId);
  },
  decide: (state, c) => ({ events: decideSetAuditRetention(state.orgs, c) }),
});

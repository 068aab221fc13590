import { decideSetAuditRetention, effectiveRetentionDays } from './audit-retention';
import { OrgTree } from './org-tree';
import { decideCreateOrg } from './org-decisions';
import type { StoredEvent } from './events';

describe('audit retention', () => {
  it('takes the shortest of the server default and the settings on the path; 0 is for ever', () => {
    expect(effectiveRetentionDays(365, [])).toBe(365);
    expect(effectiveRetentionDays(365, [null, 90, undefined, 400])).toBe(90);
    expect(effectiveRetentionDays(30, [90])).toBe(30);
    expect(effectiveRetentionDays(0, [])).toBe(0);
    expect(effectiveRetentionDays(0, [400, 120])).toBe(120);
  });

  it('records a setting of an existing organization, and refuses an unknown one or a bad number', () => {
    const tree = new OrgTree();
    const [created] = decideCreateOrg(tree, { orgId: 'org_1', name: 'A', parentId: null });
    tree.apply({
      ...created,
      id: 'e1',
      position: 1,
      streamVersion: 1,
      occurredAt: '',
      actor: { type: 'system', id: 'system' },
      orgPath: ['org_1'],
    } as StoredEvent);
    expect(decideSetAuditRetention(tree, { orgId: 'org_1', days: 30 })).toEqual([
      { type: 'OrgAuditRetentionSet', streamId: 'audit-retention-org_1', data: { orgId: 'org_1', days: 30 } },
    ]);
    expect(decideSetAuditRetention(tree, { orgId: 'org_1', days: null })[0].data).toEqual({
      orgId: 'org_1',
      days: null,
    });
    expect(() => decideSetAuditRetention(tree, { orgId: 'org_2', days: 30 })).toThrow(
      expect.objectContaining({ code: 'IAM_ERR_NOT_FOUND' }),
    );
    for (const days of [0, 36501, 1.5, '30', -1])
      expect(() => decideSetAuditRetention(tree, { orgId: 'org_1', days })).toThrow(
        expect.objectContaining({ code: 'IAM_ERR_VALIDATION' }),
      );
  });
});

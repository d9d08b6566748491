import { describe, expect, it } from '@jest/globals'
import { checkWarnings } from '../../src/plan/warnings.js'
import type { Check } from '../../src/types.js'
import { finding } from '../../test-support/builders.js'

function check(over: { warnings?: string[]; identityProblem?: string; problems?: string[] }): Check {
  return {
    discovery: {
      source: 'cloud-assembly',
      stacks: [],
      tables: [],
      notes: ['informational'],
      warnings: over.warnings ?? []
    },
    inspection: { findings: [finding({ problems: over.problems ?? [] })], stacks: [], region: 'us-east-1' },
    plan: {
      policy: { stage: 'pr-5', strategy: 'auto', protectedStage: false, allowDataLoss: false },
      entries: [],
      notes: []
    },
    identity: null,
    ...(over.identityProblem ? { identityProblem: over.identityProblem } : {})
  }
}

describe('checkWarnings: what makes a check uncertain, one line each', () => {
  it('nothing uncertain → none (notes stay notes)', () => {
    expect(checkWarnings(check({}))).toEqual([])
  })
  it('discovery warnings, the unknown identity and each table problem', () => {
    expect(
      checkWarnings(
        check({
          warnings: ['cannot resolve the name of table s/T: Ref X'],
          identityProblem: "The credentials' account could not be read (GetCallerIdentity: AccessDenied)",
          problems: ['Scan failed: AccessDenied']
        })
      )
    ).toEqual([
      'cannot resolve the name of table s/T: Ref X',
      "The credentials' account could not be read (GetCallerIdentity: AccessDenied): the account the tables are in could not be confirmed",
      'pr-5-main-table: Scan failed: AccessDenied'
    ])
  })
})

import { describe, expect, it } from '@jest/globals'
import { blockedWarnings, failsStep } from '../../src/plan/outcome.js'
import type { Outcome, Plan, Strategy } from '../../src/types.js'

interface Row {
  outcome: Outcome
  strategy: Strategy
  dryRun: boolean
  fails: boolean
}

// Report and dry-run never fail the step because of a plan; only failed reads (and bad input,
// which throws before any outcome) fail them. A real run fails on a blocked plan.
const rows: Row[] = [
  { outcome: 'blocked', strategy: 'auto', dryRun: false, fails: true },
  { outcome: 'blocked', strategy: 'delete', dryRun: false, fails: true },
  { outcome: 'blocked', strategy: 'auto', dryRun: true, fails: false },
  { outcome: 'blocked', strategy: 'delete', dryRun: true, fails: false },
  { outcome: 'blocked', strategy: 'report', dryRun: false, fails: false },
  { outcome: 'failed', strategy: 'auto', dryRun: false, fails: true },
  { outcome: 'failed', strategy: 'auto', dryRun: true, fails: true },
  { outcome: 'failed', strategy: 'report', dryRun: false, fails: true },
  { outcome: 'dry-run', strategy: 'auto', dryRun: true, fails: false },
  { outcome: 'resolved', strategy: 'auto', dryRun: false, fails: false },
  { outcome: 'nothing-to-do', strategy: 'report', dryRun: false, fails: false }
]

describe('failsStep', () => {
  it.each(rows)('$outcome with strategy $strategy, dry-run $dryRun → fails: $fails', row => {
    expect(failsStep(row.outcome, row)).toBe(row.fails)
  })
})

describe('blockedWarnings', () => {
  it('one line per blocked table, with its reasons', () => {
    const plan = {
      policy: { stage: 'pr-5', strategy: 'auto', protectedStage: false, allowDataLoss: false },
      notes: [],
      entries: [
        { table: 'a', decision: 'blocked', reasons: ['First.', 'Second.'] },
        { table: 'b', decision: 'import', reasons: ['Imported.'] },
        { table: 'c', decision: 'blocked', reasons: ['Third.'] }
      ]
    } as unknown as Plan
    expect(blockedWarnings(plan)).toEqual(['a is blocked: First. Second.', 'c is blocked: Third.'])
  })
})

import { describe, expect, it } from '@jest/globals'
import {
  blockedMessage,
  blockedWarnings,
  failsStep,
  outcomeWithoutExecution,
  planBlocks
} from '../../src/plan/outcome.js'
import { planTables } from '../../src/plan/plan.js'
import type { Outcome, Plan, Policy, Strategy, UnresolvedTable } from '../../src/types.js'
import { finding } from '../../test-support/builders.js'

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

const policy = (strategy: Policy['strategy'] = 'auto'): Policy => ({
  stage: 'pr-7',
  strategy,
  protectedStage: false,
  allowDataLoss: false
})

const PARAM: UnresolvedTable = {
  logicalId: 'ParamTableCBA335F5',
  stack: 'pr-7-param',
  reason: 'Fn::Join part 2: Ref TableSuffix: a parameter or resource, only known at deploy time',
  expression: '{"Fn::Join":["",["pr-7-param-",{"Ref":"TableSuffix"}]]}'
}

describe('a table name that cannot be resolved', () => {
  const plan = planTables([finding({ owner: 'stack' })], policy(), undefined, [PARAM])

  it('blocks the plan (a skipped table is a deploy that may fail), even when every checked table is fine', () => {
    expect(plan.entries.map(e => e.decision)).toEqual(['none'])
    expect(planBlocks(plan)).toBe(true)
    expect(outcomeWithoutExecution(plan)).toBe('blocked')
  })

  it('fails the step in every mode but report, dry-run included', () => {
    expect(failsStep('blocked', { strategy: 'auto', dryRun: false }, plan)).toBe(true)
    expect(failsStep('blocked', { strategy: 'import', dryRun: false }, plan)).toBe(true)
    expect(failsStep('blocked', { strategy: 'auto', dryRun: true }, plan)).toBe(true)
    expect(failsStep('blocked', { strategy: 'report', dryRun: false }, plan)).toBe(false)
  })

  it('names the table and its TableName expression in the error', () => {
    expect(blockedMessage(plan)).toBe(
      [
        '1 table name(s) could not be resolved; nothing was changed. The check cannot see these tables, and the deploy may fail on them (make the name resolvable: a literal, {stage}, or Fn::Join/Fn::Sub over literals and AWS::AccountId, AWS::Region, AWS::Partition, AWS::URLSuffix, AWS::StackName):',
        '- pr-7-param/ParamTableCBA335F5: TableName {"Fn::Join":["",["pr-7-param-",{"Ref":"TableSuffix"}]]}: Fn::Join part 2: Ref TableSuffix: a parameter or resource, only known at deploy time',
        'See the job summary for the decision path and how to go on.'
      ].join('\n')
    )
  })

  it('without unresolved names, a clean plan does not block', () => {
    const clean = planTables([finding({ owner: 'stack' })], policy())
    expect([planBlocks(clean), outcomeWithoutExecution(clean), clean.unresolved]).toEqual([
      false,
      'nothing-to-do',
      undefined
    ])
  })

  it('lists blocked tables with their region, then the unresolved names', () => {
    const both = planTables(
      [finding({ region: 'us-west-2', owner: 'other-stack:legacy' })],
      policy(),
      undefined,
      [PARAM]
    )
    const lines = blockedMessage(both).split('\n')
    expect(lines[0]).toBe('1 table(s) blocked; nothing was changed. The deploy would fail on them:')
    expect(lines[1]).toMatch(
      /^- pr-5-main-table \(us-west-2\): Table pr-5-main-table belongs to the live stack legacy/
    )
    expect(lines[2]).toMatch(/^1 table name\(s\) could not be resolved/)
  })
})

describe('outcomeWithoutExecution', () => {
  const plan = (entries: Array<Record<string, unknown>>) =>
    ({
      policy: { stage: 'pr-5', strategy: 'auto', protectedStage: false, allowDataLoss: false },
      notes: [],
      entries
    }) as unknown as Plan
  it.each([
    ['nothing but tables left alone → nothing-to-do', [{ table: 'a', decision: 'none' }], 'nothing-to-do'],
    [
      'a table left alone whose restore an earlier run did not record → dry-run (a run records it)',
      [
        { table: 'a', decision: 'none', recordRestore: 's3://b/copies/pr-5/a/20250304T050607Z/manifest.json' }
      ],
      'dry-run'
    ],
    ['an import → dry-run', [{ table: 'a', decision: 'import' }], 'dry-run']
  ])('%s', (_rule, entries, outcome) => {
    expect(outcomeWithoutExecution(plan(entries))).toBe(outcome)
  })
})

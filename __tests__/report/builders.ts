import type { Difference, PlanEntry, RunResult } from '../../src/types.js'
import type { ReportContext } from '../../src/report/markdown.js'

/** A plan entry with neutral defaults; tests override what the rule under test is about. */
export function entry(overrides: Partial<PlanEntry> & Pick<PlanEntry, 'table'>): PlanEntry {
  return {
    stack: 'pr-5-database',
    logicalId: 'MainTable',
    exists: false,
    owner: null,
    hasData: null,
    differences: [],
    decision: 'none',
    reasons: [],
    path: [],
    orphan: false,
    ...overrides
  }
}

export function difference(overrides: Partial<Difference> = {}): Difference {
  return {
    property: 'BillingMode',
    severity: 'converges',
    live: 'PROVISIONED',
    template: 'PAY_PER_REQUEST',
    message: 'The deploy switches the billing mode after import.',
    ...overrides
  }
}

export function result(
  overrides: Partial<RunResult> & { entries?: PlanEntry[]; notes?: string[] } = {}
): RunResult {
  const { entries = [], notes = [], ...rest } = overrides
  return {
    outcome: 'nothing-to-do',
    plan: {
      policy: { stage: 'pr-5', strategy: 'auto', protectedStage: false, allowDataLoss: false },
      entries,
      notes
    },
    steps: [],
    backupManifests: [],
    backupArns: [],
    restoredItems: 0,
    ...rest
  }
}

export function context(overrides: Partial<ReportContext> = {}): ReportContext {
  return {
    stage: 'pr-5',
    strategy: 'auto',
    phase: 'pre-deploy',
    dryRun: false,
    region: 'eu-west-1',
    result: result(),
    ...overrides
  }
}

/** An orphan retained from a deleted stack, holding data, whose schema differs: the tree blocks it. */
export const blockedEntry = entry({
  table: 'pr-5-main-table',
  exists: true,
  owner: 'retained',
  hasData: true,
  orphan: true,
  decision: 'blocked',
  differences: [
    difference({
      property: 'KeySchema',
      severity: 'blocking',
      live: 'pk HASH',
      template: 'pk HASH, sk RANGE',
      message: 'Key schema cannot change in place.'
    })
  ],
  reasons: [
    'The table holds data and `allow-data-loss` is false.',
    'The key schema differs, so import is impossible.'
  ],
  path: [
    { question: 'Does the table exist?', answer: 'yes' },
    { question: 'Owned by the expected stack?', answer: 'no (retained)' },
    { question: 'Protected stage?', answer: 'yes' },
    { question: 'Import-compatible?', answer: 'no: KeySchema differs' }
  ]
})

/** An orphan that matches the template: imported. */
export const importEntry = entry({
  table: 'pr-5-audit',
  logicalId: 'AuditTable',
  exists: true,
  owner: 'unmanaged',
  hasData: true,
  orphan: true,
  decision: 'import',
  differences: [difference()],
  reasons: ['The live table matches the template: import keeps its data.'],
  path: [
    { question: 'Does the table exist?', answer: 'yes' },
    { question: 'Owned by the expected stack?', answer: 'no (unmanaged)' },
    { question: 'Holds data?', answer: 'yes' },
    { question: 'Import-compatible?', answer: 'yes' }
  ]
})

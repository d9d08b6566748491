import type { Outcome, Plan, PlanEntry, Strategy } from '../types.js'

/** Entries whose decision changes something (import, backup-restore, delete). */
export function actionable(plan: Plan): PlanEntry[] {
  return plan.entries.filter(
    e => e.decision === 'import' || e.decision === 'backup-restore' || e.decision === 'delete'
  )
}

export function blockedEntries(plan: Plan): PlanEntry[] {
  return plan.entries.filter(e => e.decision === 'blocked')
}

/**
 * The outcome of a run that executes nothing (report, dry-run): blocked when any table is
 * blocked, nothing-to-do when no table needs an action, else dry-run.
 */
export function outcomeWithoutExecution(plan: Plan): Outcome {
  if (blockedEntries(plan).length > 0) return 'blocked'
  return actionable(plan).length === 0 ? 'nothing-to-do' : 'dry-run'
}

/**
 * Whether an outcome fails the step. Only a real run fails on a blocked plan; `report` and dry-run
 * look and tell (their outcome says what a real run would do), and fail only when something could
 * not be read (`failed`; bad input throws before any outcome).
 */
export function failsStep(outcome: Outcome, run: { strategy: Strategy; dryRun: boolean }): boolean {
  if (outcome === 'failed') return true
  return outcome === 'blocked' && run.strategy !== 'report' && !run.dryRun
}

/** One line per blocked table, for a warning annotation each where the step does not fail. */
export function blockedWarnings(plan: Plan): string[] {
  return blockedEntries(plan).map(e => `${e.table} is blocked: ${e.reasons.join(' ')}`)
}

/** The error line for a blocked run: every blocked table with its reasons, and where to read more. */
export function blockedMessage(plan: Plan): string {
  const lines = blockedEntries(plan).map(e => `- ${e.table}: ${e.reasons.join(' ')}`)
  return [
    `${lines.length} table(s) blocked; nothing was changed. The deploy would fail on them:`,
    ...lines,
    'See the job summary for the decision path and how to go on.'
  ].join('\n')
}

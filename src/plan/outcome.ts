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

/** Whether an outcome fails the step. `report` looks and tells: it never fails on orphans. */
export function failsStep(outcome: Outcome, strategy: Strategy): boolean {
  if (outcome === 'failed') return true
  return outcome === 'blocked' && strategy !== 'report'
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

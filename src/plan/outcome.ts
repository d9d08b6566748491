import type { Outcome, Plan, PlanEntry, Strategy } from '../types.js'

/**
 * Entries whose decision changes something (import, backup-restore, delete), and those whose
 * restore an earlier run left unrecorded (recordRestore: the record is written).
 */
export function actionable(plan: Plan): PlanEntry[] {
  return plan.entries.filter(
    e =>
      e.decision === 'import' ||
      e.decision === 'backup-restore' ||
      e.decision === 'delete' ||
      e.recordRestore !== undefined
  )
}

export function blockedEntries(plan: Plan): PlanEntry[] {
  return plan.entries.filter(e => e.decision === 'blocked')
}

/**
 * Whether the plan stops the run before anything is changed: a blocked table, or a table of the
 * deploy whose name could not be resolved (the check could not see it, and the deploy may fail on it).
 */
export function planBlocks(plan: Plan): boolean {
  return blockedEntries(plan).length > 0 || (plan.unresolved?.length ?? 0) > 0
}

/**
 * The outcome of a run that executes nothing (report, dry-run): blocked when any table is
 * blocked or unresolved, nothing-to-do when no table needs an action, else dry-run.
 */
export function outcomeWithoutExecution(plan: Plan): Outcome {
  if (planBlocks(plan)) return 'blocked'
  return actionable(plan).length === 0 ? 'nothing-to-do' : 'dry-run'
}

/**
 * Whether an outcome fails the step. Only a real run fails on a blocked plan; `report` and dry-run
 * look and tell (their outcome says what a real run would do), and fail only when something could
 * not be read (`failed`; bad input throws before any outcome) or, dry-run too, when a table name
 * could not be resolved: the check could not see that table at all, so its answer is incomplete in
 * every mode but `report`.
 */
export function failsStep(
  outcome: Outcome,
  run: { strategy: Strategy; dryRun: boolean },
  plan?: Plan | null
): boolean {
  if (outcome === 'failed') return true
  if (outcome !== 'blocked' || run.strategy === 'report') return false
  return !run.dryRun || (plan?.unresolved?.length ?? 0) > 0
}

/** One line per blocked table, for a warning annotation each where the step does not fail. */
export function blockedWarnings(plan: Plan): string[] {
  return blockedEntries(plan).map(e => `${e.table} is blocked: ${e.reasons.join(' ')}`)
}

/**
 * The error line for a blocked run: every blocked table with its reasons, every table whose name
 * could not be resolved with its TableName expression, and where to read more.
 */
export function blockedMessage(plan: Plan): string {
  const blocked = blockedEntries(plan).map(
    e => `- ${e.table}${e.region ? ` (${e.region})` : ''}: ${e.reasons.join(' ')}`
  )
  const unresolved = (plan.unresolved ?? []).map(
    u => `- ${u.stack}/${u.logicalId}: TableName ${u.expression ?? '(unknown)'}: ${u.reason}`
  )
  const lines: string[] = []
  if (blocked.length > 0)
    lines.push(
      `${blocked.length} table(s) blocked; nothing was changed. The deploy would fail on them:`,
      ...blocked
    )
  if (unresolved.length > 0) {
    lines.push(
      `${unresolved.length} table name(s) could not be resolved; nothing was changed. The check cannot see these tables, and the deploy may fail on them (make the name resolvable: a literal, {stage}, or Fn::Join/Fn::Sub over literals and AWS::AccountId, AWS::Region, AWS::Partition, AWS::URLSuffix, AWS::StackName):`,
      ...unresolved
    )
  }
  lines.push('See the job summary for the decision path and how to go on.')
  return lines.join('\n')
}

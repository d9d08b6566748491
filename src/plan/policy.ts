/** Which stages are protected, and the policy the plan applies. Pure. */
import { minimatch } from 'minimatch'
import type { Inputs, Policy } from '../types.js'

/**
 * Whether `stage` matches one of the `protected-stages` glob patterns (whole-name, case-insensitive:
 * `prod-*` matches `prod-eu` and `PROD-EU`; `prod` does not match `production-ish`). Patterns are
 * taken literally: a leading `!` or `#` has no special meaning, so a pattern can only add protection.
 */
export function isProtectedStage(stage: string, patterns: string[]): boolean {
  return patterns
    .map(p => p.trim())
    .filter(p => p !== '')
    .some(pattern => minimatch(stage, pattern, { nocase: true, dot: true, nonegate: true, nocomment: true }))
}

export function makePolicy(
  inputs: Pick<Inputs, 'stage' | 'strategy' | 'protectedStages' | 'allowDataLoss'> & { awsBackup?: boolean }
): Policy {
  return {
    stage: inputs.stage,
    strategy: inputs.strategy,
    protectedStage: isProtectedStage(inputs.stage, inputs.protectedStages),
    allowDataLoss: inputs.allowDataLoss,
    ...(inputs.awsBackup === undefined ? {} : { awsBackup: inputs.awsBackup })
  }
}

import * as core from '@actions/core'
import type { Difference, PendingRestore, PlanEntry, RunResult } from '../types.js'

/** GitHub caps one step output at 1 MB; stay below it in UTF-8 bytes. */
export const OUTPUT_LIMIT_BYTES = 1_000_000

/** One object of the `plan` output; the key order is part of the contract (action.yml). */
export interface PlanOutputEntry {
  table: string
  /** Region of the table. */
  region: string | null
  stack: string | null
  logicalId: string | null
  /** null when the table could not be checked with these credentials (a stack for another account). */
  exists: boolean | null
  owner: PlanEntry['owner']
  hasData: boolean | null
  differences: Array<Difference | Pick<Difference, 'property' | 'severity'>>
  decision: PlanEntry['decision']
  reasons: string[]
  /** For backup-restore: `runner` or `server-side` (the path its items take); null otherwise. */
  copy: PlanEntry['copy'] | null
}

/** One object of the `pending-restores` output; the key order is part of the contract (action.yml). */
export function pendingRestoreOutput(p: PendingRestore): PendingRestore {
  return { table: p.table, source: p.source, backup: p.backup, takenAt: p.takenAt }
}

export interface BuiltOutputs {
  outputs: Record<string, string>
  /** Set when the plan had to be shortened to fit the output limit; says how. */
  trimmed?: string
}

function planEntry(e: PlanEntry, differences: PlanOutputEntry['differences']): PlanOutputEntry {
  return {
    table: e.table,
    region: e.region ?? null,
    stack: e.stack,
    logicalId: e.logicalId,
    exists: e.notCheckable ? null : e.exists,
    owner: e.owner,
    hasData: e.hasData,
    differences,
    decision: e.decision,
    reasons: e.reasons,
    copy: e.copy ?? null
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/**
 * The `plan` output as JSON within `limit` bytes: in full when it fits, else differences reduced to
 * property and severity, else without differences, else only the first tables that fit.
 */
export function planOutput(
  entries: PlanEntry[],
  limit = OUTPUT_LIMIT_BYTES
): { json: string; trimmed?: string } {
  const full = JSON.stringify(entries.map(e => planEntry(e, e.differences)))
  if (byteLength(full) <= limit) return { json: full }

  const brief = JSON.stringify(
    entries.map(e =>
      planEntry(
        e,
        e.differences.map(d => ({ property: d.property, severity: d.severity }))
      )
    )
  )
  if (byteLength(brief) <= limit) {
    return {
      json: brief,
      trimmed: 'differences are reduced to property and severity (live/template values left out)'
    }
  }
  const bare = entries.map(e => planEntry(e, []))
  const bareJson = JSON.stringify(bare)
  if (byteLength(bareJson) <= limit) {
    return { json: bareJson, trimmed: 'differences are left out (empty arrays)' }
  }
  // Still too big: keep the first tables that fit, whole.
  const parts: string[] = []
  let size = 2 // []
  for (const item of bare) {
    const text = JSON.stringify(item)
    const added = byteLength(text) + (parts.length > 0 ? 1 : 0)
    if (size + added > limit) break
    parts.push(text)
    size += added
  }
  return {
    json: `[${parts.join(',')}]`,
    trimmed: `differences are left out and only ${parts.length} of ${entries.length} tables are listed`
  }
}

/** Every action output as the string GitHub stores (pure; used by setOutputs). */
export function buildOutputsWithNotes(result: RunResult, limit = OUTPUT_LIMIT_BYTES): BuiltOutputs {
  const entries = result.plan?.entries ?? []
  const orphans = entries
    .filter(e => e.orphan)
    .map(e => e.table)
    .sort()
  const plan = planOutput(entries, limit)
  const pending = result.pendingRestores ?? []
  const outputs: Record<string, string> = {
    'has-orphans': String(orphans.length > 0),
    orphans: JSON.stringify(orphans),
    plan: plan.json,
    outcome: result.outcome,
    'backup-manifests': JSON.stringify(result.backupManifests),
    'backup-arns': JSON.stringify(result.backupArns),
    'restored-items': String(Math.trunc(result.restoredItems)),
    'restore-needed': String(pending.length > 0),
    'pending-restores': JSON.stringify(pending.map(pendingRestoreOutput))
  }
  return plan.trimmed ? { outputs, trimmed: plan.trimmed } : { outputs }
}

export function buildOutputs(result: RunResult): Record<string, string> {
  return buildOutputsWithNotes(result).outputs
}

/** Set every output; a plan that had to be shortened is announced as a warning. */
export function setOutputs(
  result: RunResult,
  setOutput: (name: string, value: string) => void = core.setOutput,
  warning: (message: string) => void = core.warning
): Record<string, string> {
  const { outputs, trimmed } = buildOutputsWithNotes(result)
  for (const [name, value] of Object.entries(outputs)) setOutput(name, value)
  if (trimmed) {
    warning(
      `The 'plan' output exceeds GitHub's 1 MB output limit: ${trimmed}. The job summary has the full report.`
    )
  }
  return outputs
}

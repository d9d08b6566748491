import type { Finding } from '../types.js'
import { compareRecreated, compareTable } from './compare.js'
import { assessImportTable } from './import-table.js'
import { templateTableConfig, type TemplateContext } from './template-config.js'

/**
 * How the template's values of a finding's table resolve: its stack's name, the stage, the region it
 * was inspected in and its account (the stack's pinned one, else `account`, the credentials').
 */
export function templateContextOf(finding: Finding, stage: string, account?: string): TemplateContext | null {
  const { spec } = finding
  if (spec.stack === null) return null
  const accountId = spec.account ?? account
  return { stackName: spec.stack, stage, region: finding.region, ...(accountId ? { accountId } : {}) }
}

/**
 * Template vs live table, for tables that exist and that a template describes: for the table kept
 * in place (`differences`) and for the table deleted and created anew (`recreated`); the plan shows
 * the one that fits its decision.
 */
export function withDifferences(finding: Finding, stage: string, account?: string): Finding {
  const { spec, live } = finding
  const ctx = templateContextOf(finding, stage, account)
  if (spec.properties === null || ctx === null) return finding
  // What ImportTable could create (the server-side path of backup-restore); also for a table that
  // does not exist (a server-side restore an earlier run left unfinished is resumed).
  const importTable = assessImportTable(spec, { ...ctx, region: finding.region })
  const assessed = importTable ? { ...finding, importTable } : finding
  if (live === null) return assessed
  const { config, unknown } = templateTableConfig(spec, ctx)
  // Settings the endpoint could not tell (e.g. PITR on an emulator) are not compared: no false differences.
  const desired = { ...config }
  for (const field of live.unreadable ?? []) delete desired[field]
  return {
    ...assessed,
    differences: compareTable(desired, live, unknown),
    recreated: {
      restored: compareRecreated(desired, live, unknown, true),
      deleted: compareRecreated(desired, live, unknown, false)
    }
  }
}

import type { Finding } from '../types.js'
import { compareRecreated, compareTable } from './compare.js'
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
  if (live === null || spec.properties === null || ctx === null) return finding
  const { config, unknown } = templateTableConfig(spec, ctx)
  // Settings the endpoint could not tell (e.g. PITR on an emulator) are not compared: no false differences.
  const desired = { ...config }
  for (const field of live.unreadable ?? []) delete desired[field]
  return {
    ...finding,
    differences: compareTable(desired, live, unknown),
    recreated: {
      restored: compareRecreated(desired, live, unknown, true),
      deleted: compareRecreated(desired, live, unknown, false)
    }
  }
}

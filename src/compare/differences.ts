import type { Finding } from '../types.js'
import { compareRecreated, compareTable } from './compare.js'
import { templateTableConfig } from './template-config.js'

/**
 * Template vs live table, for tables that exist and that a template describes: for the table kept
 * in place (`differences`) and for the table deleted and created anew (`recreated`); the plan shows
 * the one that fits its decision.
 */
export function withDifferences(finding: Finding, stage: string, region: string): Finding {
  const { spec, live } = finding
  if (live === null || spec.properties === null || spec.stack === null) return finding
  const { config, unknown } = templateTableConfig(spec, { stackName: spec.stack, stage, region })
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

import { discover } from '../discover/discover.js'
import { inspect } from '../inspect/inspect.js'
import { templateTableConfig } from '../compare/template-config.js'
import { compareTable } from '../compare/compare.js'
import { planTables } from '../plan/plan.js'
import { makePolicy } from '../plan/policy.js'
import type { AwsClients } from '../aws/clients.js'
import type { Discovery, Finding, Inputs, Inspection, Logger, Plan } from '../types.js'

/** What the read-only part of a run found: the input of execute and report. */
export interface Check {
  discovery: Discovery
  inspection: Inspection
  plan: Plan
}

/** Template vs live table, for tables that exist and that a template describes. */
export function withDifferences(finding: Finding, stage: string, region: string): Finding {
  const { spec, live } = finding
  if (live === null || spec.properties === null || spec.stack === null) return finding
  const { config, unknown } = templateTableConfig(spec, { stackName: spec.stack, stage, region })
  // Settings the endpoint could not tell (e.g. PITR on an emulator) are not compared: no false differences.
  const desired = { ...config }
  for (const field of live.unreadable ?? []) delete desired[field]
  return { ...finding, differences: compareTable(desired, live, unknown) }
}

/**
 * inputs → discover → inspect → compare → plan. Reads files and makes read-only AWS calls only;
 * bad input throws before the first AWS call.
 */
export async function checkTables(inputs: Inputs, clients: AwsClients, logger: Logger): Promise<Check> {
  const discovery = discover({
    template: inputs.template,
    stage: inputs.stage,
    stackName: inputs.stackName,
    tables: inputs.tables,
    region: inputs.awsRegion
  })
  for (const note of discovery.notes) logger.info(note)
  const named = discovery.tables.filter(t => t.tableName !== null).length
  logger.info(
    `Checking ${named} named table(s) in ${discovery.stacks.length} stack(s) (${discovery.source}).`
  )

  const inspection = await inspect(clients, discovery, { region: inputs.awsRegion, logger })
  const findings = inspection.findings.map(f => withDifferences(f, inputs.stage, inputs.awsRegion))
  const plan = planTables(findings, makePolicy(inputs), inspection.stacks)
  return { discovery, inspection: { ...inspection, findings }, plan }
}

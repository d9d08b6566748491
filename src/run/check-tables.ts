import { discover } from '../discover/discover.js'
import { readCallerIdentity } from '../inspect/identity.js'
import { inspect } from '../inspect/inspect.js'
import { withDifferences } from '../compare/differences.js'
import { planTables } from '../plan/plan.js'
import { isProtectedStage, makePolicy } from '../plan/policy.js'
import { checkWarnings } from '../plan/warnings.js'
import type { AwsClients } from '../aws/clients.js'
import type { Check, Discovery, Inputs, Logger } from '../types.js'

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
  logger.info(`Checking ${named} named table(s) in ${stackCount(discovery)} (${discovery.source}).`)

  const { identity, problem } = await readCallerIdentity(clients.sts)
  if (identity) logger.debug(`Credentials: ${identity.arn}`)
  const inspection = await inspect(clients, discovery, { region: inputs.awsRegion, logger })
  const findings = inspection.findings.map(f => withDifferences(f, inputs.stage, inputs.awsRegion))
  const policy = makePolicy(inputs, identity)
  if (policy.protectedBecause && !isProtectedStage(inputs.stage, inputs.protectedStages))
    logger.info(`Protected run: ${policy.protectedBecause}; no table is deleted.`)
  const plan = planTables(findings, policy, inspection.stacks)
  const check: Check = {
    discovery,
    inspection: { ...inspection, findings },
    plan,
    identity,
    ...(problem ? { identityProblem: problem } : {})
  }
  // "This check may be wrong": an annotation each (and a line in the report's first section).
  for (const warning of checkWarnings(check)) logger.warning(warning)
  return check
}

/** "3 stacks (1 top-level, 2 nested)": what was read, nested stacks counted apart. */
export function stackCount(discovery: Discovery): string {
  const nested = discovery.stacks.filter(s => s.nestedPath.length > 0).length
  const top = discovery.stacks.length - nested
  const all = `${discovery.stacks.length} stack(s)`
  return discovery.source === 'tables'
    ? `${all} (no template)`
    : `${all} (${top} top-level, ${nested} nested)`
}

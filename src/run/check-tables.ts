import { discoverTables, readDeployment } from '../discover/discover.js'
import { readCallerIdentity } from '../inspect/identity.js'
import { inspect } from '../inspect/inspect.js'
import { withDifferences } from '../compare/differences.js'
import { planTables } from '../plan/plan.js'
import { isProtectedStage, makePolicy } from '../plan/policy.js'
import { checkWarnings } from '../plan/warnings.js'
import type { RegionalClients } from '../aws/clients.js'
import type { Check, Discovery, Inputs, Logger, UnresolvedTable } from '../types.js'

/** The tables of the deploy whose names could not be resolved, with the template expression. */
export function unresolvedTables(discovery: Discovery): UnresolvedTable[] {
  return discovery.tables
    .filter(t => t.tableName === null)
    .map(t => ({
      logicalId: t.logicalId ?? '?',
      stack: t.stack ?? '?',
      reason: t.unresolvedReason ?? '',
      ...(t.unresolvedExpression ? { expression: t.unresolvedExpression } : {})
    }))
}

/**
 * inputs → discover → inspect → compare → plan. Reads files and makes read-only AWS calls only;
 * bad input throws before the first AWS call. The credentials' identity is read once, after the
 * files and before the table names are resolved (an environment-agnostic stack deploys into the
 * credentials' account). Each table is inspected in its own region, with that region's clients.
 */
export async function checkTables(inputs: Inputs, clients: RegionalClients, logger: Logger): Promise<Check> {
  const deployment = readDeployment({
    template: inputs.template,
    stage: inputs.stage,
    stackName: inputs.stackName,
    tables: inputs.tables
  })

  const { identity, problem } = await readCallerIdentity(clients.forRegion(clients.defaultRegion).sts)
  if (identity) logger.debug(`Credentials: ${identity.arn}`)

  const discovery = discoverTables(deployment, {
    template: inputs.template,
    stage: inputs.stage,
    tables: inputs.tables,
    region: inputs.awsRegion,
    ...(identity ? { account: identity.account } : {}),
    ...(problem ? { accountUnknown: problem } : {})
  })
  for (const note of discovery.notes) logger.info(note)
  const named = discovery.tables.filter(t => t.tableName !== null).length
  logger.info(`Checking ${named} named table(s) in ${stackCount(discovery)} (${discovery.source}).`)

  const inspection = await inspect(clients, discovery, {
    identity,
    ...(problem ? { identityProblem: problem } : {}),
    logger
  })
  const findings = inspection.findings.map(f => withDifferences(f, inputs.stage, identity?.account))
  const policy = makePolicy(inputs, identity)
  if (policy.protectedBecause && !isProtectedStage(inputs.stage, inputs.protectedStages))
    logger.info(`Protected run: ${policy.protectedBecause}; no table is deleted.`)
  const plan = planTables(findings, policy, inspection.stacks, unresolvedTables(discovery))
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

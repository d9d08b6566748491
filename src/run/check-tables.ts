import { discover } from '../discover/discover.js'
import { readCallerIdentity } from '../inspect/identity.js'
import { inspect } from '../inspect/inspect.js'
import { withDifferences } from '../compare/differences.js'
import { planTables } from '../plan/plan.js'
import { makePolicy } from '../plan/policy.js'
import type { AwsClients } from '../aws/clients.js'
import type { Check, Inputs, Logger } from '../types.js'

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

  const { identity, problem } = await readCallerIdentity(clients.sts)
  if (identity) logger.debug(`Credentials: ${identity.arn}`)
  else if (problem) logger.warning(problem)
  const inspection = await inspect(clients, discovery, { region: inputs.awsRegion, logger })
  const findings = inspection.findings.map(f => withDifferences(f, inputs.stage, inputs.awsRegion))
  const plan = planTables(findings, makePolicy(inputs), inspection.stacks)
  return {
    discovery,
    inspection: { ...inspection, findings },
    plan,
    identity,
    ...(problem ? { identityProblem: problem } : {})
  }
}

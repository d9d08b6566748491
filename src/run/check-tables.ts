import { discoverTables, readDeployment } from '../discover/discover.js'
import { readCallerIdentity } from '../inspect/identity.js'
import { inspect } from '../inspect/inspect.js'
import { withDifferences } from '../compare/differences.js'
import { findRestoreStates, pendingRestore, type TableRestoreState } from '../inspect/owed-restores.js'
import { withServerSideResumes } from '../inspect/server-side-resume.js'
import { planTables } from '../plan/plan.js'
import { isProtectedStage, makePolicy } from '../plan/policy.js'
import { checkWarnings } from '../plan/warnings.js'
import type { RegionalClients } from '../aws/clients.js'
import {
  inGroup,
  type Check,
  type Discovery,
  type Finding,
  type Inputs,
  type Logger,
  type PlanEntry,
  type UnresolvedTable
} from '../types.js'

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

/** One log line per planned table: its decision and why, in the words of the plan. */
function decisionLine(e: PlanEntry): string {
  const facts = [
    e.exists ? (e.orphan ? 'orphaned' : 'exists') : 'does not exist',
    e.exists && e.owner !== null ? `owner ${e.owner}` : null,
    e.hasData === null ? null : e.hasData ? 'has data' : 'empty',
    e.differences.length > 0 ? `${e.differences.length} difference(s)` : null
  ].filter(f => f !== null)
  const reasons = e.reasons.length > 0 ? `: ${e.reasons.join(' ')}` : ''
  return `${e.table} (${facts.join(', ')}) → ${e.decision}${reasons}`
}

/** A check, with the owed-restore lookup it made. */
export interface CheckedTables extends Check {
  /**
   * The owed-restore lookup made before planning (inspect/owed-restores.ts), for the run to reuse
   * where its own work cannot have changed it.
   */
  restoreStates: TableRestoreState[]
}

/**
 * inputs → discover → inspect → compare → plan, each stage a group of the log. Reads files and
 * makes read-only AWS calls only; bad input throws before the first AWS call. The credentials'
 * identity is read once, after the files and before the table names are resolved (an
 * environment-agnostic stack deploys into the credentials' account). Each table is inspected in
 * its own region, with that region's clients.
 */
export async function checkTables(
  inputs: Inputs,
  clients: RegionalClients,
  logger: Logger
): Promise<CheckedTables> {
  const { discovery, identity, problem } = await inGroup(logger, 'Discover', async () => {
    const deployment = readDeployment({
      template: inputs.template,
      stage: inputs.stage,
      stackName: inputs.stackName,
      tables: inputs.tables
    })

    const caller = await readCallerIdentity(clients.forRegion(clients.defaultRegion).sts)
    if (caller.identity) logger.debug(`Credentials: ${caller.identity.arn}`)

    const found = discoverTables(deployment, {
      template: inputs.template,
      stage: inputs.stage,
      tables: inputs.tables,
      region: inputs.awsRegion,
      ...(caller.identity ? { account: caller.identity.account } : {}),
      ...(caller.problem ? { accountUnknown: caller.problem } : {})
    })
    for (const note of found.notes) logger.info(note)
    const named = found.tables.filter(t => t.tableName !== null).length
    logger.info(`Checking ${named} named table(s) in ${stackCount(found)} (${found.source}).`)
    return { discovery: found, ...caller }
  })

  const inspection = await inGroup(logger, 'Inspect', async () => {
    const found = await inspect(clients, discovery, {
      identity,
      ...(problem ? { identityProblem: problem } : {}),
      logger
    })
    // The owed restores, as the owed-restore lookup finds them in AWS (with s3-bucket or without): a
    // table owed one is never deleted (plan.ts), and with s3-bucket a server-side restore an earlier
    // run left unfinished is resumed, never redone.
    const states = await findRestoreStates(clients, {
      stage: inputs.stage,
      account: identity?.account ?? null,
      s3Bucket: inputs.s3Bucket,
      tables: found.findings.filter(f => !f.notCheckable).map(f => ({ name: f.tableName, region: f.region })),
      localManifests: []
    })
    return {
      ...found,
      findings: withOwedRestores(
        await withServerSideResumes(clients, found.findings, { stage: inputs.stage, states }),
        states
      ),
      restoreStates: states
    }
  })

  const { restoreStates, ...inspected } = inspection
  return inGroup(logger, 'Plan', async () => {
    const findings = inspected.findings.map(f => withDifferences(f, inputs.stage, identity?.account))
    const policy = makePolicy(inputs, identity)
    if (policy.protectedBecause && !isProtectedStage(inputs.stage, inputs.protectedStages))
      logger.info(`Protected run: ${policy.protectedBecause}; no table is deleted.`)
    const plan = planTables(findings, policy, inspection.stacks, unresolvedTables(discovery))
    for (const entry of plan.entries) logger.info(decisionLine(entry))
    for (const note of plan.notes) logger.info(note)
    const check: CheckedTables = {
      discovery,
      inspection: { ...inspected, findings },
      plan,
      identity,
      ...(problem ? { identityProblem: problem } : {}),
      restoreStates
    }
    // "This check may be wrong": an annotation each (and a line in the report's first section).
    for (const warning of checkWarnings(check)) logger.warning(warning)
    return check
  })
}

/** Each existing table that is owed a restore it has not been given, with that restore (Finding.owedRestore). */
function withOwedRestores(findings: Finding[], states: TableRestoreState[]): Finding[] {
  return findings.map(f => {
    const state = f.exists ? states.find(s => s.table === f.tableName && s.region === f.region) : undefined
    const owed = state ? pendingRestore(state) : null
    return owed ? { ...f, owedRestore: owed } : f
  })
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

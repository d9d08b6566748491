import type { Stack } from '@aws-sdk/client-cloudformation'
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Sender } from '../aws/clients.js'
import { describeTableOrNull, tableHoldsData } from '../aws/dynamodb-read.js'
import { errorMessage, OperationError } from '../errors.js'
import type { Discovery, Finding, Inspection, LiveTable, Logger, StackState, TableSpec } from '../types.js'
import { readLiveTableFrom } from './live-config.js'
import { READ_ONLY_STATE, resolveOwner, StackReader } from './owner.js'
import { mapWithConcurrency } from './pool.js'

/** The clients inspect needs; an `AwsClients` fits. */
export interface InspectClients {
  dynamodb: Sender<DynamoDBClient>
  cloudformation: Sender<CloudFormationClient>
}

export interface InspectOptions {
  region: string
  /** Tables inspected at the same time (each makes a handful of calls). Default 8. */
  concurrency?: number
  logger: Logger
}

export const DEFAULT_INSPECT_CONCURRENCY = 8

function stackStateOf(name: string, stack: Stack | null): StackState {
  if (!stack) return { name, exists: false }
  return {
    name,
    exists: true,
    ...(stack.StackId ? { stackId: stack.StackId } : {}),
    ...(stack.StackStatus ? { status: stack.StackStatus } : {}),
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {})
  }
}

async function inspectTable(
  spec: TableSpec,
  tableName: string,
  clients: InspectClients,
  reader: StackReader,
  stackStates: ReadonlyMap<string, StackState>
): Promise<Finding> {
  const stack = spec.stack ? (stackStates.get(spec.stack) ?? null) : null
  let desc
  try {
    desc = await describeTableOrNull(clients.dynamodb, tableName)
  } catch (err) {
    throw new OperationError(`DescribeTable ${tableName} failed: ${errorMessage(err)}`, READ_ONLY_STATE, {
      cause: err
    })
  }
  if (!desc) {
    return {
      spec,
      tableName,
      exists: false,
      live: null,
      owner: null,
      hasData: null,
      stack,
      differences: [],
      problems: []
    }
  }

  const problems: string[] = []
  const liveP = readLiveTableFrom(clients.dynamodb, desc)
  const hasDataP = tableHoldsData(clients.dynamodb, tableName).catch((err: unknown) => {
    problems.push(`Scan failed: ${errorMessage(err)}`)
    return null
  })
  const ownerP = liveP.then(({ table }: { table: LiveTable }) =>
    resolveOwner(spec, tableName, table.unreadable?.includes('tags') ? null : table.allTags, reader, problems)
  )
  const [{ table: live, problems: liveProblems }, hasData, owner] = await Promise.all([
    liveP,
    hasDataP,
    ownerP
  ])

  return {
    spec,
    tableName,
    exists: true,
    live,
    owner: owner.owner,
    ...(owner.retainedFrom ? { retainedFrom: owner.retainedFrom } : {}),
    ...(owner.unknownBecause ? { ownerUnknownBecause: owner.unknownBecause } : {}),
    hasData,
    stack,
    differences: [],
    problems: [...liveProblems, ...problems]
  }
}

/**
 * Read-only look at every discovered table that has a name: does it exist, who owns it, does it
 * hold data, how is it configured; and at every expected stack. Specs without a resolved name are
 * skipped (discover reports them). `differences` stays empty: compare fills it in.
 *
 * Throws OperationError when a table's existence or an expected stack cannot be read (nothing
 * downstream would be sound); any other failed read becomes a problem on its finding.
 */
export async function inspect(
  clients: InspectClients,
  discovery: Discovery,
  opts: InspectOptions
): Promise<Inspection> {
  const { logger } = opts
  const concurrency = opts.concurrency ?? DEFAULT_INSPECT_CONCURRENCY
  const reader = new StackReader(clients.cloudformation)
  const named = discovery.tables.filter((t): t is TableSpec & { tableName: string } => t.tableName !== null)

  const stackNames = [...new Set(named.flatMap(t => (t.stack ? [t.stack] : [])))]
  const stacks = await mapWithConcurrency(stackNames, concurrency, async name => {
    try {
      const stack = await reader.stack(name)
      // Listed here, once, so every table of the stack can be matched against it.
      if (stack?.StackId) await reader.resourcesOf(stack.StackId)
      return stackStateOf(name, stack)
    } catch (err) {
      throw new OperationError(
        `Reading stack ${name} (DescribeStacks/ListStackResources) failed: ${errorMessage(err)}`,
        READ_ONLY_STATE,
        { cause: err }
      )
    }
  })
  const stackStates = new Map(stacks.map(s => [s.name, s]))

  const findings = await mapWithConcurrency(named, concurrency, async spec => {
    const finding = await inspectTable(spec, spec.tableName, clients, reader, stackStates)
    logger.debug(
      `${spec.tableName}: ${finding.exists ? `exists, owner ${finding.owner}, hasData ${finding.hasData}` : 'does not exist'}` +
        (finding.problems.length > 0 ? `; problems: ${finding.problems.join('; ')}` : '')
    )
    return finding
  })

  const existing = findings.filter(f => f.exists).length
  logger.info(
    `Inspected ${findings.length} table(s) (${existing} exist) and ${stacks.length} stack(s) in ${opts.region}`
  )
  return { findings, stacks, region: opts.region }
}

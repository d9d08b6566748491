import type { Stack } from '@aws-sdk/client-cloudformation'
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { RegionalClients, Sender } from '../aws/clients.js'
import { currentGlobalTableOf, describeTableOrNull, tableHoldsData } from '../aws/dynamodb-read.js'
import { errorMessage, OperationError } from '../errors.js'
import type {
  CallerIdentity,
  Discovery,
  Finding,
  Inspection,
  LiveTable,
  Logger,
  ReplicaOrphan,
  StackState,
  TableSpec
} from '../types.js'
import { readLiveTable, readLiveTableFrom } from './live-config.js'
import { READ_ONLY_STATE, resolveOwner, StackReader } from './owner.js'
import { mapWithConcurrency } from './pool.js'

/** The clients inspect needs in one region; an `AwsClients` fits. */
export interface InspectClients {
  dynamodb: Sender<DynamoDBClient>
  cloudformation: Sender<CloudFormationClient>
}

export interface InspectOptions {
  /**
   * The credentials' identity (null = unknown). A table whose stack is pinned to another account,
   * or to any account while the credentials' account is unknown, is not inspected at all.
   */
  identity: CallerIdentity | null
  /** Why the identity is unknown (GetCallerIdentity's error), for the not-checkable reason. */
  identityProblem?: string
  /** Tables inspected at the same time (each makes a handful of calls). Default 8. */
  concurrency?: number
  logger: Logger
}

export const DEFAULT_INSPECT_CONCURRENCY = 8

type NamedSpec = TableSpec & { tableName: string }

/** A stack as DescribeStacks shows it (null: it does not exist), in the form the plan and the import take. */
export function stackStateOf(name: string, region: string, stack: Stack | null): StackState {
  if (!stack) return { name, region, exists: false }
  return {
    name,
    region,
    exists: true,
    ...(stack.StackId ? { stackId: stack.StackId } : {}),
    ...(stack.StackStatus ? { status: stack.StackStatus } : {}),
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {})
  }
}

/** `region/name`: stacks and tables are regional, so names alone do not tell them apart. */
export function regionalKey(region: string, name: string): string {
  return `${region}/${name}`
}

/**
 * Why a table cannot be checked with these credentials: its stack is pinned to another account, or
 * to an account while the credentials' account is unknown. Checking it here would look at (and later
 * act on) a namesake in the wrong account. Null when it can be checked.
 */
export function accountRefusal(
  spec: TableSpec,
  identity: CallerIdentity | null,
  identityProblem?: string
): string | null {
  if (spec.account === undefined) return null
  const stack = spec.stack ?? 'its stack'
  if (identity === null) {
    return `stack ${stack} is pinned to account ${spec.account}, and the credentials' account is unknown${identityProblem ? ` (${identityProblem})` : ''}: the table is not checked, since it might be looked at in another account`
  }
  if (identity.account === spec.account) return null
  return `stack ${stack} is for account ${spec.account}, but these credentials are for account ${identity.account}: the table cannot be checked with these credentials and is never checked or changed in the wrong account`
}

async function inspectTable(
  spec: NamedSpec,
  region: string,
  clients: RegionalClients<InspectClients>,
  reader: StackReader,
  stackStates: ReadonlyMap<string, StackState>
): Promise<Finding> {
  const tableName = spec.tableName
  const here = clients.forRegion(region)
  const stack = spec.stack ? (stackStates.get(regionalKey(region, spec.stack)) ?? null) : null
  let desc
  try {
    desc = await describeTableOrNull(here.dynamodb, tableName)
  } catch (err) {
    throw new OperationError(
      `DescribeTable ${tableName} in ${region} failed: ${errorMessage(err)}`,
      READ_ONLY_STATE,
      { cause: err }
    )
  }
  if (!desc) {
    const replicaOrphans = await findReplicaOrphans(spec, region, null, clients)
    return {
      spec,
      tableName,
      region,
      exists: false,
      live: null,
      owner: null,
      hasData: null,
      stack,
      differences: [],
      problems: [],
      ...(replicaOrphans.length > 0 ? { replicaOrphans } : {})
    }
  }

  const problems: string[] = []
  const liveP = readLiveTableFrom(here.dynamodb, desc, region)
  const hasDataP = tableHoldsData(here.dynamodb, tableName).catch((err: unknown) => {
    problems.push(`Scan failed: ${errorMessage(err)}`)
    return null
  })
  const ownerP = liveP.then(({ table }: { table: LiveTable }) =>
    resolveOwner(spec, tableName, table.unreadable?.includes('tags') ? null : table.allTags, reader, problems)
  )
  const [{ table, problems: liveProblems }, hasData, owner] = await Promise.all([liveP, hasDataP, ownerP])
  const live = await withReplicas(table, region, clients, problems)
  const replicaOrphans = await findReplicaOrphans(spec, region, live, clients)

  return {
    spec,
    tableName,
    region,
    exists: true,
    live,
    owner: owner.owner,
    ...(owner.retainedFrom ? { retainedFrom: owner.retainedFrom } : {}),
    ...(owner.unknownBecause ? { ownerUnknownBecause: owner.unknownBecause } : {}),
    hasData,
    stack,
    differences: [],
    problems: [...liveProblems, ...problems],
    ...(replicaOrphans.length > 0 ? { replicaOrphans } : {})
  }
}

/**
 * A version 2019.11.21 global table's replicas in the other regions, read there (an import
 * template states each replica's own settings). A replica that cannot be read is left out, with
 * a problem; the import is then refused for it.
 */
async function withReplicas(
  live: LiveTable,
  region: string,
  clients: RegionalClients<InspectClients>,
  problems: string[]
): Promise<LiveTable> {
  const global = live.globalTable
  if (!global || global.version !== '2019.11.21') return live
  const replicas: Record<string, LiveTable> = {}
  for (const other of global.regions.filter(r => r !== region)) {
    try {
      const replica = await readLiveTable(clients.forRegion(other).dynamodb, live.tableName, other)
      if (replica) replicas[other] = replica
      else problems.push(`the replica in ${other} was not found there`)
    } catch (err) {
      problems.push(`the replica in ${other} could not be read: ${errorMessage(err)}`)
    }
  }
  return { ...live, globalTable: { ...global, replicas } }
}

/**
 * For a template AWS::DynamoDB::GlobalTable: tables of the same name in its other replica regions
 * that are not replicas of the live table here. The deploy cannot create a replica where such a
 * table stands. A DescribeTable that fails there fails the inspection, as it does here.
 */
async function findReplicaOrphans(
  spec: NamedSpec,
  region: string,
  live: LiveTable | null,
  clients: RegionalClients<InspectClients>
): Promise<ReplicaOrphan[]> {
  if (spec.resourceType !== 'AWS::DynamoDB::GlobalTable' || !spec.replicaRegions) return []
  const replicated = new Set(live?.globalTable?.regions ?? [])
  const others = [...new Set(spec.replicaRegions)].filter(r => r !== region && !replicated.has(r))
  const orphans: ReplicaOrphan[] = []
  for (const other of others) {
    let desc
    try {
      desc = await describeTableOrNull(clients.forRegion(other).dynamodb, spec.tableName)
    } catch (err) {
      throw new OperationError(
        `DescribeTable ${spec.tableName} in ${other} (a replica region of the template's global table) failed: ${errorMessage(err)}`,
        READ_ONLY_STATE,
        { cause: err }
      )
    }
    if (!desc) continue
    const global = currentGlobalTableOf(desc, other)
    orphans.push({ region: other, ...(global ? { replicaRegions: global.regions } : {}) })
  }
  return orphans
}

/** A finding for a table that was not looked at: nothing was read, and nothing is known. */
function notCheckedFinding(spec: NamedSpec, region: string, reason: string): Finding {
  return {
    spec,
    tableName: spec.tableName,
    region,
    notCheckable: reason,
    exists: false,
    live: null,
    owner: null,
    hasData: null,
    stack: null,
    differences: [],
    problems: []
  }
}

/**
 * Read-only look at every discovered table that has a name, each in its own region with that
 * region's clients: does it exist, who owns it, does it hold data, how is it configured, does it
 * replicate; and at every expected stack. Specs without a resolved name are skipped (the plan
 * reports them). A table whose stack is pinned to another account is not looked at (`notCheckable`).
 * `differences` stays empty: compare fills it in.
 *
 * Throws OperationError when a table's existence or an expected stack cannot be read (nothing
 * downstream would be sound); any other failed read becomes a problem on its finding.
 */
export async function inspect(
  clients: RegionalClients<InspectClients>,
  discovery: Discovery,
  opts: InspectOptions
): Promise<Inspection> {
  const { logger } = opts
  const concurrency = opts.concurrency ?? DEFAULT_INSPECT_CONCURRENCY
  const regionOf = (spec: TableSpec): string => spec.region ?? clients.defaultRegion
  const named = discovery.tables.filter((t): t is NamedSpec => t.tableName !== null)
  const refusals = new Map(
    named.map(spec => [spec, accountRefusal(spec, opts.identity, opts.identityProblem)] as const)
  )
  const checkable = named.filter(spec => refusals.get(spec) === null)

  const readers = new Map<string, StackReader>()
  const readerFor = (region: string): StackReader => {
    let reader = readers.get(region)
    if (!reader) {
      reader = new StackReader(clients.forRegion(region).cloudformation)
      readers.set(region, reader)
    }
    return reader
  }

  const stackKeys = new Map<string, { name: string; region: string }>()
  for (const spec of checkable) {
    if (spec.stack)
      stackKeys.set(regionalKey(regionOf(spec), spec.stack), { name: spec.stack, region: regionOf(spec) })
  }
  const stacks = await mapWithConcurrency([...stackKeys.values()], concurrency, async ({ name, region }) => {
    const reader = readerFor(region)
    try {
      const stack = await reader.stack(name)
      // Listed here, once, so every table of the stack can be matched against it.
      if (stack?.StackId) await reader.resourcesOf(stack.StackId)
      return stackStateOf(name, region, stack)
    } catch (err) {
      throw new OperationError(
        `Reading stack ${name} in ${region} (DescribeStacks/ListStackResources) failed: ${errorMessage(err)}`,
        READ_ONLY_STATE,
        { cause: err }
      )
    }
  })
  const stackStates = new Map(stacks.map(s => [regionalKey(s.region ?? '', s.name), s]))

  const findings = await mapWithConcurrency(named, concurrency, async spec => {
    const region = regionOf(spec)
    const refusal = refusals.get(spec)
    if (refusal) {
      logger.debug(`${spec.tableName} (${region}): not checked: ${refusal}`)
      return notCheckedFinding(spec, region, refusal)
    }
    const finding = await inspectTable(spec, region, clients, readerFor(region), stackStates)
    logger.debug(
      `${spec.tableName} (${region}): ${finding.exists ? `exists, owner ${finding.owner}, hasData ${finding.hasData}` : 'does not exist'}` +
        (finding.problems.length > 0 ? `; problems: ${finding.problems.join('; ')}` : '')
    )
    return finding
  })

  const regions = [...new Set(findings.filter(f => !f.notCheckable).map(f => f.region))].sort()
  const existing = findings.filter(f => f.exists).length
  const notChecked = named.length - checkable.length
  logger.info(
    `Inspected ${checkable.length} table(s) (${existing} exist) and ${stacks.length} stack(s) in ${regions.join(', ') || clients.defaultRegion}` +
      (notChecked > 0 ? `; ${notChecked} table(s) of stacks for another account not checked` : '')
  )
  return { findings, stacks, region: clients.defaultRegion, regions }
}

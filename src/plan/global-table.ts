/**
 * What a global table means for the plan (pure). A table that replicates to other regions is never
 * deleted or re-created: a delete here drops one replica, and a backup-restore would copy one region
 * into a table the deploy re-creates while the other replicas live on. It can only be imported, as an
 * AWS::DynamoDB::GlobalTable that declares exactly its replica regions.
 */
import type { Finding } from '../types.js'

/** Why something is not possible, and what the user can do about it. */
export interface Blocker {
  /** Completes "it cannot be imported because …" / "… is not allowed because …". */
  reason: string
  /** What the user can do about it. */
  hint: string
}

function list(regions: readonly string[]): string {
  return regions.join(', ')
}

function sorted(regions: readonly string[]): string[] {
  return [...new Set(regions)].sort()
}

/** The live table's replica regions (its own included); [its region] for a single-region table. */
export function liveReplicaRegions(f: Finding): string[] {
  return f.live?.globalTable?.regions ?? [f.region]
}

/** Whether the live table replicates to a region other than its own. */
export function isReplicated(f: Finding): boolean {
  return liveReplicaRegions(f).some(r => r !== f.region)
}

function describeGlobal(f: Finding): string {
  const global = f.live?.globalTable
  return global
    ? `a replica of a global table (version ${global.version}) with replicas in ${list(global.regions)}`
    : 'a single-region table'
}

/**
 * Why the table may not be deleted or re-created because of replication, or null. A table whose
 * replication could not be read counts as replicated.
 */
export function replicationDeleteBlocker(f: Finding): Blocker | null {
  if (f.live?.replicationUnknown) {
    return {
      reason: `whether it replicates to other regions is unknown (${f.live.replicationUnknown}), so it is treated as a global table, which the action never deletes or re-creates`,
      hint: 'Grant dynamodb:DescribeGlobalTable on the table and run again.'
    }
  }
  if (!isReplicated(f)) return null
  const regions = liveReplicaRegions(f)
  const legacy = f.live?.globalTable?.version === '2017.11.29'
  return {
    reason: `it is ${describeGlobal(f)}, and the action never deletes or re-creates a replicated table: a delete here drops one replica while the others live on, and a backup-restore would copy one region only`,
    hint: legacy
      ? `Update the global table to version 2019.11.21 (DynamoDB console: Global tables → Update version) and declare it as an AWS::DynamoDB::GlobalTable with replicas in exactly ${list(regions)} so it can be imported, or remove its other replicas by hand first, then run again.`
      : `Declare it as an AWS::DynamoDB::GlobalTable (CDK: TableV2) with replicas in exactly ${list(regions)} so it can be imported, or remove its other replicas by hand first (UpdateTable ReplicaUpdates Delete; that deletes their items), then run again.`
  }
}

/** The replica-set differences of a template GlobalTable against the live table, or null when equal. */
function replicaDifferences(template: readonly string[], live: readonly string[]): string | null {
  const want = sorted(template)
  const have = sorted(live)
  const missing = want.filter(r => !have.includes(r))
  const extra = have.filter(r => !want.includes(r))
  if (missing.length === 0 && extra.length === 0) return null
  const parts = [
    ...(missing.length > 0 ? [`the live table has no replica in ${list(missing)}`] : []),
    ...(extra.length > 0 ? [`the template has no replica in ${list(extra)}`] : [])
  ]
  return `its replica regions differ from the template's (live ${list(have)}; template ${list(want)}: ${parts.join('; ')})`
}

/**
 * Why the table cannot be imported as the template declares it, as far as replication goes, or
 * null. A GlobalTable is imported only with the same replica set as the live table, from
 * version 2019.11.21, on-demand, with every replica read; a replicated table is never imported
 * as an AWS::DynamoDB::Table.
 */
export function replicationImportBlocker(f: Finding): Blocker | null {
  const { spec, live } = f
  if (live === null) return null
  if (spec.resourceType !== 'AWS::DynamoDB::GlobalTable') {
    const unknown = replicationDeleteBlocker(f)
    if (live.replicationUnknown && unknown) return unknown
    if (!isReplicated(f)) return null
    return {
      reason: `it is ${describeGlobal(f)}, but the template declares an AWS::DynamoDB::Table, which cannot hold its replicas`,
      hint: `Declare it as an AWS::DynamoDB::GlobalTable (CDK: TableV2) with replicas in exactly ${list(liveReplicaRegions(f))}, then run again.`
    }
  }
  if (!spec.replicaRegions) {
    return {
      reason: `its template Replicas cannot be resolved (${spec.replicaRegionsUnresolved ?? 'no Replicas'})`,
      hint: 'Write the replica regions as literals (or pseudo parameters) in the template.'
    }
  }
  if (live.replicationUnknown) {
    return {
      reason: `whether it replicates to other regions is unknown (${live.replicationUnknown}), so its replica set cannot be compared with the template`,
      hint: 'Grant dynamodb:DescribeGlobalTable on the table and run again.'
    }
  }
  if (live.globalTable?.version === '2017.11.29') {
    return {
      reason: `it is a version 2017.11.29 (Legacy) global table with replicas in ${list(live.globalTable.regions)}, which an AWS::DynamoDB::GlobalTable cannot manage (it holds version 2019.11.21 tables only)`,
      hint: 'Update the global table to version 2019.11.21 (DynamoDB console: Global tables → Update version), then run again.'
    }
  }
  const differences = replicaDifferences(spec.replicaRegions, liveReplicaRegions(f))
  if (differences) {
    return {
      reason: differences,
      hint: `Declare exactly the live replica regions (${list(liveReplicaRegions(f))}) in the template so the table can be imported, and add or remove replicas in a later deploy; or change the replicas by hand first.`
    }
  }
  if (live.billingMode === 'PROVISIONED') {
    return {
      reason:
        'it uses provisioned capacity, which an AWS::DynamoDB::GlobalTable states as write auto scaling settings the action does not read',
      hint: 'Import it by hand with an IMPORT change set, or switch it to on-demand capacity first.'
    }
  }
  const others = liveReplicaRegions(f).filter(r => r !== f.region)
  const unread = others.filter(r => live.globalTable?.replicas?.[r] === undefined)
  if (unread.length > 0) {
    return {
      reason: `its replica in ${list(unread)} could not be read, and the import template must state every replica's settings`,
      hint: `Grant dynamodb:DescribeTable, DescribeContinuousBackups and ListTagsOfResource on the table in ${list(unread)}, then run again.`
    }
  }
  const busy = others.filter(r => live.globalTable?.replicas?.[r]?.status !== 'ACTIVE')
  if (busy.length > 0) {
    return {
      reason: `its replica in ${list(busy)} is not ACTIVE`,
      hint: 'Wait until every replica is ACTIVE, then run again.'
    }
  }
  return null
}

/** The sentence a plan entry carries about a global table: its replica regions. */
export function replicaNote(f: Finding): string | null {
  const global = f.live?.globalTable
  if (!global) return null
  return `Table ${f.tableName} is a replica of a global table (version ${global.version}) with replicas in ${list(global.regions)}.`
}

/**
 * Why the deploy cannot create the template global table's replicas: tables of that name already
 * stand in other replica regions, outside this global table. Null when there are none.
 */
export function replicaOrphanBlocker(f: Finding): Blocker | null {
  const orphans = f.replicaOrphans ?? []
  if (orphans.length === 0) return null
  const where = orphans
    .map(o =>
      o.replicaRegions ? `${o.region} (itself a global table in ${list(o.replicaRegions)})` : o.region
    )
    .join(', ')
  return {
    reason: `a table named ${f.tableName} also exists in ${where}, where the template's global table puts a replica, and it is not a replica of ${f.exists ? `the table in ${f.region}` : 'this table'}: the deploy cannot create the replica there`,
    hint: `Resolve the table in ${list(orphans.map(o => o.region))} first (run the action for a stack in that region, or delete or rename it by hand), or leave ${list(orphans.map(o => o.region))} out of the template's replicas.`
  }
}

/**
 * Which path a table that backup-restore re-creates takes for its items (pure), and the copy-time
 * model behind `copy-mode: auto` (the README's "Big tables: the server-side path" states it with
 * its sources).
 *
 *  - runner: the action scans the table into an export, deletes it, and after the deploy writes
 *    every item into the new table (BatchWriteItem at the new table's write capacity).
 *  - server-side: DynamoDB exports the table to S3 (ExportTableToPointInTime, or the action's own
 *    streamed export when point-in-time recovery is off), the table is deleted, ImportTable creates
 *    the template's table from S3 (no write capacity) and it is imported into its stack before the
 *    deploy. No item is written by the runner; it only scans to verify.
 *
 * The model, per item of `itemBytes` bytes (DynamoDB meters writes in 1 KB units and strongly
 * consistent reads in 4 KB units; a new on-demand table sustains up to 4,000 writes and 12,000 reads
 * per second: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/pre-warming-on-demand-capacity-mode.html):
 * the runner path scans the table twice before the delete (export, verification behind the write
 * fence), writes every item, and scans the new table once; the server-side path makes the same
 * scans (one fewer with point-in-time recovery on) and writes nothing. How long ExportTableToPointInTime
 * and ImportTable take is not documented ("depends on how large the table is and how uniformly the
 * table data is distributed"), so the model gives only the runner's part of the server-side path.
 */
import { stackRefusal } from './stack-state.js'
import type { CopyPath, Finding, Policy } from '../types.js'

/** DynamoDB meters a write in units of 1 KB (1,024 bytes) of item size, rounded up. */
export const WRITE_UNIT_BYTES = 1024
/** A strongly consistent read unit covers 4 KB. */
export const READ_UNIT_BYTES = 4096
/** "New on-demand tables will be able to sustain up to 4,000 writes per second and 12,000 reads per second." */
export const NEW_TABLE_WRITES_PER_SECOND = 4_000
export const NEW_TABLE_READS_PER_SECOND = 12_000
/**
 * `server-side-threshold-bytes` by default: 1 GiB, about a million items of 1 KB, which the runner
 * path copies in about 5.5 minutes at the documented rates (copyTimeModel); ten times that (52
 * minutes) no longer fits the default one-hour credentials of configure-aws-credentials with a
 * deploy in between, while the server-side path's own time does not grow with the new table's
 * write capacity.
 */
export const DEFAULT_SERVER_SIDE_THRESHOLD_BYTES = 2 ** 30

export interface CopyTimeModel {
  /** One strongly consistent scan of the table at 12,000 read units per second. */
  scanSeconds: number
  /** Writing every item at `writesPerSecond` write units per second. */
  writeSeconds: number
  /** The runner path: two scans of the old table, the writes, one scan of the new table. */
  runnerSeconds: number
  /** The runner's part of the server-side path: the scans (2 with point-in-time recovery, else 3); export and import come on top. */
  serverSideScanSeconds: { pitr: number; streamed: number }
}

/** The model's times for `items` items of `itemBytes` bytes each, written at `writesPerSecond` units a second. */
export function copyTimeModel(
  items: number,
  itemBytes: number,
  writesPerSecond = NEW_TABLE_WRITES_PER_SECOND
): CopyTimeModel {
  const readUnits = Math.ceil((items * itemBytes) / READ_UNIT_BYTES)
  const scanSeconds = readUnits / NEW_TABLE_READS_PER_SECOND
  const writeSeconds = (items * Math.ceil(itemBytes / WRITE_UNIT_BYTES)) / writesPerSecond
  return {
    scanSeconds,
    writeSeconds,
    runnerSeconds: 3 * scanSeconds + writeSeconds,
    serverSideScanSeconds: { pitr: 2 * scanSeconds, streamed: 3 * scanSeconds }
  }
}

/** 1073741824 → `1 GiB`; 1536 → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const text = unit === 0 ? String(value) : String(Math.round(value * 10) / 10)
  return `${text} ${units[unit]}`
}

/**
 * What the runner path would write, in bytes: the larger of the table's size and 1 KB per item (an
 * item under 1 KB costs a whole write unit), as DescribeTable estimates them (refreshed about every
 * six hours, so a table filled since may show less).
 */
export function restoreWriteBytes(live: { sizeBytesEstimate: number; itemCountEstimate: number }): number {
  return Math.max(live.sizeBytesEstimate, live.itemCountEstimate * WRITE_UNIT_BYTES)
}

/** Why the server-side path cannot re-create this table; [] when it can. */
export function serverSideBlockers(f: Finding, policy: Policy): string[] {
  const why: string[] = []
  if (policy.s3Bucket !== true)
    why.push('s3-bucket is not set (the export goes to S3, and ImportTable reads it from there)')
  if (!f.importTable) {
    why.push('no template describes the table, so there is nothing to create it from')
    return why
  }
  why.push(...f.importTable.cannot)
  if (f.spec.nestedPath.length > 0)
    why.push(
      `it is declared in the nested stack ${f.spec.nestedPath.join(' → ')}, and the new table could not be imported into it`
    )
  if (f.spec.logicalId === null)
    why.push('it has no logical id, so the new table could not be imported into its stack')
  const refusal = f.stack ? stackRefusal(f.stack, f.stack.name) : null
  if (refusal) why.push(`the new table could not be imported into its stack: ${refusal}`)
  return why
}

export type CopyChoice = { path: CopyPath; reason: string } | { blocked: string }

/**
 * The path for a table planned backup-restore (`f.hasData` not false is expected: an empty table
 * has nothing to copy either way and takes the runner path).
 */
export function chooseCopyPath(f: Finding, policy: Policy, moreBlockers: string[] = []): CopyChoice {
  const mode = policy.copyMode ?? 'auto'
  const table = f.tableName
  if (f.hasData === false)
    return {
      path: 'runner',
      reason: `Copy path: runner. Table ${table} is empty, so there is nothing to copy.`
    }
  if (mode === 'runner')
    return {
      path: 'runner',
      reason: `Copy path: runner (copy-mode runner): the action exports its items, and phase restore writes them into the new table after the deploy.`
    }
  const blockers = [...serverSideBlockers(f, policy), ...moreBlockers]
  if (mode === 'server-side') {
    if (blockers.length > 0)
      return {
        blocked: `copy-mode is server-side, but table ${table} cannot be re-created by ImportTable: ${blockers.join('; ')}. Use copy-mode auto or runner (its items are then restored by phase restore after the deploy), or change the template.`
      }
    return { path: 'server-side', reason: serverSideReason(table, 'copy-mode server-side') }
  }
  if (blockers.length > 0)
    return {
      path: 'runner',
      reason: `Copy path: runner, because the server-side path cannot re-create it: ${blockers.join('; ')}. Phase restore writes its items into the new table after the deploy.`
    }
  if (f.importTable?.streamEnabled)
    return {
      path: 'server-side',
      reason: serverSideReason(
        table,
        'the template enables a stream on the new table: a runner restore would deliver every item to its consumers again, while ImportTable loads the items before the deploy turns the stream on'
      )
    }
  const threshold = policy.serverSideThresholdBytes ?? DEFAULT_SERVER_SIDE_THRESHOLD_BYTES
  const size = f.live ? restoreWriteBytes(f.live) : 0
  const write = f.importTable?.provisionedWrite
  const slower = write !== undefined && write > 0 && write < NEW_TABLE_WRITES_PER_SECOND
  const equivalent = slower ? size * (NEW_TABLE_WRITES_PER_SECOND / write) : size
  const sizeText = `its size to restore is ${formatBytes(size)} (DescribeTable: ${f.live?.sizeBytesEstimate ?? 0} bytes, ${f.live?.itemCountEstimate ?? 0} items; 1 KiB a write unit)${slower ? `, which at the template's ${write} write capacity units takes as long as ${formatBytes(equivalent)} at a new on-demand table's ${NEW_TABLE_WRITES_PER_SECOND} writes per second` : ''}`
  if (equivalent >= threshold)
    return {
      path: 'server-side',
      reason: serverSideReason(
        table,
        `${sizeText}, at least server-side-threshold-bytes (${formatBytes(threshold)})`
      )
    }
  return {
    path: 'runner',
    reason: `Copy path: runner: ${sizeText}, below server-side-threshold-bytes (${formatBytes(threshold)}); phase restore writes its items into the new table after the deploy.${size === 0 ? ' DescribeTable refreshes its size about every six hours, so a table filled since reads as empty here: set copy-mode server-side to take the server-side path anyway.' : ''}`
  }
}

function serverSideReason(table: string, why: string): string {
  return `Copy path: server-side (${why}). The items go to S3 (ExportTableToPointInTime when point-in-time recovery is on, else the action's streamed export), ImportTable creates ${table} with the template's keys, indexes, billing mode and encryption, and the new table is imported into its stack before the deploy, which converges the rest; no item is written by the runner, and no restore is needed after the deploy.`
}

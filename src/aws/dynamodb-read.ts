import {
  DescribeContinuousBackupsCommand,
  DescribeGlobalTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTagsOfResourceCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TableDescription
} from '@aws-sdk/client-dynamodb'
import type { Sender } from './clients.js'

/** The SDK error's `name` (e.g. `ResourceNotFoundException`), or '' for non-errors. */
export function awsErrorName(err: unknown): string {
  return err instanceof Error ? err.name : ''
}

/**
 * An operation the endpoint does not implement. Real DynamoDB implements all of them; dynalite
 * answers `UnknownOperationException` for the backup/PITR family. Some emulators answer with a
 * plain 400 whose `__type` the SDK cannot map, hence the message check.
 */
export function isUnsupportedOperation(err: unknown): boolean {
  const name = awsErrorName(err)
  return (
    name === 'UnknownOperationException' ||
    name === 'NotImplementedError' ||
    (err instanceof Error && /not (yet )?implemented|unknown operation/i.test(err.message))
  )
}

/** DescribeTable; null when the table does not exist. Other errors propagate. */
export async function describeTableOrNull(
  ddb: Sender<DynamoDBClient>,
  tableName: string
): Promise<TableDescription | null> {
  try {
    const out = await ddb.send(new DescribeTableCommand({ TableName: tableName }))
    return out.Table ?? null
  } catch (err) {
    if (awsErrorName(err) === 'ResourceNotFoundException') return null
    throw err
  }
}

/**
 * Whether the table holds at least one item, from a consistent `Scan Limit=1` (Select COUNT, so no
 * item data crosses the wire). DescribeTable's ItemCount is refreshed only every ~6 hours and is
 * always 0 on emulators, so it is never used for this.
 *
 * A Scan page may be empty yet carry a LastEvaluatedKey; we then follow it until an item shows up
 * or the table is exhausted. Hand-written rather than `paginateScan`, which reads every page unless
 * the caller breaks out of it: this loop's whole point is to stop at the first page that counts an
 * item (one item read, whatever the table's size), and the stop condition reads plainly here.
 */
export async function tableHoldsData(ddb: Sender<DynamoDBClient>, tableName: string): Promise<boolean> {
  let exclusiveStartKey: Record<string, AttributeValue> | undefined
  do {
    const out = await ddb.send(
      new ScanCommand({
        TableName: tableName,
        Limit: 1,
        Select: 'COUNT',
        ConsistentRead: true,
        ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {})
      })
    )
    if ((out.Count ?? 0) > 0) return true
    exclusiveStartKey = out.LastEvaluatedKey
  } while (exclusiveStartKey !== undefined)
  return false
}

export interface TtlState {
  enabled: boolean
  attributeName?: string
}

/**
 * Time-to-live setting; ENABLING counts as enabled (it is what the table was asked to do).
 * Returns null when the endpoint does not implement DescribeTimeToLive (an emulator gap): the
 * caller treats that as unknown, not as a difference.
 */
export async function describeTtl(ddb: Sender<DynamoDBClient>, tableName: string): Promise<TtlState | null> {
  const d = await describeTtlStatus(ddb, tableName)
  if (d === null) return null
  const enabled = d.status === 'ENABLED' || d.status === 'ENABLING'
  return enabled && d.attributeName !== null
    ? { enabled, attributeName: d.attributeName }
    : { enabled: false }
}

/** DescribeTimeToLive as DynamoDB answers it: status and attribute. */
export interface TtlStatus {
  /** ENABLED, ENABLING, DISABLING or DISABLED (DynamoDB's TimeToLiveStatus). */
  status: string
  attributeName: string | null
}

/**
 * The TTL status as DynamoDB reports it (DISABLING included: items may still be deleted while
 * TTL is being turned off). Null when the endpoint does not implement DescribeTimeToLive.
 */
export async function describeTtlStatus(
  ddb: Sender<DynamoDBClient>,
  tableName: string
): Promise<TtlStatus | null> {
  try {
    const out = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }))
    const d = out.TimeToLiveDescription
    return { status: d?.TimeToLiveStatus ?? 'DISABLED', attributeName: d?.AttributeName ?? null }
  } catch (err) {
    if (isUnsupportedOperation(err)) return null
    throw err
  }
}

/**
 * Whether point-in-time recovery is enabled. Returns null when the endpoint does not implement
 * DescribeContinuousBackups: dynalite answers UnknownOperationException for the whole backup
 * family. The caller reports PITR as false-but-unknown rather than failing the inspection.
 */
export async function describePitr(ddb: Sender<DynamoDBClient>, tableName: string): Promise<boolean | null> {
  try {
    const out = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: tableName }))
    return (
      out.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus ===
      'ENABLED'
    )
  } catch (err) {
    if (isUnsupportedOperation(err)) return null
    throw err
  }
}

/**
 * Every tag of a table (including aws:cloudformation:* ones), following NextToken. Hand-written:
 * the DynamoDB client has no paginator for ListTagsOfResource.
 * moto appends on every TagResource instead of replacing, so one key can be listed twice;
 * the later entry is the newer value, which is what real DynamoDB would hold.
 */
export async function listAllTags(
  ddb: Sender<DynamoDBClient>,
  resourceArn: string
): Promise<Record<string, string>> {
  const tags: Record<string, string> = {}
  let nextToken: string | undefined
  do {
    const out = await ddb.send(
      new ListTagsOfResourceCommand({
        ResourceArn: resourceArn,
        ...(nextToken ? { NextToken: nextToken } : {})
      })
    )
    for (const tag of out.Tags ?? []) {
      if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? ''
    }
    nextToken = out.NextToken
  } while (nextToken)
  return tags
}

/**
 * The regions of the version 2017.11.29 (Legacy) global table named `tableName`, from
 * DescribeGlobalTable (the documented way to tell a legacy replica: a version 2019.11.21 replica
 * shows GlobalTableVersion in DescribeTable instead). Null when there is none
 * (GlobalTableNotFoundException) or the endpoint does not implement the operation (real DynamoDB
 * does; an emulator that does not cannot hold a legacy global table either). Other errors propagate.
 */
export async function describeLegacyGlobalTableRegions(
  ddb: Sender<DynamoDBClient>,
  tableName: string
): Promise<string[] | null> {
  try {
    const out = await ddb.send(new DescribeGlobalTableCommand({ GlobalTableName: tableName }))
    const regions = (out.GlobalTableDescription?.ReplicationGroup ?? []).flatMap(r =>
      r.RegionName ? [r.RegionName] : []
    )
    return [...new Set(regions)].sort()
  } catch (err) {
    if (awsErrorName(err) === 'GlobalTableNotFoundException' || isUnsupportedOperation(err)) return null
    throw err
  }
}

/**
 * The global table (version 2019.11.21) a described table is a replica of: DescribeTable's
 * GlobalTableVersion and Replicas. `ownRegion` is added to the regions (whether DynamoDB lists the
 * described region among the Replicas or not). Null for a table DescribeTable shows no replicas for.
 */
export function currentGlobalTableOf(
  desc: TableDescription,
  ownRegion: string
): { version: string; regions: string[] } | null {
  const replicas = (desc.Replicas ?? []).flatMap(r => (r.RegionName ? [r.RegionName] : []))
  if (desc.GlobalTableVersion === undefined && replicas.length === 0) return null
  return {
    version: desc.GlobalTableVersion ?? '2019.11.21',
    regions: [...new Set([ownRegion, ...replicas])].sort()
  }
}

/** The region in a DynamoDB table ARN (`arn:aws:dynamodb:us-east-1:123456789012:table/x`), or null. */
export function regionOfArn(arn: string | undefined): string | null {
  const region = arn?.split(':')[3]
  return region ? region : null
}

import type {
  AttributeDefinition,
  KeySchemaElement,
  Projection,
  ProvisionedThroughputDescription,
  TableDescription
} from '@aws-sdk/client-dynamodb'
import {
  currentGlobalTableOf,
  describeLegacyGlobalTableRegions,
  describePitr,
  describeTableOrNull,
  describeTtl,
  listAllTags,
  regionOfArn,
  type TtlState
} from '../aws/dynamodb-read.js'
import { errorMessage } from '../errors.js'
import type {
  GlobalTableInfo,
  IndexConfig,
  KeyElement,
  LiveTable,
  ScalarAttrType,
  TableConfig
} from '../types.js'
import type { Sender } from '../aws/clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

/** What the side calls returned; null = could not be read (see `LiveReadResult.problems`). */
export interface LiveExtras {
  ttl: TtlState | null
  pitr: boolean | null
  tags: Record<string, string> | null
}

export interface LiveReadResult {
  table: LiveTable
  /** One sentence per property that could not be read; the value falls back to the default. */
  problems: string[]
}

function keysOf(schema: KeySchemaElement[] | undefined): KeyElement[] {
  const keys = (schema ?? []).map(
    k => ({ name: k.AttributeName ?? '', type: k.KeyType === 'RANGE' ? 'RANGE' : 'HASH' }) as const
  )
  // HASH first, as CloudFormation templates write it; DynamoDB already answers in this order.
  return keys.sort((a, b) => (a.type === b.type ? 0 : a.type === 'HASH' ? -1 : 1))
}

function throughputOf(
  t: ProvisionedThroughputDescription | undefined
): { read: number; write: number } | undefined {
  if (t?.ReadCapacityUnits === undefined && t?.WriteCapacityUnits === undefined) return undefined
  return { read: t.ReadCapacityUnits ?? 0, write: t.WriteCapacityUnits ?? 0 }
}

function projectionOf(p: Projection | undefined): IndexConfig['projection'] {
  const type = p?.ProjectionType ?? 'ALL'
  const nonKey = p?.NonKeyAttributes
  return nonKey && nonKey.length > 0 ? { type, nonKeyAttributes: [...nonKey].sort() } : { type }
}

function indexesOf(
  indexes:
    | {
        IndexName?: string
        KeySchema?: KeySchemaElement[]
        Projection?: Projection
        ProvisionedThroughput?: ProvisionedThroughputDescription
      }[]
    | undefined,
  provisioned: boolean
): IndexConfig[] {
  return (indexes ?? [])
    .map(ix => {
      const throughput = provisioned ? throughputOf(ix.ProvisionedThroughput) : undefined
      return {
        name: ix.IndexName ?? '',
        keys: keysOf(ix.KeySchema),
        projection: projectionOf(ix.Projection),
        ...(throughput ? { throughput } : {})
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

function attributeTypesOf(
  definitions: AttributeDefinition[] | undefined,
  keyNames: Set<string>
): Record<string, ScalarAttrType> {
  const types: Record<string, ScalarAttrType> = {}
  for (const d of definitions ?? []) {
    const name = d.AttributeName
    const type = d.AttributeType
    if (name !== undefined && keyNames.has(name) && (type === 'S' || type === 'N' || type === 'B'))
      types[name] = type
  }
  return types
}

function userTags(all: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(all).filter(([key]) => !key.startsWith('aws:')))
}

/**
 * Normalises DescribeTable plus the side calls into the shared TableConfig shape, so that compare
 * sees a live table and a template in the same form. Pure.
 *
 * - Billing mode: DynamoDB omits BillingModeSummary for tables that were always PROVISIONED.
 * - SSE: no SSEDescription, or a non-KMS one, is the AWS-owned key ({ enabled: false }), which is
 *   what a template without SSESpecification gets. moto omits SSEDescription on tables created
 *   through CloudFormation, which this reading also covers.
 * - Throughput is kept only for PROVISIONED tables (on-demand tables report 0/0).
 * - attributeTypes holds only attributes used in the table's or an index's key schema.
 */
export function toLiveTable(desc: TableDescription, extras: LiveExtras): LiveTable {
  const billingMode =
    desc.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED'
  const provisioned = billingMode === 'PROVISIONED'
  const keys = keysOf(desc.KeySchema)
  const gsis = indexesOf(desc.GlobalSecondaryIndexes, provisioned)
  const lsis = indexesOf(desc.LocalSecondaryIndexes, false)
  const keyNames = new Set(
    [...keys, ...gsis.flatMap(i => i.keys), ...lsis.flatMap(i => i.keys)].map(k => k.name)
  )

  const sseD = desc.SSEDescription
  const kms = sseD?.SSEType === 'KMS' && sseD.Status !== 'DISABLED' && sseD.Status !== 'DISABLING'
  const sse: LiveTable['sse'] = kms
    ? { enabled: true, type: 'KMS', ...(sseD.KMSMasterKeyArn ? { kmsKeyId: sseD.KMSMasterKeyArn } : {}) }
    : { enabled: false }

  const streamOn = desc.StreamSpecification?.StreamEnabled === true
  const stream: LiveTable['stream'] = streamOn
    ? {
        enabled: true,
        ...(desc.StreamSpecification?.StreamViewType
          ? { viewType: desc.StreamSpecification.StreamViewType }
          : {})
      }
    : { enabled: false }

  const throughput = provisioned ? throughputOf(desc.ProvisionedThroughput) : undefined
  const allTags = extras.tags ?? {}

  return {
    tableName: desc.TableName ?? '',
    keys,
    attributeTypes: attributeTypesOf(desc.AttributeDefinitions, keyNames),
    billingMode,
    ...(throughput ? { throughput } : {}),
    gsis,
    lsis,
    sse,
    stream,
    ttl: extras.ttl ?? { enabled: false },
    pitr: extras.pitr ?? false,
    deletionProtection: desc.DeletionProtectionEnabled === true,
    tableClass: desc.TableClassSummary?.TableClass ?? 'STANDARD',
    tags: userTags(allTags),
    arn: desc.TableArn ?? '',
    status: desc.TableStatus ?? 'UNKNOWN',
    itemCountEstimate: desc.ItemCount ?? 0,
    sizeBytesEstimate: desc.TableSizeBytes ?? 0,
    allTags,
    ...(streamOn && desc.LatestStreamArn ? { streamArn: desc.LatestStreamArn } : {})
  }
}

/**
 * Runs one side call. A throw becomes "<call> failed: …"; a null answer (the adapters' way of
 * saying the endpoint does not implement the operation) becomes `unsupported`.
 */
async function settle<T>(
  what: string,
  call: () => Promise<T | null>,
  unsupported: string,
  problems: string[]
): Promise<T | null> {
  try {
    const value = await call()
    if (value === null) problems.push(unsupported)
    return value
  } catch (err) {
    problems.push(`${what} failed: ${errorMessage(err)}`)
    return null
  }
}

/**
 * Whether the described table replicates to other regions: a version 2019.11.21 replica says so in
 * DescribeTable; a version 2017.11.29 (Legacy) one only through DescribeGlobalTable, which is asked
 * only for a table whose stream carries new and old images (legacy global tables require exactly
 * that stream, so no other table can be one). A failed DescribeGlobalTable leaves it unknown.
 */
async function readReplication(
  ddb: Sender<DynamoDBClient>,
  desc: TableDescription,
  ownRegion: string
): Promise<{ globalTable?: GlobalTableInfo; replicationUnknown?: string }> {
  const current = currentGlobalTableOf(desc, ownRegion)
  if (current) return { globalTable: current }
  const spec = desc.StreamSpecification
  if (spec?.StreamEnabled !== true || spec.StreamViewType !== 'NEW_AND_OLD_IMAGES') return {}
  try {
    const regions = await describeLegacyGlobalTableRegions(ddb, desc.TableName ?? '')
    return regions === null
      ? {}
      : { globalTable: { version: '2017.11.29', regions: [...new Set([ownRegion, ...regions])].sort() } }
  } catch (err) {
    return { replicationUnknown: `DescribeGlobalTable failed: ${errorMessage(err)}` }
  }
}

/**
 * Reads TTL, PITR, tags and replication for an already described table and normalises everything. A
 * failing side call (AccessDenied on one of them) or an operation the endpoint does not implement
 * becomes a problem and an `unreadable` entry, never a throw. `region` is the region the table was
 * described in (default: the one in its ARN).
 */
export async function readLiveTableFrom(
  ddb: Sender<DynamoDBClient>,
  desc: TableDescription,
  region?: string
): Promise<LiveReadResult> {
  const name = desc.TableName ?? ''
  const problems: string[] = []
  const ownRegion = region ?? regionOfArn(desc.TableArn) ?? ''
  const [ttl, pitr, tags, replication] = await Promise.all([
    settle(
      'DescribeTimeToLive',
      () => describeTtl(ddb, name),
      'TTL unknown: the endpoint does not implement DescribeTimeToLive',
      problems
    ),
    settle(
      'DescribeContinuousBackups',
      () => describePitr(ddb, name),
      'point-in-time recovery unknown: the endpoint does not implement DescribeContinuousBackups',
      problems
    ),
    settle('ListTagsOfResource', () => listAllTags(ddb, desc.TableArn ?? ''), '', problems),
    readReplication(ddb, desc, ownRegion)
  ])
  if (replication.replicationUnknown) problems.push(replication.replicationUnknown)
  const unreadable: Array<keyof TableConfig> = []
  if (ttl === null) unreadable.push('ttl')
  if (pitr === null) unreadable.push('pitr')
  if (tags === null) unreadable.push('tags')
  const table = { ...toLiveTable(desc, { ttl, pitr, tags }), ...replication }
  return { table: unreadable.length > 0 ? { ...table, unreadable } : table, problems }
}

/** The live table in normalised form, or null when it does not exist. */
export async function readLiveTable(
  ddb: Sender<DynamoDBClient>,
  tableName: string,
  region?: string
): Promise<LiveTable | null> {
  const desc = await describeTableOrNull(ddb, tableName)
  if (!desc) return null
  return (await readLiveTableFrom(ddb, desc, region)).table
}

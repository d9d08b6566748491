/**
 * The template's wish for a table, in the normalised TableConfig form that inspect uses for live
 * tables, so compare.ts can put the two side by side. Pure.
 *
 * CloudFormation defaults are applied (an absent BillingMode is PROVISIONED, an absent
 * SSESpecification is the AWS-owned key, ...). A value that cannot be resolved statically
 * (a Ref to a parameter, Fn::GetAtt, Fn::If, ...) is never guessed: its CloudFormation property
 * path goes into `unknown` and the field is left out of `config`, so it is not compared.
 *
 * Paths in `unknown`: a property name (`BillingMode`, `Tags`, ...) when the whole property is
 * out of reach, or `Tags.<key>`, `GlobalSecondaryIndexes.<index>`, `LocalSecondaryIndexes.<index>`,
 * `SSESpecification.KMSMasterKeyId` when only that part is.
 */
import { resolveName } from '../discover/resolve.js'
import {
  isRecord,
  type IndexConfig,
  type KeyElement,
  type ScalarAttrType,
  type TableConfig,
  type TableSpec
} from '../types.js'

export interface TemplateContext {
  stackName: string
  stage: string
  /** Deploy region: picks the GlobalTable replica and resolves AWS::Region. */
  region?: string
  /** Deploy account: resolves AWS::AccountId (e.g. in a KMS key ARN). */
  accountId?: string
}

export interface TemplateTableConfig {
  config: Partial<TableConfig>
  unknown: string[]
}

type Props = Record<string, unknown>

/** Reads template values, resolving only literals and literal-only intrinsics (see discover/resolve.ts). */
class Reader {
  readonly unknown = new Set<string>()

  constructor(readonly ctx: TemplateContext) {}

  miss(path: string): undefined {
    this.unknown.add(path)
    return undefined
  }

  /** A string: a literal as it is (CloudFormation does no substitution in literals), or a resolvable intrinsic. */
  str(value: unknown): string | undefined {
    if (typeof value === 'string') return value
    if (typeof value === 'number' && Number.isFinite(value)) return String(value)
    if (!isRecord(value)) return undefined
    const result = resolveName(value, this.ctx)
    return 'name' in result ? result.name : undefined
  }

  num(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
    const text = this.str(value)
    if (text === undefined || !/^\d+$/.test(text.trim())) return undefined
    return Number(text)
  }

  /** CloudFormation accepts booleans and the strings "true"/"false". */
  bool(value: unknown): boolean | undefined {
    if (typeof value === 'boolean') return value
    const text = this.str(value)?.trim().toLowerCase()
    if (text === 'true') return true
    if (text === 'false') return false
    return undefined
  }

  /** A list whose entries are objects; undefined when the list itself is an unresolvable intrinsic. */
  list(value: unknown): Props[] | undefined {
    if (!Array.isArray(value) || !value.every(isRecord)) return undefined
    return value
  }
}

const ATTR_TYPES: readonly string[] = ['S', 'N', 'B']

function readKeys(r: Reader, value: unknown): KeyElement[] | undefined {
  const entries = r.list(value)
  if (!entries || entries.length === 0) return undefined
  const keys: KeyElement[] = []
  for (const entry of entries) {
    const name = r.str(entry.AttributeName)
    const type = r.str(entry.KeyType)
    if (name === undefined || (type !== 'HASH' && type !== 'RANGE')) return undefined
    keys.push({ name, type })
  }
  // HASH first, as DynamoDB describes it.
  return keys.sort((a, b) => (a.type === b.type ? 0 : a.type === 'HASH' ? -1 : 1))
}

function readProjection(r: Reader, value: unknown): IndexConfig['projection'] | undefined {
  if (!isRecord(value)) return undefined
  // An absent ProjectionType is left unknown rather than assumed.
  const type = r.str(value.ProjectionType)
  if (type === undefined) return undefined
  if (value.NonKeyAttributes === undefined) return { type }
  if (!Array.isArray(value.NonKeyAttributes)) return undefined
  const nonKey: string[] = []
  for (const attr of value.NonKeyAttributes) {
    const name = r.str(attr)
    if (name === undefined) return undefined
    nonKey.push(name)
  }
  return { type, nonKeyAttributes: nonKey.sort() }
}

function readThroughput(r: Reader, value: unknown): { read: number; write: number } | undefined {
  if (!isRecord(value)) return undefined
  const read = r.num(value.ReadCapacityUnits)
  const write = r.num(value.WriteCapacityUnits)
  return read === undefined || write === undefined ? undefined : { read, write }
}

/**
 * Index lists. An index whose name is unresolvable makes the whole list unknown (we could not tell
 * which index it is); an index with another unresolvable part is left out and listed as `<prop>.<name>`,
 * so compare still knows the index exists (it counts for "one GSI per update").
 */
function readIndexes(
  r: Reader,
  prop: 'GlobalSecondaryIndexes' | 'LocalSecondaryIndexes',
  value: unknown,
  withThroughput: boolean
): IndexConfig[] | undefined {
  if (value === undefined) return []
  const entries = r.list(value)
  if (!entries) return r.miss(prop)
  const names = entries.map(e => r.str(e.IndexName))
  if (names.some(n => n === undefined)) return r.miss(prop)
  const indexes: IndexConfig[] = []
  entries.forEach((entry, i) => {
    const name = names[i] as string
    const keys = readKeys(r, entry.KeySchema)
    const projection = readProjection(r, entry.Projection)
    if (!keys || !projection) {
      r.miss(`${prop}.${name}`)
      return
    }
    const index: IndexConfig = { name, keys, projection }
    if (withThroughput && entry.ProvisionedThroughput !== undefined) {
      const throughput = readThroughput(r, entry.ProvisionedThroughput)
      if (!throughput) {
        r.miss(`${prop}.${name}`)
        return
      }
      index.throughput = throughput
    }
    indexes.push(index)
  })
  return indexes.sort((a, b) => a.name.localeCompare(b.name))
}

/** Types of the attributes used in any key schema (table and indexes), from AttributeDefinitions. */
function readAttributeTypes(
  r: Reader,
  value: unknown,
  keyNames: Set<string>
): Record<string, ScalarAttrType> | undefined {
  const entries = r.list(value)
  if (!entries) return r.miss('AttributeDefinitions')
  const types: Record<string, ScalarAttrType> = {}
  for (const entry of entries) {
    const name = r.str(entry.AttributeName)
    const type = r.str(entry.AttributeType)
    if (name === undefined || type === undefined || !ATTR_TYPES.includes(type)) {
      return r.miss('AttributeDefinitions')
    }
    if (keyNames.has(name)) types[name] = type as ScalarAttrType
  }
  return types
}

function readSse(r: Reader, value: unknown, kmsKey: unknown): TableConfig['sse'] | undefined {
  if (value === undefined) return { enabled: false }
  if (!isRecord(value)) return r.miss('SSESpecification')
  const enabled = value.SSEEnabled === undefined ? false : r.bool(value.SSEEnabled)
  if (enabled === undefined) return r.miss('SSESpecification')
  // SSEEnabled false (or absent) means the AWS-owned key, whatever else is written.
  if (!enabled) return { enabled: false }
  const type = value.SSEType === undefined ? 'KMS' : r.str(value.SSEType)
  if (type === undefined) return r.miss('SSESpecification')
  const sse: TableConfig['sse'] = { enabled: true, type }
  if (kmsKey !== undefined) {
    const id = r.str(kmsKey)
    if (id === undefined) r.miss('SSESpecification.KMSMasterKeyId')
    else sse.kmsKeyId = id
  }
  return sse
}

function readStream(r: Reader, value: unknown): TableConfig['stream'] | undefined {
  if (value === undefined) return { enabled: false }
  if (!isRecord(value)) return r.miss('StreamSpecification')
  const viewType = r.str(value.StreamViewType)
  return viewType === undefined ? r.miss('StreamSpecification') : { enabled: true, viewType }
}

function readTtl(r: Reader, value: unknown): TableConfig['ttl'] | undefined {
  if (value === undefined) return { enabled: false }
  if (!isRecord(value)) return r.miss('TimeToLiveSpecification')
  const enabled = r.bool(value.Enabled)
  if (enabled === undefined) return r.miss('TimeToLiveSpecification')
  if (value.AttributeName === undefined) return { enabled }
  const attributeName = r.str(value.AttributeName)
  return attributeName === undefined ? r.miss('TimeToLiveSpecification') : { enabled, attributeName }
}

function readPitr(r: Reader, value: unknown): boolean | undefined {
  if (value === undefined) return false
  if (!isRecord(value)) return r.miss('PointInTimeRecoverySpecification')
  if (value.PointInTimeRecoveryEnabled === undefined) return false
  return r.bool(value.PointInTimeRecoveryEnabled) ?? r.miss('PointInTimeRecoverySpecification')
}

function readFlag(r: Reader, prop: string, value: unknown): boolean | undefined {
  if (value === undefined) return false
  return r.bool(value) ?? r.miss(prop)
}

function readTableClass(r: Reader, value: unknown): string | undefined {
  if (value === undefined) return 'STANDARD'
  return r.str(value) ?? r.miss('TableClass')
}

/** User tags; aws:* keys are reserved (a template cannot set them) and skipped. */
function readTags(r: Reader, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {}
  const entries = r.list(value)
  if (!entries) return r.miss('Tags')
  const tags: Record<string, string> = {}
  for (const entry of entries) {
    const key = r.str(entry.Key)
    if (key === undefined) return r.miss('Tags')
    if (key.startsWith('aws:')) continue
    const tagValue = r.str(entry.Value)
    if (tagValue === undefined) r.miss(`Tags.${key}`)
    else tags[key] = tagValue
  }
  return tags
}

/** Sets `config[field]` when the value is known (an unknown value was already recorded by the reader). */
function put<K extends keyof TableConfig>(
  config: Partial<TableConfig>,
  field: K,
  value: TableConfig[K] | undefined
) {
  if (value !== undefined) config[field] = value
}

/** The GlobalTable replica for the deploy region, or the first one. */
function pickReplica(r: Reader, value: unknown): Props | undefined {
  const replicas = r.list(value)
  if (!replicas || replicas.length === 0) return undefined
  const region = r.ctx.region
  return (
    (region !== undefined ? replicas.find(rep => r.str(rep.Region) === region) : undefined) ?? replicas[0]
  )
}

/**
 * The template's configuration of a table. A spec without template properties (tables-only mode)
 * gives an empty config: there is nothing to compare.
 */
export function templateTableConfig(spec: TableSpec, ctx: TemplateContext): TemplateTableConfig {
  const props = spec.properties
  if (props === null) return { config: {}, unknown: [] }
  const r = new Reader(ctx)
  const config: Partial<TableConfig> = {}
  const global = spec.resourceType === 'AWS::DynamoDB::GlobalTable'

  put(config, 'tableName', spec.tableName ?? r.str(props.TableName) ?? r.miss('TableName'))

  const keys = readKeys(r, props.KeySchema) ?? r.miss('KeySchema')
  put(config, 'keys', keys)

  const billing = props.BillingMode === undefined ? 'PROVISIONED' : r.str(props.BillingMode)
  if (billing === 'PROVISIONED' || billing === 'PAY_PER_REQUEST') config.billingMode = billing
  else r.miss('BillingMode')

  // A GlobalTable's capacity is auto-scaled (Write/ReadProvisionedThroughputSettings) and has no fixed
  // value to compare, so only AWS::DynamoDB::Table carries throughput.
  const provisioned = !global && billing === 'PROVISIONED'
  if (provisioned) {
    const throughput = readThroughput(r, props.ProvisionedThroughput)
    if (throughput) config.throughput = throughput
    else if (props.ProvisionedThroughput !== undefined) r.miss('ProvisionedThroughput')
  }

  const gsis = readIndexes(r, 'GlobalSecondaryIndexes', props.GlobalSecondaryIndexes, provisioned)
  const lsis = readIndexes(r, 'LocalSecondaryIndexes', props.LocalSecondaryIndexes, false)
  put(config, 'gsis', gsis)
  put(config, 'lsis', lsis)

  // Key attribute names from every key schema we could read, including those of indexes left out.
  const keyNames = new Set<string>()
  for (const k of keys ?? []) keyNames.add(k.name)
  for (const list of [props.GlobalSecondaryIndexes, props.LocalSecondaryIndexes]) {
    for (const entry of r.list(list) ?? []) {
      for (const k of readKeys(r, entry.KeySchema) ?? []) keyNames.add(k.name)
    }
  }
  put(config, 'attributeTypes', readAttributeTypes(r, props.AttributeDefinitions, keyNames))

  put(config, 'stream', readStream(r, props.StreamSpecification))
  put(config, 'ttl', readTtl(r, props.TimeToLiveSpecification))

  // Per-table settings: top level for a Table, under the region's replica for a GlobalTable.
  const local = global ? (pickReplica(r, props.Replicas) ?? r.miss('Replicas')) : props
  const kmsKey = isRecord(local?.SSESpecification) ? local.SSESpecification.KMSMasterKeyId : undefined
  put(config, 'sse', readSse(r, props.SSESpecification, kmsKey))
  if (local) {
    put(config, 'pitr', readPitr(r, local.PointInTimeRecoverySpecification))
    put(
      config,
      'deletionProtection',
      readFlag(r, 'DeletionProtectionEnabled', local.DeletionProtectionEnabled)
    )
    put(config, 'tableClass', readTableClass(r, local.TableClass))
    put(config, 'tags', readTags(r, local.Tags))
  }

  return { config, unknown: [...r.unknown].sort() }
}

/**
 * The table the template defines, as DynamoDB ImportTable can create it: the server-side path of
 * backup-restore (execute/server-side.ts) creates the new table with ImportTable from the export in
 * S3 and imports it into its stack, so the deploy only converges what ImportTable cannot set (TTL,
 * stream, point-in-time recovery, tags, deletion protection, table class). Pure.
 *
 * ImportTable's TableCreationParameters hold the table name, key schema, attribute definitions,
 * billing mode and provisioned throughput, global secondary indexes and SSE, and nothing else
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableCreationParameters.html).
 * So a table with a local secondary index cannot be created by it (an LSI can only be defined when a
 * table is created), and neither can one whose values are only known at deploy time: each such
 * reason is one sentence in `cannot`.
 */
import type {
  ImportTableAssessment,
  ImportTableSpec,
  ScalarAttrType,
  TableConfig,
  TableSpec
} from '../types.js'
import { templateTableConfig, type TemplateContext } from './template-config.js'

/** Template properties ImportTable needs to know exactly (an unknown one names the property, or `<property>.<part>`). */
const NEEDED = [
  'TableName',
  'KeySchema',
  'AttributeDefinitions',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'SSESpecification',
  'Replicas'
]

function isNeeded(path: string): boolean {
  return NEEDED.includes(path.split('.')[0] ?? path)
}

/** Why the template's global table cannot be created by ImportTable in `region` (null when it can). */
function replicaReason(spec: TableSpec, region: string): string | null {
  if (spec.resourceType !== 'AWS::DynamoDB::GlobalTable') return null
  if (spec.replicaRegionsUnresolved)
    return `its replica regions cannot be resolved (${spec.replicaRegionsUnresolved})`
  const replicas = spec.replicaRegions ?? []
  if (replicas.length === 1 && replicas[0] === region) return null
  return `the template's global table has replicas in ${replicas.join(', ') || 'no region'}, and ImportTable creates a single-region table in ${region}`
}

function missingTypes(keys: string[], types: Record<string, ScalarAttrType>): string[] {
  return keys.filter(k => types[k] === undefined)
}

/**
 * ImportTable's view of the template's table. Undefined when no template describes the table
 * statically (nothing to create it from).
 */
export function assessImportTable(
  spec: TableSpec,
  ctx: TemplateContext & { region: string }
): ImportTableAssessment | undefined {
  if (spec.properties === null) return undefined
  const { config, unknown } = templateTableConfig(spec, ctx)
  const cannot: string[] = []
  const streamEnabled = config.stream?.enabled === true
  const lsis = config.lsis ?? []
  if (lsis.length > 0) {
    cannot.push(
      `the template declares the local secondary index${lsis.length > 1 ? 'es' : ''} ${lsis.map(i => i.name).join(', ')}, and ImportTable cannot create a local secondary index (one can only be defined when a table is created, and ImportTable's table parameters have none)`
    )
  }
  const unresolved = unknown.filter(isNeeded)
  if (unresolved.length > 0) {
    cannot.push(
      `the template's ${unresolved.join(', ')} ${unresolved.length > 1 ? 'are' : 'is'} only known at deploy time, and ImportTable needs ${unresolved.length > 1 ? 'them' : 'it'} before`
    )
  }
  const replicas = replicaReason(spec, ctx.region)
  if (replicas) cannot.push(replicas)
  const global = spec.resourceType === 'AWS::DynamoDB::GlobalTable'
  if (global && config.billingMode === 'PROVISIONED') {
    cannot.push(
      "the template's global table uses provisioned capacity, which it states as write auto scaling settings that ImportTable cannot take"
    )
  }

  const types = config.attributeTypes ?? {}
  const keyNames = [
    ...(config.keys ?? []).map(k => k.name),
    ...(config.gsis ?? []).flatMap(g => g.keys.map(k => k.name))
  ]
  const untyped = missingTypes([...new Set(keyNames)], types)
  if (untyped.length > 0 && !unknown.includes('AttributeDefinitions')) {
    cannot.push(`the template's AttributeDefinitions do not give the type of ${untyped.join(', ')}`)
  }
  const provisioned = config.billingMode === 'PROVISIONED'
  if (
    provisioned &&
    !global &&
    config.throughput === undefined &&
    !unknown.includes('ProvisionedThroughput')
  ) {
    cannot.push("the template's table is PROVISIONED without a ProvisionedThroughput")
  }
  const noThroughput = provisioned && !global ? (config.gsis ?? []).filter(g => !g.throughput) : []
  if (noThroughput.length > 0) {
    cannot.push(
      `the template's PROVISIONED table has global secondary indexes without a ProvisionedThroughput (${noThroughput.map(g => g.name).join(', ')})`
    )
  }

  const assessment = {
    cannot,
    streamEnabled,
    ...(provisioned && config.throughput ? { provisionedWrite: config.throughput.write } : {})
  }
  if (cannot.length > 0 || !config.tableName || !config.keys || !config.billingMode || !config.sse) {
    if (cannot.length === 0) cannot.push("the template's table could not be read completely")
    return { spec: null, ...assessment }
  }
  const used = new Set(keyNames)
  const creation: ImportTableSpec = {
    tableName: config.tableName,
    keys: config.keys.map(k => ({ ...k, attributeType: types[k.name] as ScalarAttrType })),
    attributeTypes: Object.fromEntries(Object.entries(types).filter(([name]) => used.has(name))),
    billingMode: config.billingMode,
    ...(provisioned && config.throughput ? { throughput: config.throughput } : {}),
    gsis: (config.gsis ?? []).map(g => (provisioned ? g : withoutThroughput(g))),
    sse: config.sse
  }
  return { spec: creation, ...assessment }
}

function withoutThroughput(index: TableConfig['gsis'][number]): TableConfig['gsis'][number] {
  const { throughput: _unused, ...rest } = index
  return rest
}

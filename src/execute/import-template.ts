/**
 * The CloudFormation IMPORT template, built without I/O.
 *
 * Rules (AWS CloudFormation user guide, "Import AWS resources into a CloudFormation stack"):
 * - the template describes the whole stack: the DEPLOYED template (GetTemplate, Original) unchanged plus only the
 *   tables being imported; nothing else may change in an import;
 * - every imported resource carries a DeletionPolicy;
 * - a stack created by an IMPORT change set holds only imported resources;
 * - the imported table is written with its LIVE configuration (CloudFormation records whatever the template says, so
 *   writing the desired configuration would hide the drift from the following deploy forever);
 * - `aws:*` tag keys are reserved and ImportSourceSpecification is create-only: neither may appear.
 */
import type {
  CfnResource,
  CfnTemplate,
  IndexConfig,
  KeyElement,
  LiveTable,
  TableResourceType
} from '../types.js'

/** CloudFormation quota: resources per stack template. */
export const MAX_RESOURCES_PER_STACK = 500
export const TABLE_RESOURCE_TYPE = 'AWS::DynamoDB::Table'
export const GLOBAL_TABLE_RESOURCE_TYPE = 'AWS::DynamoDB::GlobalTable'

/** Both resource types are identified by TableName (the GlobalTable schema's primaryIdentifier). */
export interface ResourceToImport {
  ResourceType: TableResourceType
  LogicalResourceId: string
  ResourceIdentifier: { TableName: string }
}

export interface TableToImport {
  /** Synthesized logical id, CDK hash suffix included. */
  logicalId: string
  live: LiveTable
  /** The synthesized template's policies; Retain is used when absent. */
  deletionPolicy: string | null
  updateReplacePolicy: string | null
  /** The template's resource type (default AWS::DynamoDB::Table). */
  resourceType?: TableResourceType
  /** A GlobalTable's region: the one `live` was described in. */
  region?: string
  /** A GlobalTable's replica regions in the template's order (the import lists them in this order). */
  replicaRegions?: string[]
}

export interface ImportTemplate {
  template: CfnTemplate
  resourcesToImport: ResourceToImport[]
  /** The exact TemplateBody sent: compact JSON with sorted keys (same input → same bytes). */
  body: string
}

/** The import cannot be built as asked (too large, logical id taken, …): a refusal to report, not a crash. */
export class ImportRefusal extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ImportRefusal'
  }
}

const RESERVED_TAG_PREFIX = 'aws:'

function keySchema(keys: KeyElement[]): { AttributeName: string; KeyType: string }[] {
  return keys.map(k => ({ AttributeName: k.name, KeyType: k.type }))
}

function projection(index: IndexConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ProjectionType: index.projection.type }
  const nonKey = index.projection.nonKeyAttributes
  if (nonKey && nonKey.length > 0) out.NonKeyAttributes = [...nonKey]
  return out
}

function throughput(t: { read: number; write: number }): Record<string, number> {
  return { ReadCapacityUnits: t.read, WriteCapacityUnits: t.write }
}

/**
 * The live table as AWS::DynamoDB::Table properties.
 * @throws ImportRefusal when the live description lacks what CloudFormation requires (a key attribute type,
 *   provisioned capacity of a PROVISIONED table or GSI).
 */
export function liveTableProperties(live: LiveTable): Record<string, unknown> {
  const provisioned = live.billingMode === 'PROVISIONED'
  const table = live.tableName

  // AttributeDefinitions: exactly the attributes used by a key schema, in order of first use.
  const used: string[] = []
  for (const key of [...live.keys, ...live.gsis.flatMap(i => i.keys), ...live.lsis.flatMap(i => i.keys)]) {
    if (!used.includes(key.name)) used.push(key.name)
  }
  const attributeDefinitions = used.map(name => {
    const type = live.attributeTypes[name]
    if (!type)
      throw new ImportRefusal(
        `table ${table}: the type of key attribute '${name}' is unknown, cannot write AttributeDefinitions`
      )
    return { AttributeName: name, AttributeType: type }
  })

  const props: Record<string, unknown> = {
    TableName: table,
    KeySchema: keySchema(live.keys),
    AttributeDefinitions: attributeDefinitions,
    BillingMode: live.billingMode
  }
  if (provisioned) {
    if (!live.throughput)
      throw new ImportRefusal(`table ${table}: PROVISIONED without provisioned throughput in its description`)
    props.ProvisionedThroughput = throughput(live.throughput)
  }
  if (live.gsis.length > 0) {
    props.GlobalSecondaryIndexes = live.gsis.map(gsi => {
      const out: Record<string, unknown> = {
        IndexName: gsi.name,
        KeySchema: keySchema(gsi.keys),
        Projection: projection(gsi)
      }
      if (provisioned) {
        if (!gsi.throughput)
          throw new ImportRefusal(
            `table ${table}: index ${gsi.name} of a PROVISIONED table has no provisioned throughput`
          )
        out.ProvisionedThroughput = throughput(gsi.throughput)
      }
      return out
    })
  }
  if (live.lsis.length > 0) {
    props.LocalSecondaryIndexes = live.lsis.map(lsi => ({
      IndexName: lsi.name,
      KeySchema: keySchema(lsi.keys),
      Projection: projection(lsi)
    }))
  }

  const sse: Record<string, unknown> = { SSEEnabled: live.sse.enabled }
  if (live.sse.enabled) {
    // CloudFormation accepts only 'KMS' as SSEType; DescribeTable may report the legacy 'AES256' (= AWS owned key).
    if (live.sse.type === 'KMS') sse.SSEType = 'KMS'
    if (live.sse.kmsKeyId) sse.KMSMasterKeyId = live.sse.kmsKeyId
  }
  props.SSESpecification = sse

  // StreamViewType is required in StreamSpecification: a table without a stream has no StreamSpecification.
  if (live.stream.enabled && live.stream.viewType)
    props.StreamSpecification = { StreamViewType: live.stream.viewType }
  if (live.ttl.enabled && live.ttl.attributeName) {
    props.TimeToLiveSpecification = { AttributeName: live.ttl.attributeName, Enabled: true }
  }
  props.PointInTimeRecoverySpecification = { PointInTimeRecoveryEnabled: live.pitr }
  props.DeletionProtectionEnabled = live.deletionProtection
  if (live.tableClass) props.TableClass = live.tableClass

  // live.tags already excludes aws:* keys; filter again because a template that sets one is rejected.
  const tags = Object.entries(live.tags)
    .filter(([key]) => !key.toLowerCase().startsWith(RESERVED_TAG_PREFIX))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([Key, Value]) => ({ Key, Value }))
  if (tags.length > 0) props.Tags = tags
  return props
}

/** The settings each replica of a GlobalTable states for itself, from that replica's live table. */
function replicaSpecification(region: string, replica: LiveTable): Record<string, unknown> {
  const table = liveTableProperties(replica)
  const spec: Record<string, unknown> = {
    Region: region,
    PointInTimeRecoverySpecification: table.PointInTimeRecoverySpecification,
    DeletionProtectionEnabled: table.DeletionProtectionEnabled
  }
  if (table.TableClass !== undefined) spec.TableClass = table.TableClass
  if (table.Tags !== undefined) spec.Tags = table.Tags
  if (replica.sse.enabled && replica.sse.kmsKeyId)
    spec.SSESpecification = { KMSMasterKeyId: replica.sse.kmsKeyId }
  return spec
}

/**
 * The live global table (version 2019.11.21, on-demand) as AWS::DynamoDB::GlobalTable properties:
 * the table-wide settings from the replica in `region`, and one ReplicaSpecification per replica
 * region from that replica's own live settings, in `order` (the template's).
 * @throws ImportRefusal when it is a legacy or provisioned global table, a replica was not read, or
 *   the template's replica regions are not exactly the live ones.
 */
export function liveGlobalTableProperties(
  live: LiveTable,
  region: string,
  order: readonly string[]
): Record<string, unknown> {
  const table = live.tableName
  const global = live.globalTable ?? { version: '2019.11.21', regions: [region], replicas: {} }
  if (global.version !== '2019.11.21') {
    throw new ImportRefusal(
      `table ${table} is a version ${global.version} global table; AWS::DynamoDB::GlobalTable holds version 2019.11.21 tables only`
    )
  }
  if (live.billingMode !== 'PAY_PER_REQUEST') {
    throw new ImportRefusal(
      `table ${table} is a PROVISIONED global table: its write auto scaling settings are not read, so it cannot be imported here`
    )
  }
  const want = [...new Set(order)].sort()
  if (want.join() !== [...global.regions].sort().join()) {
    throw new ImportRefusal(
      `table ${table}: the template's replica regions (${want.join(', ')}) are not its live ones (${global.regions.join(', ')})`
    )
  }
  const base = liveTableProperties(live)
  const props: Record<string, unknown> = {
    TableName: base.TableName,
    KeySchema: base.KeySchema,
    AttributeDefinitions: base.AttributeDefinitions,
    BillingMode: base.BillingMode
  }
  for (const key of [
    'GlobalSecondaryIndexes',
    'LocalSecondaryIndexes',
    'StreamSpecification',
    'TimeToLiveSpecification'
  ]) {
    if (base[key] !== undefined) props[key] = base[key]
  }
  props.SSESpecification = live.sse.enabled ? { SSEEnabled: true, SSEType: 'KMS' } : { SSEEnabled: false }
  props.Replicas = [...new Set(order)].map(r => {
    const replica = r === region ? live : global.replicas?.[r]
    if (!replica) {
      throw new ImportRefusal(
        `table ${table}: the replica in ${r} could not be read, and the import template must state its settings`
      )
    }
    return replicaSpecification(r, replica)
  })
  return props
}

/** JSON with object keys sorted at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k]
    return sorted
  })
}

/**
 * The IMPORT change set's template and ResourcesToImport.
 * - existing stack: `deployedTemplate` unchanged plus the tables;
 * - new stack (`deployedTemplate` null, also a REVIEW_IN_PROGRESS stack, which has no resources): only the tables.
 * @throws ImportRefusal when a logical id or table name is already in the deployed
 *   template or given twice, or the stack would exceed 500 resources.
 */
export function buildImportTemplate(input: {
  deployedTemplate: CfnTemplate | null
  tables: TableToImport[]
}): ImportTemplate {
  if (input.tables.length === 0) throw new ImportRefusal('no tables to import')
  const deployed = input.deployedTemplate
  // structuredClone: the deployed template must come out byte-for-byte the same, never mutated by us.
  const template: CfnTemplate = deployed
    ? structuredClone(deployed)
    : { AWSTemplateFormatVersion: '2010-09-09' }
  const resources: Record<string, CfnResource> = { ...(template.Resources ?? {}) }
  const deployedTableNames = new Map<string, string>()
  for (const [id, resource] of Object.entries(resources)) {
    const name = resource.Properties?.TableName
    if (typeof name === 'string') deployedTableNames.set(name, id)
  }

  const resourcesToImport: ResourceToImport[] = []
  const seenNames = new Set<string>()
  for (const table of input.tables) {
    const name = table.live.tableName
    if (Object.hasOwn(resources, table.logicalId)) {
      throw new ImportRefusal(
        deployed && Object.hasOwn(deployed.Resources ?? {}, table.logicalId)
          ? `logical id ${table.logicalId} (table ${name}) is already a resource of the deployed stack; an import may not change it`
          : `logical id ${table.logicalId} is given for more than one table`
      )
    }
    if (seenNames.has(name)) throw new ImportRefusal(`table ${name} is given twice`)
    const existing = deployedTableNames.get(name)
    if (existing)
      throw new ImportRefusal(`table ${name} is already declared in the deployed stack as ${existing}`)
    seenNames.add(name)

    const type = table.resourceType ?? TABLE_RESOURCE_TYPE
    const resource: CfnResource = {
      Type: type,
      Properties:
        type === GLOBAL_TABLE_RESOURCE_TYPE
          ? liveGlobalTableProperties(
              table.live,
              table.region ?? '',
              table.replicaRegions ?? table.live.globalTable?.regions ?? [table.region ?? '']
            )
          : liveTableProperties(table.live),
      DeletionPolicy: table.deletionPolicy ?? 'Retain',
      UpdateReplacePolicy: table.updateReplacePolicy ?? 'Retain'
    }
    resources[table.logicalId] = resource
    resourcesToImport.push({
      ResourceType: type,
      LogicalResourceId: table.logicalId,
      ResourceIdentifier: { TableName: name }
    })
  }
  template.Resources = resources

  const count = Object.keys(resources).length
  if (count > MAX_RESOURCES_PER_STACK) {
    throw new ImportRefusal(
      `the import template would hold ${count} resources; CloudFormation allows ${MAX_RESOURCES_PER_STACK} per stack`
    )
  }
  // Its size decides where it goes (inline, or an S3 object passed as TemplateURL): template-store.ts.
  const body = canonicalJson(template)
  return { template, resourcesToImport, body }
}

const CAPABILITY_ORDER = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'] as const
export type ImportCapability = (typeof CAPABILITY_ORDER)[number]

/** IAM resource types whose name property makes them "named" (CAPABILITY_NAMED_IAM). */
const IAM_NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName'
}

function containsKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some(v => containsKey(v, key))
  if (value === null || typeof value !== 'object') return false
  return Object.entries(value).some(([k, v]) => k === key || containsKey(v, key))
}

/**
 * The capabilities CloudFormation demands for this template: IAM resources → CAPABILITY_IAM, named ones → also
 * CAPABILITY_NAMED_IAM; a Transform (macro, SAM) → CAPABILITY_AUTO_EXPAND. Nested stacks may hold IAM resources we
 * cannot see, so they ask for all three.
 */
export function requiredCapabilities(template: CfnTemplate): ImportCapability[] {
  const needed = new Set<ImportCapability>()
  if (template.Transform !== undefined || containsKey(template.Resources, 'Fn::Transform'))
    needed.add('CAPABILITY_AUTO_EXPAND')
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type === 'AWS::CloudFormation::Stack') {
      CAPABILITY_ORDER.forEach(c => needed.add(c))
    } else if (resource.Type.startsWith('AWS::Serverless::')) {
      needed.add('CAPABILITY_AUTO_EXPAND')
    } else if (resource.Type.startsWith('AWS::IAM::')) {
      needed.add('CAPABILITY_IAM')
      const nameProperty = IAM_NAME_PROPERTIES[resource.Type]
      if (nameProperty && resource.Properties?.[nameProperty] !== undefined)
        needed.add('CAPABILITY_NAMED_IAM')
    }
  }
  return CAPABILITY_ORDER.filter(c => needed.has(c))
}

/** Every parameter of the deployed template keeps its previous value (a changed value would be a forbidden change). */
export function previousParameters(
  template: CfnTemplate | null
): { ParameterKey: string; UsePreviousValue: true }[] {
  return Object.keys(template?.Parameters ?? {})
    .sort()
    .map(ParameterKey => ({ ParameterKey, UsePreviousValue: true as const }))
}

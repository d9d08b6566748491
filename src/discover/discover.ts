/**
 * discover: finds the named DynamoDB tables a deploy will create, from a CDK cloud assembly or a single
 * CloudFormation template. Pure apart from reading files.
 */
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { InputError } from '../errors.js'
import {
  isRecord,
  type CfnResource,
  type Discovery,
  type StackSpec,
  type TableResourceType,
  type TableSpec
} from '../types.js'
import { readCloudAssembly, readNestedStacks } from './cloud-assembly.js'
import { resolveName, type ResolveContext } from './resolve.js'
import { readErrorMessage, readTemplateFile } from './template.js'

export interface DiscoverOptions {
  /** Absolute path: a cloud assembly directory (with manifest.json) or a single template file. */
  template: string
  stage: string
  /** Stack a single template file is deployed as (required then; ignored for a cloud assembly). */
  stackName: string | null
  /** Restrict to these table names; empty = every named table discovered. */
  tables: string[]
  /** The action's region: environment-agnostic stacks and single templates are deployed there (`AWS::Region`, `AWS::Partition`, `AWS::URLSuffix`). */
  region?: string
  /** The credentials' account: environment-agnostic stacks are deployed there (`AWS::AccountId`). */
  account?: string
  /** Why `account` is not known (the credentials' account could not be read), for unresolved names. */
  accountUnknown?: string
}

/** Where a stack deploys to, for name resolution: its pinned environment, else the run's. */
export interface TableEnvironment {
  region?: string
  account?: string
  accountUnknown?: string
}

/** The stacks a deploy creates, read from files (no name resolved yet). */
export interface Deployment {
  source: Discovery['source']
  stacks: StackSpec[]
  notes: string[]
  warnings: string[]
  /** Names from the `tables` input when there is no template (source 'tables'). */
  tablesOnly?: string[]
}

export const TABLE_RESOURCE_TYPES: readonly TableResourceType[] = [
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable'
]

function isTableType(type: string): type is TableResourceType {
  return (TABLE_RESOURCE_TYPES as readonly string[]).includes(type)
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

function stackLabel(stack: StackSpec): string {
  return [stack.name, ...stack.nestedPath].join('/')
}

/** A table known only from the `tables` input: existence, ownership and data can be checked, not configuration. */
export function tableFromInput(
  tableName: string,
  notDeclared: NonNullable<TableSpec['notDeclared']>,
  region?: string
): TableSpec {
  return {
    ...(region ? { region } : {}),
    tableName,
    stack: null,
    logicalId: null,
    resourceType: 'AWS::DynamoDB::Table',
    nestedPath: [],
    deletionPolicy: null,
    updateReplacePolicy: null,
    properties: null,
    templateFile: null,
    notDeclared
  }
}

/** The region and account a stack deploys to: its CDK environment where pinned, else the run's. */
export function stackEnvironment(stack: StackSpec, run: TableEnvironment): TableEnvironment {
  const region = stack.region ?? run.region
  const account = stack.account ?? run.account
  return {
    ...(region ? { region } : {}),
    ...(account ? { account } : {}),
    ...(!account && run.accountUnknown ? { accountUnknown: run.accountUnknown } : {})
  }
}

/** The regions of a GlobalTable's `Replicas`, each resolved, in the template's order. */
function replicaRegions(
  replicas: unknown,
  ctx: ResolveContext
): { replicaRegions: string[] } | { replicaRegionsUnresolved: string } {
  if (!Array.isArray(replicas) || replicas.length === 0) {
    return {
      replicaRegionsUnresolved: `Replicas is ${JSON.stringify(replicas) ?? 'missing'}, not a list of replicas`
    }
  }
  const regions: string[] = []
  for (const [index, replica] of replicas.entries()) {
    const region = resolveName(isRecord(replica) ? replica.Region : undefined, ctx)
    if ('unresolved' in region)
      return { replicaRegionsUnresolved: `Replicas[${index}].Region: ${region.unresolved}` }
    regions.push(region.name)
  }
  return { replicaRegions: regions }
}

const compactBytes = new WeakMap<object, number>()

/** A template's size as compact JSON, once per template object. */
function templateBytes(stack: StackSpec): number {
  let bytes = compactBytes.get(stack.template)
  if (bytes === undefined) {
    bytes = Buffer.byteLength(JSON.stringify(stack.template), 'utf8')
    compactBytes.set(stack.template, bytes)
  }
  return bytes
}

function tableSpec(
  stack: StackSpec,
  logicalId: string,
  resource: CfnResource,
  stage: string,
  run: TableEnvironment
): TableSpec {
  const properties = resource.Properties ?? {}
  const env = stackEnvironment(stack, run)
  const ctx: ResolveContext = {
    // Inside a nested stack AWS::StackName is the generated nested stack name, unknowable before deploy.
    stackName: stack.nestedPath.length === 0 ? stack.name : null,
    stage,
    ...(env.region ? { region: env.region } : {}),
    ...(env.account ? { accountId: env.account } : {}),
    ...(env.accountUnknown ? { accountUnknown: env.accountUnknown } : {})
  }
  const resolved = resolveName(properties.TableName, ctx)
  return {
    tableName: 'name' in resolved ? resolved.name : null,
    ...('unresolved' in resolved
      ? {
          unresolvedReason: resolved.unresolved,
          unresolvedExpression: JSON.stringify(properties.TableName) ?? String(properties.TableName)
        }
      : {}),
    stack: stack.name,
    logicalId,
    resourceType: resource.Type as TableResourceType,
    nestedPath: [...stack.nestedPath],
    deletionPolicy: typeof resource.DeletionPolicy === 'string' ? resource.DeletionPolicy : null,
    updateReplacePolicy:
      typeof resource.UpdateReplacePolicy === 'string' ? resource.UpdateReplacePolicy : null,
    properties,
    templateFile: stack.templateFile,
    ...(env.region ? { region: env.region } : {}),
    ...(stack.account ? { account: stack.account } : {}),
    ...(resource.Type === 'AWS::DynamoDB::GlobalTable' ? replicaRegions(properties.Replicas, ctx) : {}),
    ...(stack.nestedPath.length === 0 ? { stackTemplateBytes: templateBytes(stack) } : {}),
    ...(stack.assetsBucket ? { assetsBucket: stack.assetsBucket } : {})
  }
}

/**
 * Every named table resource of the stacks; unnamed ones are counted in a note (their generated names
 * cannot collide). Names that cannot be resolved, and names claimed twice, are warnings: the check
 * cannot be right about them.
 */
export function collectTables(
  stacks: StackSpec[],
  stage: string,
  run: TableEnvironment = {}
): { tables: TableSpec[]; notes: string[]; warnings: string[] } {
  const tables: TableSpec[] = []
  const notes: string[] = []
  const warnings: string[] = []
  const unnamed: string[] = []
  for (const stack of stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (!isTableType(resource.Type)) continue
      if (resource.Properties?.TableName === undefined) {
        unnamed.push(`${stackLabel(stack)}/${logicalId}`)
        continue
      }
      const spec = tableSpec(stack, logicalId, resource, stage, run)
      tables.push(spec)
      if (typeof resource.Condition === 'string') {
        notes.push(
          `table ${spec.tableName ?? logicalId} (${stackLabel(stack)}/${logicalId}) is created only if condition '${resource.Condition}' holds; it is checked as if it does`
        )
      }
    }
  }
  if (unnamed.length > 0) {
    notes.push(
      `skipped ${plural(unnamed.length, 'table')} without TableName (CloudFormation generates a unique name, so they cannot collide): ${unnamed.join(', ')}`
    )
  }
  const unresolved = tables.filter(t => t.tableName === null)
  for (const t of unresolved) {
    warnings.push(
      `cannot resolve the name of table ${resourceLabel(t)}: TableName ${t.unresolvedExpression ?? '?'}: ${t.unresolvedReason ?? 'unknown reason'}`
    )
  }
  warnings.push(...duplicateNotes(tables))
  return { tables, notes, warnings }
}

function resourceLabel(table: TableSpec): string {
  return [table.stack ?? '(no stack)', ...table.nestedPath, table.logicalId ?? '(no logical id)'].join('/')
}

function duplicateNotes(tables: TableSpec[]): string[] {
  const byName = new Map<string, TableSpec[]>()
  for (const t of tables) {
    if (t.tableName === null) continue
    byName.set(t.tableName, [...(byName.get(t.tableName) ?? []), t])
  }
  return [...byName]
    .filter(([, claims]) => claims.length > 1)
    .map(
      ([name, claims]) =>
        `table name ${name} is claimed by ${claims.length} resources (${claims.map(resourceLabel).join(', ')}): only one of them can create it`
    )
}

/** Keeps the tables named in `names`; names no template describes become input-only TableSpecs. */
function restrictTo(
  names: string[],
  tables: TableSpec[],
  template: string,
  warnings: string[],
  region?: string
): TableSpec[] {
  const wanted = new Set(names)
  const kept = tables.filter(t => t.tableName !== null && wanted.has(t.tableName))
  const found = new Set(kept.map(t => t.tableName))
  const missing = [...wanted].filter(name => !found.has(name))
  if (missing.length > 0) {
    const unresolved = tables.filter(t => t.tableName === null).length
    warnings.push(
      `${plural(missing.length, 'table')} from 'tables' not found in any template, checked for existence, ownership and data only (one with data is not deleted): ${missing.join(', ')}` +
        (unresolved > 0 ? ` (${plural(unresolved, 'table')} with unresolvable names may be among them)` : '')
    )
  }
  return [...kept, ...missing.map(name => tableFromInput(name, { template, exists: true }, region))]
}

function tablesOnly(opts: Pick<DiscoverOptions, 'template' | 'tables'>): Deployment {
  const names = [...new Set(opts.tables)]
  return {
    source: 'tables',
    stacks: [],
    tablesOnly: names,
    notes: [],
    warnings: [
      `no template at ${opts.template}: checking only the ${plural(names.length, 'table')} named in 'tables' (existence, ownership and data; no template comparison; a table with data is not deleted)`
    ]
  }
}

function missingTemplate(opts: Pick<DiscoverOptions, 'template'>): never {
  throw new InputError(
    'template',
    `no such file or directory: ${opts.template}. Run 'cdk synth' before this step (it writes cdk.out), point 'template' at a CloudFormation template file, or set 'tables' to check named tables only`
  )
}

/**
 * Reads the stacks the deploy creates, with their environments, from a cloud assembly directory or a single
 * template file (then `stackName` is required); if it does not exist, `tables` alone is checked. Every
 * input and file problem is found here, before anything needs AWS.
 * @throws InputError naming 'template' or 'stack-name'; FileError naming an unreadable or malformed file.
 */
export function readDeployment(
  opts: Omit<DiscoverOptions, 'region' | 'account' | 'accountUnknown'>
): Deployment {
  let isDirectory: boolean
  try {
    isDirectory = statSync(opts.template).isDirectory()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InputError('template', `cannot read ${opts.template}: ${readErrorMessage(err)}`)
    }
    if (opts.tables.length > 0) return tablesOnly(opts)
    return missingTemplate(opts)
  }

  let source: Deployment['source']
  let stacks: StackSpec[]
  const notes: string[] = []
  const warnings: string[] = []
  if (isDirectory) {
    if (!existsSync(path.join(opts.template, 'manifest.json'))) {
      throw new InputError(
        'template',
        `${opts.template} is a directory without manifest.json; expected a CDK cloud assembly (the cdk.out directory 'cdk synth' writes) or a CloudFormation template file`
      )
    }
    source = 'cloud-assembly'
    const read = readCloudAssembly(opts.template)
    stacks = read.stacks
    // Its notes are nested stacks without a local template: tables the check cannot see.
    warnings.push(...read.notes)
    if (stacks.length === 0) warnings.push(`the cloud assembly ${opts.template} has no stacks`)
  } else {
    if (!opts.stackName) {
      throw new InputError(
        'stack-name',
        `required with a single template file (${opts.template}): a template does not say which stack deploys it; set 'stack-name' to that stack's name (or point 'template' at a cdk.out directory)`
      )
    }
    source = 'template'
    const top: StackSpec = {
      name: opts.stackName,
      templateFile: opts.template,
      template: readTemplateFile(opts.template),
      nestedPath: []
    }
    stacks = [top, ...readNestedStacks(top, path.dirname(opts.template), warnings)]
  }

  return { source, stacks, notes, warnings }
}

/**
 * The named tables of a deployment, each with the region and account it is created in, its name
 * resolved with that environment (`AWS::AccountId`, `AWS::Region`, … of its stack: pinned, else the
 * run's). Pure.
 */
export function discoverTables(
  deployment: Deployment,
  opts: Pick<DiscoverOptions, 'template' | 'stage' | 'tables' | 'region' | 'account' | 'accountUnknown'>
): Discovery {
  const { source, stacks } = deployment
  const notes = [...deployment.notes]
  const warnings = [...deployment.warnings]
  if (deployment.tablesOnly) {
    const tables = deployment.tablesOnly.map(name =>
      tableFromInput(name, { template: opts.template, exists: false }, opts.region)
    )
    return { source, stacks, tables, notes, warnings }
  }
  const run: TableEnvironment = {
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.account ? { account: opts.account } : {}),
    ...(opts.accountUnknown ? { accountUnknown: opts.accountUnknown } : {})
  }
  const collected = collectTables(stacks, opts.stage, run)
  notes.push(...collected.notes)
  warnings.push(...collected.warnings)
  const tables =
    opts.tables.length > 0
      ? restrictTo(opts.tables, collected.tables, opts.template, warnings, opts.region)
      : collected.tables
  return { source, stacks, tables, notes, warnings }
}

/**
 * Discovers the named DynamoDB tables (AWS::DynamoDB::Table and ::GlobalTable) the deploy will create:
 * readDeployment, then discoverTables.
 * @throws InputError naming 'template' or 'stack-name'; FileError naming an unreadable or malformed file.
 */
export function discover(opts: DiscoverOptions): Discovery {
  return discoverTables(readDeployment(opts), opts)
}

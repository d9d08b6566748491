/**
 * discover: finds the named DynamoDB tables a deploy will create, from a CDK cloud assembly or a single
 * CloudFormation template. Pure apart from reading files.
 */
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { InputError } from '../errors.js'
import type { CfnResource, Discovery, StackSpec, TableResourceType, TableSpec } from '../types.js'
import { readCloudAssembly, readNestedStacks } from './cloud-assembly.js'
import { resolveName } from './resolve.js'
import { readErrorMessage, readTemplateFile } from './template.js'

export interface DiscoverOptions {
  /** Absolute path: a cloud assembly directory (with manifest.json) or a single template file. */
  template: string
  stage: string
  /** Stack a single template file is deployed as (required then; ignored for a cloud assembly). */
  stackName: string | null
  /** Restrict to these table names; empty = every named table discovered. */
  tables: string[]
  /** Deploy region, used for `AWS::Region`/`AWS::Partition` in stacks whose CDK environment does not pin one. */
  region?: string
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
  notDeclared: NonNullable<TableSpec['notDeclared']>
): TableSpec {
  return {
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

function tableSpec(
  stack: StackSpec,
  logicalId: string,
  resource: CfnResource,
  stage: string,
  region?: string
): TableSpec {
  const properties = resource.Properties ?? {}
  const resolved = resolveName(properties.TableName, {
    // Inside a nested stack AWS::StackName is the generated nested stack name, unknowable before deploy.
    stackName: stack.nestedPath.length === 0 ? stack.name : null,
    stage,
    ...((stack.region ?? region) ? { region: stack.region ?? region } : {}),
    ...(stack.account ? { accountId: stack.account } : {})
  })
  return {
    tableName: 'name' in resolved ? resolved.name : null,
    ...('unresolved' in resolved ? { unresolvedReason: resolved.unresolved } : {}),
    stack: stack.name,
    logicalId,
    resourceType: resource.Type as TableResourceType,
    nestedPath: [...stack.nestedPath],
    deletionPolicy: typeof resource.DeletionPolicy === 'string' ? resource.DeletionPolicy : null,
    updateReplacePolicy:
      typeof resource.UpdateReplacePolicy === 'string' ? resource.UpdateReplacePolicy : null,
    properties,
    templateFile: stack.templateFile
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
  region?: string
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
      const spec = tableSpec(stack, logicalId, resource, stage, region)
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
      `cannot resolve the name of table ${resourceLabel(t)}: ${t.unresolvedReason ?? 'unknown reason'}`
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
function restrictTo(names: string[], tables: TableSpec[], template: string, warnings: string[]): TableSpec[] {
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
  return [...kept, ...missing.map(name => tableFromInput(name, { template, exists: true }))]
}

function tablesOnly(opts: DiscoverOptions): Discovery {
  const names = [...new Set(opts.tables)]
  return {
    source: 'tables',
    stacks: [],
    tables: names.map(name => tableFromInput(name, { template: opts.template, exists: false })),
    notes: [],
    warnings: [
      `no template at ${opts.template}: checking only the ${plural(names.length, 'table')} named in 'tables' (existence, ownership and data; no template comparison; a table with data is not deleted)`
    ]
  }
}

function missingTemplate(opts: DiscoverOptions): never {
  throw new InputError(
    'template',
    `no such file or directory: ${opts.template}. Run 'cdk synth' before this step (it writes cdk.out), point 'template' at a CloudFormation template file, or set 'tables' to check named tables only`
  )
}

/**
 * Discovers the named DynamoDB tables (AWS::DynamoDB::Table and ::GlobalTable) the deploy will create.
 * `template` is a cloud assembly directory or a single template file (then `stackName` is required);
 * if it does not exist, `tables` alone is checked.
 * @throws InputError naming 'template' or 'stack-name'; FileError naming an unreadable or malformed file.
 */
export function discover(opts: DiscoverOptions): Discovery {
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

  let source: Discovery['source']
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

  for (const stack of stacks) {
    if (stack.region && opts.region && stack.region !== opts.region) {
      warnings.push(`stack ${stackLabel(stack)} is pinned to region ${stack.region}, not ${opts.region}`)
    }
  }
  const collected = collectTables(stacks, opts.stage, opts.region)
  notes.push(...collected.notes)
  warnings.push(...collected.warnings)
  const tables =
    opts.tables.length > 0
      ? restrictTo(opts.tables, collected.tables, opts.template, warnings)
      : collected.tables
  return { source, stacks, tables, notes, warnings }
}

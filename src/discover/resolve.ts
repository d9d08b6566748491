/**
 * Static resolution of a table's physical name from its template value. Only what is certain is
 * resolved; anything that depends on deploy-time values (parameters, other resources, exports,
 * conditions) is reported as unresolved with the construct named, never guessed.
 */
import { isRecord } from '../types.js'

export interface ResolveContext {
  /**
   * Name of the stack the template is deployed as; null when it cannot be known statically
   * (inside a nested stack, whose name CloudFormation generates at deploy time).
   */
  stackName: string | null
  /** Fills a literal `{stage}` placeholder. */
  stage: string
  /** Deploy region, when known (`AWS::Region`, and `AWS::Partition` and `AWS::URLSuffix` derived from it). */
  region?: string
  /** Deploy account: the stack's pinned account, else the credentials' (`AWS::AccountId`). */
  accountId?: string
  /** Why the account is not known, for the unresolved reason (e.g. GetCallerIdentity failed). */
  accountUnknown?: string
}

export type ResolveResult = { name: string } | { unresolved: string }

const STAGE_PLACEHOLDER = '{stage}'

/** Partition of a region, by the documented region-name prefixes. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  if (region.startsWith('us-iso-')) return 'aws-iso'
  if (region.startsWith('us-isob-')) return 'aws-iso-b'
  if (region.startsWith('us-isof-')) return 'aws-iso-f'
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e'
  if (region.startsWith('eusc-')) return 'aws-eusc'
  return 'aws'
}

/**
 * `AWS::URLSuffix` of the partitions whose domain is public; CloudFormation documents
 * `amazonaws.com` in general and `amazonaws.com.cn` in the China regions.
 */
const URL_SUFFIXES: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn'
}

/** Why each intrinsic function the resolver does not evaluate cannot give a static name. */
const UNEVALUATED: Readonly<Record<string, string>> = {
  'Fn::GetAtt': 'resource attributes are only known after deploy',
  'Fn::ImportValue': "another stack's export is only known at deploy time",
  'Fn::If': 'conditions depend on parameters and are not evaluated',
  'Fn::Select': 'Fn::Select is not evaluated statically',
  'Fn::Split': 'Fn::Split gives a list, not a string',
  'Fn::FindInMap': 'mappings are not evaluated statically',
  'Fn::Base64': 'a Base64-encoded value is not a table name',
  'Fn::Cidr': 'Fn::Cidr gives a list of CIDR blocks, not a string',
  'Fn::GetAZs': 'Fn::GetAZs gives a list of availability zones, not a string',
  'Fn::Transform': 'macros are only run by CloudFormation',
  'Fn::Equals': 'a condition function gives a boolean, not a string',
  'Fn::Not': 'a condition function gives a boolean, not a string',
  'Fn::And': 'a condition function gives a boolean, not a string',
  'Fn::Or': 'a condition function gives a boolean, not a string',
  'Fn::ToJsonString': 'Fn::ToJsonString (AWS::LanguageExtensions) is not evaluated statically',
  'Fn::Length': 'Fn::Length gives a number, not a name',
  Condition: 'a condition reference gives a boolean, not a string'
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function fillStage(text: string, stage: string): string {
  return text.split(STAGE_PLACEHOLDER).join(stage)
}

/** `Ref` to a pseudo parameter, parameter or resource. */
function resolveRef(target: unknown, ctx: ResolveContext): ResolveResult {
  if (typeof target !== 'string') return { unresolved: `Ref to a non-string target ${short(target)}` }
  switch (target) {
    case 'AWS::StackName':
      return ctx.stackName !== null
        ? { name: ctx.stackName }
        : {
            unresolved:
              'Ref AWS::StackName inside a nested stack: CloudFormation generates the nested stack name at deploy time'
          }
    case 'AWS::Region':
      return ctx.region
        ? { name: ctx.region }
        : { unresolved: 'Ref AWS::Region: the deploy region is not known here' }
    case 'AWS::AccountId':
      return ctx.accountId
        ? { name: ctx.accountId }
        : {
            unresolved: `Ref AWS::AccountId: the deploy account is not known here${ctx.accountUnknown ? ` (${ctx.accountUnknown})` : ''}`
          }
    case 'AWS::Partition':
      return ctx.region
        ? { name: partitionOf(ctx.region) }
        : { unresolved: 'Ref AWS::Partition: the deploy region (and so the partition) is not known here' }
    case 'AWS::URLSuffix': {
      if (!ctx.region)
        return { unresolved: 'Ref AWS::URLSuffix: the deploy region (and so the domain) is not known here' }
      const partition = partitionOf(ctx.region)
      const suffix = URL_SUFFIXES[partition]
      return suffix
        ? { name: suffix }
        : {
            unresolved: `Ref AWS::URLSuffix: the domain of partition ${partition} is not known to this action`
          }
    }
    default:
      if (target.startsWith('AWS::')) {
        return { unresolved: `Ref ${target}: this pseudo parameter is not resolved statically` }
      }
      return {
        unresolved: `Ref ${target}: a parameter or resource, only known at deploy time (parameter defaults are not used)`
      }
  }
}

function resolveJoin(args: unknown, ctx: ResolveContext): ResolveResult {
  if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
    return { unresolved: `Fn::Join with malformed arguments ${short(args)} (expected [delimiter, [parts]])` }
  }
  const [delimiter, parts] = args as [string, unknown]
  if (!Array.isArray(parts)) {
    return { unresolved: `Fn::Join over ${short(parts)}, not a literal list` }
  }
  const names: string[] = []
  for (const [index, part] of parts.entries()) {
    const result = resolveValue(part, ctx)
    if ('unresolved' in result) return { unresolved: `Fn::Join part ${index + 1}: ${result.unresolved}` }
    names.push(result.name)
  }
  return { name: names.join(delimiter) }
}

/** A `${...}` reference inside Fn::Sub: a variable from the map, a pseudo parameter, a parameter/resource or `Res.Attr`. */
function resolveSubVariable(
  variable: string,
  vars: Record<string, unknown>,
  ctx: ResolveContext
): ResolveResult {
  if (Object.hasOwn(vars, variable)) {
    const result = resolveValue(vars[variable], ctx)
    return 'unresolved' in result ? { unresolved: `\${${variable}}: ${result.unresolved}` } : result
  }
  if (!variable.startsWith('AWS::') && variable.includes('.')) {
    return { unresolved: `\${${variable}}: ${UNEVALUATED['Fn::GetAtt']}` }
  }
  return resolveRef(variable, ctx)
}

function resolveSub(args: unknown, ctx: ResolveContext): ResolveResult {
  let template: unknown = args
  let vars: Record<string, unknown> = {}
  if (Array.isArray(args)) {
    if (args.length !== 2 || !isRecord(args[1])) {
      return {
        unresolved: `Fn::Sub with malformed arguments ${short(args)} (expected a string or [string, {variables}])`
      }
    }
    template = args[0]
    vars = args[1]
  }
  if (typeof template !== 'string')
    return { unresolved: `Fn::Sub of ${short(template)}, not a literal string` }

  let out = ''
  let rest = template
  for (;;) {
    const start = rest.indexOf('${')
    const end = start < 0 ? -1 : rest.indexOf('}', start + 2)
    if (start < 0 || end < 0) {
      out += fillStage(rest, ctx.stage)
      break
    }
    out += fillStage(rest.slice(0, start), ctx.stage)
    const inner = rest.slice(start + 2, end)
    if (inner.startsWith('!')) {
      // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
      out += `\${${inner.slice(1)}}`
    } else {
      const result = resolveSubVariable(inner, vars, ctx)
      if ('unresolved' in result) return { unresolved: `Fn::Sub ${short(template)}: ${result.unresolved}` }
      out += result.name
    }
    rest = rest.slice(end + 1)
  }
  return { name: out }
}

function resolveValue(value: unknown, ctx: ResolveContext): ResolveResult {
  if (typeof value === 'string') return { name: fillStage(value, ctx.stage) }
  if (typeof value === 'number' && Number.isFinite(value)) return { name: String(value) }
  if (value === null || value === undefined) return { unresolved: 'no value' }
  if (Array.isArray(value)) return { unresolved: `a list ${short(value)}, not a string` }
  if (!isRecord(value)) return { unresolved: `a ${typeof value}, not a string` }

  const keys = Object.keys(value)
  if (keys.length !== 1) {
    return {
      unresolved: `an object with keys ${keys.join(', ') || '(none)'}, not a string or one intrinsic function`
    }
  }
  const fn = keys[0] as string
  const args = value[fn]
  if (fn === 'Ref') return resolveRef(args, ctx)
  if (fn === 'Fn::Join') return resolveJoin(args, ctx)
  if (fn === 'Fn::Sub') return resolveSub(args, ctx)
  const why = UNEVALUATED[fn]
  if (why) return { unresolved: `${fn} ${short(args)}: ${why}` }
  return { unresolved: `${fn}: not a string or a supported intrinsic function` }
}

/**
 * A string with `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}`, `${AWS::URLSuffix}` and
 * `${AWS::StackName}` filled in as Fn::Sub fills them (the placeholders CDK writes into the cloud
 * assembly's role ARNs and bucket names, and that the `role-arn` input may hold); unresolved, naming
 * the placeholder, when one cannot be filled.
 */
export function fillPseudoParameters(
  text: string,
  env: { stackName: string; region: string; accountId?: string }
): ResolveResult {
  return resolveName(
    { 'Fn::Sub': text },
    {
      stackName: env.stackName,
      stage: '',
      region: env.region,
      ...(env.accountId ? { accountId: env.accountId } : {})
    }
  )
}

/**
 * Resolves a table name from its template value: string literals (`{stage}` filled in), `Fn::Join` and
 * `Fn::Sub` of resolvable parts, and the pseudo parameters the context knows. Anything else is unresolved,
 * with a reason naming the construct.
 */
export function resolveName(value: unknown, ctx: ResolveContext): ResolveResult {
  const result = resolveValue(value, ctx)
  if ('name' in result && result.name === '') return { unresolved: 'the name resolves to an empty string' }
  return result
}

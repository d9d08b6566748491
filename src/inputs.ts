import path from 'node:path'
import { InputError } from './errors.js'
import { PHASES, STRATEGIES, type Inputs, type Phase, type Strategy } from './types.js'

/**
 * Defaults of every optional input. action.yml declares the same values (a test checks it):
 * tests and local runs don't apply action.yml defaults, so the code must not rely on them.
 */
export const INPUT_DEFAULTS = {
  strategy: 'auto',
  phase: 'pre-deploy',
  template: 'cdk.out',
  'stack-name': '',
  tables: '',
  'protected-stages': 'prod,production,prod-*,live',
  'allow-data-loss': 'false',
  'dry-run': 'false',
  'backup-dir': 'backups',
  'aws-backup': 'true',
  'aws-region': '',
  'github-token': '',
  comment: 'true',
  'pr-number': ''
} as const

/** Reads one raw input by name ('' when unset), e.g. `(n) => core.getInput(n)`. */
export type InputReader = (name: string) => string

export interface InputEnv {
  /** GITHUB_WORKSPACE, against which relative paths resolve. */
  workspace?: string
  cwd: string
  /** AWS_REGION / AWS_DEFAULT_REGION fallback for aws-region. */
  awsRegion?: string
}

const STAGE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

function raw(read: InputReader, name: keyof typeof INPUT_DEFAULTS | 'stage'): string {
  const value = read(name).trim()
  if (value !== '') return value
  return name === 'stage' ? '' : INPUT_DEFAULTS[name]
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InputError(name, `'${value}' is not supported; use one of: ${allowed.join(', ')}`)
}

function bool(read: InputReader, name: keyof typeof INPUT_DEFAULTS): boolean {
  const value = raw(read, name)
  if (/^(true|True|TRUE)$/.test(value)) return true
  if (/^(false|False|FALSE)$/.test(value)) return false
  throw new InputError(name, `'${value}' is not a boolean; use true or false`)
}

function list(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map(s => s.trim())
    .filter(s => s !== '')
}

export function fillStage(pattern: string, stage: string): string {
  return pattern.replaceAll('{stage}', stage)
}

const TABLE_NAME = /^[A-Za-z0-9._-]{3,255}$/

/**
 * The one place inputs are read and validated. Throws InputError naming the input at fault;
 * nothing else in the action reads inputs.
 */
export function getInputs(read: InputReader, env: InputEnv): Inputs {
  const stage = raw(read, 'stage')
  if (stage === '') throw new InputError('stage', 'is required (e.g. pr-5)')
  if (!STAGE_PATTERN.test(stage)) {
    throw new InputError(
      'stage',
      `'${stage}' is not a valid stage: use 1 to 64 characters from A-Z a-z 0-9 . _ - (no spaces or shell characters)`
    )
  }

  const strategy = oneOf<Strategy>('strategy', raw(read, 'strategy'), STRATEGIES)
  const phase = oneOf<Phase>('phase', raw(read, 'phase'), PHASES)
  const base = env.workspace && env.workspace !== '' ? env.workspace : env.cwd

  const stackNameRaw = raw(read, 'stack-name')
  const stackName = stackNameRaw === '' ? null : fillStage(stackNameRaw, stage)
  if (stackName !== null && !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new InputError('stack-name', `'${stackName}' is not a valid CloudFormation stack name`)
  }

  const tables = list(raw(read, 'tables')).map(t => fillStage(t, stage))
  for (const t of tables) {
    if (!TABLE_NAME.test(t)) {
      throw new InputError('tables', `'${t}' is not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 . _ -)`)
    }
  }

  const awsRegion = raw(read, 'aws-region') || env.awsRegion || ''
  if (awsRegion === '') {
    throw new InputError(
      'aws-region',
      'no region: set the aws-region input or AWS_REGION (aws-actions/configure-aws-credentials sets it)'
    )
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(awsRegion)) {
    throw new InputError('aws-region', `'${awsRegion}' is not an AWS region name`)
  }

  const prRaw = raw(read, 'pr-number')
  let prNumber: number | null = null
  if (prRaw !== '') {
    if (!/^[1-9]\d*$/.test(prRaw))
      throw new InputError('pr-number', `'${prRaw}' is not a pull request number`)
    prNumber = Number(prRaw)
  }

  return {
    stage,
    strategy,
    phase,
    template: path.resolve(base, raw(read, 'template')),
    stackName,
    tables,
    protectedStages: list(raw(read, 'protected-stages')),
    allowDataLoss: bool(read, 'allow-data-loss'),
    dryRun: bool(read, 'dry-run'),
    backupDir: path.resolve(base, raw(read, 'backup-dir')),
    awsBackup: bool(read, 'aws-backup'),
    awsRegion,
    githubToken: raw(read, 'github-token'),
    comment: bool(read, 'comment'),
    prNumber
  }
}

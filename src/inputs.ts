import { existsSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { InputError } from './errors.js'
import {
  COPY_MODES,
  PHASES,
  STRATEGIES,
  type CopyMode,
  type Inputs,
  type Phase,
  type S3Location,
  type Strategy
} from './types.js'

/** One input of the action. */
export interface InputDefinition {
  /** Used when the input is empty or unset ('' = none). */
  default: string
  /** What action.yml declares as the default when it differs from `default` (github-token's `${{ github.token }}`). */
  actionDefault?: string
  required?: true
  /** How the value is read: free text, `true`/`false`, or a whole number (its range checked by getInputs). */
  type: 'string' | 'boolean' | 'number'
  /** The values allowed, when the input is a choice. */
  choices?: readonly string[]
  description: string
  /**
   * What the CLI's --help adds after `description` (which it shows word for word, as action.yml
   * does) where the CLI differs: it resolves relative paths against the current directory, not
   * GITHUB_WORKSPACE.
   */
  cliNote?: string
  /**
   * Only the GitHub Action uses it (the PR comment, the workflow artifact). The CLI takes the same
   * flag, so that one set of arguments serves both, checks it, and says that it ignores it.
   */
  actionOnly?: true
}

/**
 * The default of `protected-stages`: a stage is protected when one of its words (the parts between
 * `-`, `_` and `.`) starts with `prod` or `live`, in any case: prod, PROD, production-eu, prod_eu,
 * prod.eu, prod1, eu-prod, live-eu, eu-live. Not: preprod, nonprod, delivery (no word starts so).
 */
export const PROTECTED_STAGES_DEFAULT = '{prod,live}*,*[-._]{prod,live}*'

/**
 * Every input of the action, in one table: its default, its kind and the description action.yml
 * shows (word for word; a test checks that action.yml declares exactly these). Tests and local
 * runs don't apply action.yml defaults, so getInputs applies these itself. The CLI's flags are
 * these inputs, with the same names and defaults, and its --help is made from this table.
 */
export const INPUTS = {
  stage: {
    default: '',
    required: true,
    type: 'string',
    description:
      'Environment name, e.g. `pr-5`. Only A-Z a-z 0-9 . _ - (1-64 characters). Fills `{stage}` in `stack-name` and `tables` and is matched against `protected-stages`.'
  },
  strategy: {
    default: 'auto',
    type: 'string',
    choices: STRATEGIES,
    description:
      'What to do with orphaned tables: `auto` (decision tree: empty → delete, compatible → import, otherwise backup-restore, or stop on protected stages), `import`, `backup-restore`, `delete`, or `report` (look and tell, change nothing).'
  },
  phase: {
    default: 'pre-deploy',
    type: 'string',
    choices: PHASES,
    description:
      '`pre-deploy` (before the deploy: check and resolve) or `restore` (after the deploy: load the backups taken by backup-restore into the fresh tables and verify them).'
  },
  template: {
    default: 'cdk.out',
    type: 'string',
    description:
      'A CDK cloud assembly directory (with manifest.json, e.g. the output of `cdk synth`) or a single CloudFormation template file (JSON or YAML). Relative to GITHUB_WORKSPACE.',
    cliNote: 'In the CLI: relative to the current directory.'
  },
  'stack-name': {
    default: '',
    type: 'string',
    description:
      'The stack that owns the tables of a single template file (required then); may hold `{stage}`. Ignored for a cloud assembly, which names its stacks.'
  },
  tables: {
    default: '',
    type: 'string',
    description:
      'Optional comma- or newline-separated table names (may hold `{stage}`) that restrict the check. Without a template, only existence, ownership and data are checked for these.'
  },
  'protected-stages': {
    default: PROTECTED_STAGES_DEFAULT,
    type: 'string',
    description:
      'Glob patterns (comma- or newline-separated; a comma inside braces stays in its pattern) of stages where the action never deletes a table (import or stop with instructions instead), matched case-insensitively against the whole stage. The default protects every stage with a word (the parts between `-`, `_` and `.`) that starts with `prod` or `live`.'
  },
  'protected-accounts': {
    default: '',
    type: 'string',
    description:
      'AWS account ids (12 digits, comma- or newline-separated) where the action never deletes a table, whatever the stage. The account is read with STS GetCallerIdentity; when it cannot be read, the run counts as protected.'
  },
  'allow-data-loss': {
    default: 'false',
    type: 'boolean',
    description:
      '`true` lets strategy `delete` delete a table that holds data (an on-demand backup is still taken first when `aws-backup` is true). Never applies to protected stages.'
  },
  'dry-run': {
    default: 'false',
    type: 'boolean',
    description: '`true` plans and shows the exact AWS calls it would make, and changes nothing.'
  },
  'backup-dir': {
    default: 'backups',
    type: 'string',
    description:
      'Folder (relative to GITHUB_WORKSPACE) for exports, manifests, checkpoints and import templates. Never a folder that holds a git repository (`.git`); with `upload-artifact`, a folder below the workspace.',
    cliNote: 'In the CLI: relative to the current directory (`upload-artifact` does not apply).'
  },
  'upload-artifact': {
    default: 'false',
    type: 'boolean',
    actionOnly: true,
    description:
      '`true` uploads the files this run wrote to `backup-dir` (exports, manifests, import templates) as a workflow artifact, which everyone with read access to the repository can download (anyone signed in to GitHub, for a public repository).'
  },
  'artifact-retention-days': {
    default: '7',
    type: 'number',
    actionOnly: true,
    description:
      'Days GitHub keeps the artifact of `upload-artifact` (1-90; the repository may set a lower maximum).'
  },
  'keep-failed-change-sets': {
    default: 'false',
    type: 'boolean',
    description:
      '`true` keeps an IMPORT change set that CloudFormation could not create (status FAILED) for reading in the console; by default the action deletes it (DeleteChangeSet).'
  },
  'aws-backup': {
    default: 'true',
    type: 'boolean',
    description:
      '`true` takes a DynamoDB on-demand backup (CreateBackup) before any destructive step and stops if it cannot.'
  },
  'aws-backup-retention-days': {
    default: '14',
    type: 'number',
    description:
      "Days the action keeps the on-demand backups it took for a restore of this stage's tables. A pre-deploy run deletes those older than this whose restore is verified or from which no restore is owed; a backup still owed is never deleted (`dry-run` lists them, `strategy: report` leaves them alone). `0` keeps every backup. A whole number from 0 to 3650."
  },
  's3-bucket': {
    default: '',
    type: 'string',
    description:
      'S3 bucket (`name` or `name/prefix`, in the region of the tables) that receives a verified copy of every export before its table is deleted, under `<prefix>/<stage>/<table>/<UTC timestamp>/`.'
  },
  'copy-mode': {
    default: 'auto',
    type: 'string',
    choices: COPY_MODES,
    description:
      'How backup-restore copies a table that holds data into the table the template defines: `runner` (the action exports it, and phase restore writes the items back after the deploy), `server-side` (needs `s3-bucket`: DynamoDB exports the table to S3, ImportTable creates the new table from there and it is imported into its stack before the deploy; no item passes through the runner), or `auto` (server-side for a table from `server-side-threshold-bytes` up, or whose new table has a stream, when `s3-bucket` is set and ImportTable can create the table; otherwise runner).'
  },
  'server-side-threshold-bytes': {
    default: '1GiB',
    type: 'string',
    description:
      'With `copy-mode: auto`: the size from which a table takes the server-side path, in bytes or with a unit (`500MiB`, `1GiB`, `2TiB`). The size is what the restore would write: the larger of the table size and 1 KiB per item (DynamoDB meters writes in 1 KB units), as DescribeTable reports them (refreshed about every six hours).'
  },
  'aws-region': {
    default: '',
    type: 'string',
    description: 'AWS region of the tables and stacks. Defaults to the AWS_REGION environment variable.'
  },
  'role-arn': {
    default: '',
    type: 'string',
    description:
      "CloudFormation execution role (RoleARN) for the import change sets, e.g. the CDK bootstrap `cfn-exec-role`. `${AWS::AccountId}`, `${AWS::Region}` and `${AWS::Partition}` are filled in per stack. Empty: the stack's current role (none for a new stack)."
  },
  'github-token': {
    default: '',
    actionDefault: '${{ github.token }}',
    type: 'string',
    actionOnly: true,
    description: 'Token used for the sticky PR comment (needs `pull-requests: write`).'
  },
  comment: {
    default: 'true',
    type: 'boolean',
    actionOnly: true,
    description: '`true` writes one sticky PR comment per stage (updated in place on later runs).'
  },
  'pr-number': {
    default: '',
    type: 'number',
    actionOnly: true,
    description: 'Pull request to comment on when the event is not a pull request (e.g. `workflow_dispatch`).'
  }
} as const satisfies Record<string, InputDefinition>

export type InputName = keyof typeof INPUTS

/** Defaults of every optional input, by name (from INPUTS). */
export const INPUT_DEFAULTS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(INPUTS as Record<string, InputDefinition>)
    .filter(([, input]) => !input.required)
    .map(([name, input]) => [name, input.default])
)

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

function raw(read: InputReader, name: InputName): string {
  const value = read(name).trim()
  return value !== '' ? value : INPUTS[name].default
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InputError(name, `'${value}' is not supported; use one of: ${allowed.join(', ')}`)
}

function bool(read: InputReader, name: InputName): boolean {
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

/**
 * Glob patterns split on commas and newlines outside braces, so `{prod,live}-*` stays one pattern
 * (a backslash escapes the next character, as in the glob itself). Unbalanced braces are bad
 * input: a pattern cut in the wrong place would protect less than the user wrote.
 */
export function splitPatterns(name: string, value: string): string[] {
  const patterns: string[] = []
  let depth = 0
  let current = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string
    if (c === '\\' && i + 1 < value.length) {
      current += c + (value[++i] as string)
      continue
    }
    if (c === '{') depth++
    if (c === '}') depth--
    if (depth < 0) throw new InputError(name, `'${value}' has a } without its {`)
    if (depth === 0 && (c === ',' || c === '\n' || c === '\r')) {
      patterns.push(current)
      current = ''
    } else current += c
  }
  if (depth !== 0) throw new InputError(name, `'${value}' has a { without its }`)
  patterns.push(current)
  return patterns.map(p => p.trim()).filter(p => p !== '')
}

function accounts(read: InputReader): string[] {
  const ids = list(raw(read, 'protected-accounts'))
  for (const id of ids) {
    if (!/^\d{12}$/.test(id))
      throw new InputError('protected-accounts', `'${id}' is not an AWS account id (12 digits)`)
  }
  return ids
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40
}

/** A size: a whole number of bytes, or a whole number with a binary unit (`1GiB`; KiB, MiB, GiB, TiB). */
export function parseBytes(name: string, value: string): number {
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(value)
  const unit = m ? BYTE_UNITS[(m[2] ?? '').toUpperCase()] : undefined
  if (!m || unit === undefined)
    throw new InputError(
      name,
      `'${value}' is not a size: use a whole number of bytes or one with a unit (KiB, MiB, GiB, TiB), e.g. 1GiB`
    )
  const bytes = Number(m[1]) * unit
  if (!Number.isSafeInteger(bytes)) throw new InputError(name, `'${value}' is too large`)
  return bytes
}

function wholeNumber(read: InputReader, name: InputName, min: number, max: number): number {
  const value = raw(read, name)
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new InputError(name, `'${value}' is not a whole number from ${min} to ${max}`)
  return Number(value)
}

/** `p` with symbolic links resolved as far as it exists (the rest appended as it is). */
function realPath(p: string): string {
  let existing = p
  const rest: string[] = []
  while (!existsSync(existing)) {
    const parent = path.dirname(existing)
    if (parent === existing) return p
    rest.unshift(path.basename(existing))
    existing = parent
  }
  return path.join(realpathSync.native(existing), ...rest)
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

/**
 * backup-dir never holds a repository (`.git`): table data written into a checkout can be committed
 * or swept up by a later step, and `backup-dir: .` next to `.git/config` (which holds the checkout
 * token) is how an artifact would publish it. When the backups are uploaded, the folder must also
 * lie below the workspace, so nothing from elsewhere on the runner can be in it. Without upload it
 * may lie elsewhere (e.g. `${{ runner.temp }}`, which keeps table data out of the workspace).
 */
function checkBackupDir(backupDir: string, workspace: string, upload: boolean): void {
  const real = realPath(backupDir)
  if (real.split(path.sep).includes('.git') || existsSync(path.join(real, '.git'))) {
    throw new InputError(
      'backup-dir',
      `'${backupDir}' holds or lies in a git repository (.git): table data must not be written into a checkout. Use a folder of its own, e.g. backups.`
    )
  }
  if (upload && !isInside(real, realPath(workspace))) {
    throw new InputError(
      'backup-dir',
      `'${backupDir}' is not a folder below the workspace ${workspace}: with upload-artifact the backups must be in a folder of their own inside GITHUB_WORKSPACE.`
    )
  }
}

export function fillStage(pattern: string, stage: string): string {
  return pattern.replaceAll('{stage}', stage)
}

/** Ten years: a longer retention is no retention (and a typo like 140000 is caught). */
const MAX_RETENTION_DAYS = 3650

const TABLE_NAME = /^[A-Za-z0-9._-]{3,255}$/

/** Longest prefix accepted: the layout adds up to ~400 bytes and an S3 key holds 1,024. */
const MAX_S3_PREFIX = 512

/**
 * `name` or `name/prefix` (an `s3://` in front is accepted). The bucket must follow S3's naming
 * rules for general purpose buckets; the prefix is a '/'-separated path of safe characters
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html), without empty, `.` or
 * `..` segments, and loses leading and trailing '/'. Whether the bucket exists and is in the run's
 * region is checked against AWS before anything changes (execute/backup-bucket.ts).
 */
export function parseS3Bucket(value: string): S3Location | null {
  if (value === '') return null
  const bad = (why: string): never => {
    throw new InputError('s3-bucket', `'${value}' ${why}`)
  }
  const rest = value.replace(/^s3:\/\//, '')
  const slash = rest.indexOf('/')
  const bucket = slash < 0 ? rest : rest.slice(0, slash)
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '')
  if (bucket.length < 3 || bucket.length > 63)
    bad(`has a bucket name of ${bucket.length} characters; S3 bucket names have 3 to 63`)
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket))
    bad(
      'is not a valid S3 bucket name: use lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit (write it as name or name/prefix)'
    )
  if (bucket.includes('..')) bad('is not a valid S3 bucket name: two adjacent dots')
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) bad('is not a valid S3 bucket name: it looks like an IP address')
  if (
    /^(xn--|sthree-|amzn-s3-demo-)/.test(bucket) ||
    /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(bucket)
  )
    bad(
      'is not a general purpose S3 bucket name (the prefix or suffix is reserved by S3 for other kinds of bucket)'
    )
  if (prefix.length > MAX_S3_PREFIX)
    bad(`has a prefix of ${prefix.length} characters; use at most ${MAX_S3_PREFIX}`)
  if (prefix !== '') {
    if (!/^[A-Za-z0-9!_.*'()/-]+$/.test(prefix))
      bad("has a prefix with characters S3 keys should avoid: use A-Z a-z 0-9 and ! - _ . * ' ( ) /")
    if (prefix.split('/').some(s => s === '' || s === '.' || s === '..'))
      bad('has a prefix with an empty, . or .. segment')
  }
  return { bucket, prefix }
}
/**
 * An IAM role ARN (path allowed); `${AWS::AccountId}`, `${AWS::Region}` and `${AWS::Partition}` may stand
 * for their parts (each stack's import fills them in with its environment).
 */
const ROLE_ARN =
  /^arn:(aws[a-z-]*|\$\{AWS::Partition\}):iam::(\d{12}|\$\{AWS::AccountId\}):role\/([\w+=,.@/-]|\$\{AWS::(AccountId|Region|Partition)\})+$/

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

  const roleArn = raw(read, 'role-arn')
  if (roleArn !== '' && !ROLE_ARN.test(roleArn)) {
    throw new InputError(
      'role-arn',
      `'${roleArn}' is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME; \${AWS::AccountId}, \${AWS::Region} and \${AWS::Partition} may stand for their parts)`
    )
  }

  const prRaw = raw(read, 'pr-number')
  let prNumber: number | null = null
  if (prRaw !== '') {
    if (!/^[1-9]\d*$/.test(prRaw))
      throw new InputError('pr-number', `'${prRaw}' is not a pull request number`)
    prNumber = Number(prRaw)
  }

  const s3Bucket = parseS3Bucket(raw(read, 's3-bucket'))
  const copyMode = oneOf<CopyMode>('copy-mode', raw(read, 'copy-mode'), COPY_MODES)
  if (copyMode === 'server-side' && s3Bucket === null) {
    throw new InputError(
      'copy-mode',
      "'server-side' needs the input 's3-bucket': DynamoDB exports the table to that bucket and ImportTable creates the new table from there. Set s3-bucket, or use copy-mode auto or runner."
    )
  }
  const serverSideThresholdBytes = parseBytes(
    'server-side-threshold-bytes',
    raw(read, 'server-side-threshold-bytes')
  )

  const backupDir = path.resolve(base, raw(read, 'backup-dir'))
  const uploadArtifact = bool(read, 'upload-artifact')
  checkBackupDir(backupDir, base, uploadArtifact)

  return {
    stage,
    strategy,
    phase,
    template: path.resolve(base, raw(read, 'template')),
    stackName,
    tables,
    protectedStages: splitPatterns('protected-stages', raw(read, 'protected-stages')),
    protectedAccounts: accounts(read),
    allowDataLoss: bool(read, 'allow-data-loss'),
    dryRun: bool(read, 'dry-run'),
    backupDir,
    uploadArtifact,
    artifactRetentionDays: wholeNumber(read, 'artifact-retention-days', 1, 90),
    keepFailedChangeSets: bool(read, 'keep-failed-change-sets'),
    awsBackup: bool(read, 'aws-backup'),
    awsBackupRetentionDays: wholeNumber(read, 'aws-backup-retention-days', 0, MAX_RETENTION_DAYS),
    s3Bucket,
    copyMode,
    serverSideThresholdBytes,
    awsRegion,
    roleArn: roleArn === '' ? null : roleArn,
    githubToken: raw(read, 'github-token'),
    comment: bool(read, 'comment'),
    prNumber
  }
}

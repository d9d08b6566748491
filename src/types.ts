/**
 * The data that flows one way through the action:
 *   inputs → discover → inspect → plan → execute → report
 * Every stage takes the previous stage's data and returns its own; nothing here does I/O. At the end:
 * the collaborators every layer takes as parameters (logger, clock).
 */

// ───────────────────────────── inputs ─────────────────────────────

export const STRATEGIES = ['auto', 'import', 'backup-restore', 'delete', 'report'] as const
export type Strategy = (typeof STRATEGIES)[number]

export const PHASES = ['pre-deploy', 'restore'] as const
export type Phase = (typeof PHASES)[number]

/**
 * How backup-restore copies a table's items into the table the template defines: `runner` (the
 * action scans and writes them), `server-side` (DynamoDB exports them to S3 and ImportTable creates
 * the new table from there; nothing passes through the runner), or `auto` (plan/copy-path.ts).
 */
export const COPY_MODES = ['auto', 'runner', 'server-side'] as const
export type CopyMode = (typeof COPY_MODES)[number]

export interface Inputs {
  stage: string
  strategy: Strategy
  phase: Phase
  /** Absolute path: a cloud assembly directory or a single template file. */
  template: string
  /** Owning stack for a single template file, `{stage}` already filled in. */
  stackName: string | null
  /** Table names the check is restricted to (`{stage}` filled in); empty = all discovered. */
  tables: string[]
  /** Glob patterns of protected stages (split on commas and newlines outside braces). */
  protectedStages: string[]
  /** Account ids (12 digits) where no table is ever deleted. */
  protectedAccounts: string[]
  allowDataLoss: boolean
  dryRun: boolean
  /** Absolute path. */
  backupDir: string
  /** Upload this run's own files of backupDir as a workflow artifact. */
  uploadArtifact: boolean
  artifactRetentionDays: number
  /** Keep a FAILED IMPORT change set instead of deleting it. */
  keepFailedChangeSets: boolean
  awsBackup: boolean
  /**
   * `aws-backup-retention-days`: the action's own on-demand backups of the stage older than this
   * many days, and owed by no restore, are deleted by a pre-deploy run. 0: none is ever deleted.
   */
  awsBackupRetentionDays: number
  /** The `s3-bucket` input: where verified copies of exports go (null when unset). */
  s3Bucket: S3Location | null
  /** The `copy-mode` input: which path backup-restore copies items by. */
  copyMode: CopyMode
  /** The `server-side-threshold-bytes` input: `copy-mode: auto` takes the server-side path from this size up. */
  serverSideThresholdBytes: number
  awsRegion: string
  /**
   * CloudFormation execution role for import change sets (CreateChangeSet RoleARN); may hold
   * `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}`, filled in per stack. null = none.
   */
  roleArn: string | null
  githubToken: string
  comment: boolean
  prNumber: number | null
}

/** A bucket and a key prefix in it ('' for the bucket's root; never with a leading or trailing '/'). */
export interface S3Location {
  bucket: string
  prefix: string
}

// ───────────────────────────── discover ─────────────────────────────

export type TableResourceType = 'AWS::DynamoDB::Table' | 'AWS::DynamoDB::GlobalTable'

/** A CloudFormation template as parsed from JSON/YAML; short-form YAML tags become long form. */
export interface CfnTemplate {
  AWSTemplateFormatVersion?: string
  Description?: string
  Parameters?: Record<string, unknown>
  Conditions?: Record<string, unknown>
  Mappings?: Record<string, unknown>
  Resources?: Record<string, CfnResource>
  Outputs?: Record<string, unknown>
  [key: string]: unknown
}

export interface CfnResource {
  Type: string
  Properties?: Record<string, unknown>
  DeletionPolicy?: string
  UpdateReplacePolicy?: string
  Condition?: string
  DependsOn?: string | string[]
  Metadata?: Record<string, unknown>
  [key: string]: unknown
}

export interface StackSpec {
  /** Deployed stack name (top-level stack for nested ones). */
  name: string
  /** Absolute path of the template file this stack was read from. */
  templateFile: string
  template: CfnTemplate
  /** Logical ids of the AWS::CloudFormation::Stack resources from the top-level stack down; [] for top-level. */
  nestedPath: string[]
  /** Region the CDK artifact's environment pins the stack to (absent for environment-agnostic stacks and plain templates). */
  region?: string
  /** Account the CDK artifact's environment pins the stack to (absent for environment-agnostic stacks and plain templates). */
  account?: string
  /** The artifact's `environment` as the cloud assembly writes it (`aws://123456789012/us-east-1`, `aws://unknown-account/unknown-region`). */
  environment?: string
  /**
   * The CDK bootstrap assets bucket the cloud assembly names for this stack (where `cdk deploy` puts its
   * template), with CDK's `${AWS::AccountId}` / `${AWS::Region}` placeholders as written.
   */
  assetsBucket?: string
}

/** A named table the deploy will create. */
export interface TableSpec {
  /** Resolved physical name, or null when it cannot be resolved statically (never guessed). */
  tableName: string | null
  /** Why the name could not be resolved (set iff tableName is null). */
  unresolvedReason?: string
  /** The template's TableName value as JSON, when it could not be resolved. */
  unresolvedExpression?: string
  /** Top-level stack name that will own the table (null when only the `tables` input named it). */
  stack: string | null
  logicalId: string | null
  resourceType: TableResourceType
  /** Logical ids of nested stack resources leading to the table; [] when in the top-level stack. */
  nestedPath: string[]
  deletionPolicy: string | null
  updateReplacePolicy: string | null
  /** Template properties with intrinsics kept as they are (null when no template describes the table). */
  properties: Record<string, unknown> | null
  templateFile: string | null
  /**
   * For a table only the `tables` input names: the `template` input it was looked for in, and
   * whether that path exists (it then declares no table of this name).
   */
  notDeclared?: { template: string; exists: boolean }
  /**
   * Region the table is created in: its stack's pinned region, else the action's `aws-region`
   * (absent only where discovery was given no region; then the action's `aws-region` applies).
   */
  region?: string
  /** Account the table's stack is pinned to; absent for an environment-agnostic stack (the credentials' account). */
  account?: string
  /** An AWS::DynamoDB::GlobalTable's replica regions in the template's order, resolved (absent for a Table). */
  replicaRegions?: string[]
  /** Why the replica regions of a GlobalTable could not be resolved (then replicaRegions is absent). */
  replicaRegionsUnresolved?: string
  /** Size of its top-level stack's synthesized template as compact JSON (what an import sends, give or take the tables). */
  stackTemplateBytes?: number
  /** Its top-level stack's CDK bootstrap assets bucket (StackSpec.assetsBucket), placeholders as written. */
  assetsBucket?: string
}

export interface Discovery {
  source: 'cloud-assembly' | 'template' | 'tables'
  stacks: StackSpec[]
  tables: TableSpec[]
  /** Human notes, e.g. "skipped 2 tables without TableName". */
  notes: string[]
  /**
   * Notes that mean the check may be wrong or incomplete (a name that could not be resolved, a
   * nested stack without a local template, a `tables` name no template declares): shown as
   * warnings, not only as notes.
   */
  warnings: string[]
}

// ───────────────────────────── inspect ─────────────────────────────

export interface KeyElement {
  name: string
  type: 'HASH' | 'RANGE'
}

export type ScalarAttrType = 'S' | 'N' | 'B'

export interface IndexConfig {
  name: string
  keys: KeyElement[]
  projection: { type: string; nonKeyAttributes?: string[] }
  throughput?: { read: number; write: number }
}

/** A table's configuration in one normalised form (used for live tables AND the template's wish). */
export interface TableConfig {
  tableName: string
  keys: KeyElement[]
  /** Types of the attributes that appear in any key schema. */
  attributeTypes: Record<string, ScalarAttrType>
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED'
  throughput?: { read: number; write: number }
  gsis: IndexConfig[]
  lsis: IndexConfig[]
  sse: { enabled: boolean; type?: string; kmsKeyId?: string }
  stream: { enabled: boolean; viewType?: string }
  ttl: { enabled: boolean; attributeName?: string }
  pitr: boolean
  deletionProtection: boolean
  tableClass: string
  /** User tags (aws:* keys excluded). */
  tags: Record<string, string>
}

export interface LiveTable extends TableConfig {
  arn: string
  status: string
  /** DescribeTable's estimate (refreshed ~6 h); never used to decide emptiness. */
  itemCountEstimate: number
  sizeBytesEstimate: number
  /** All tags including aws:cloudformation:* ones. */
  allTags: Record<string, string>
  streamArn?: string
  /**
   * TableConfig fields that could not be read (emulator gap, AccessDenied) and hold their default
   * value; compare should not report differences on them. Absent when everything was read.
   */
  unreadable?: Array<keyof TableConfig>
  /** Set when the table is a replica of a global table (absent for a single-region table). */
  globalTable?: GlobalTableInfo
  /**
   * Why it is unknown whether the table replicates to other regions (DescribeGlobalTable failed);
   * such a table is treated as replicated: never deleted.
   */
  replicationUnknown?: string
}

/** The global table a live table is a replica of. */
export interface GlobalTableInfo {
  /** `2019.11.21` (Current, DescribeTable's GlobalTableVersion) or `2017.11.29` (Legacy, DescribeGlobalTable). */
  version: string
  /** Every region holding a replica, this table's own region included, sorted. */
  regions: string[]
  /** The replicas in the other regions as DescribeTable shows them there (for the import template); a region missing here could not be read. */
  replicas?: Record<string, LiveTable>
}

/**
 * Who owns an existing table: the expected stack, another live stack, nobody (retained by a stack
 * that is gone or no longer lists it; unmanaged), or unknown (a read that could have named an owner
 * failed; never treated as an orphan). null when the table does not exist.
 */
export type Owner = 'stack' | `other-stack:${string}` | 'retained' | 'unmanaged' | 'unknown' | null

export interface StackState {
  name: string
  /** Region the stack was read in (absent in tests that need no region). */
  region?: string
  exists: boolean
  stackId?: string
  status?: string
  statusReason?: string
}

export type DifferenceSeverity = 'blocking' | 'converges' | 'dangerous'

export interface Difference {
  /** CloudFormation property name (or a path like `KeySchema`, `GlobalSecondaryIndexes`). */
  property: string
  severity: DifferenceSeverity
  live: string
  template: string
  /** One human sentence. */
  message: string
}

export interface Finding {
  spec: TableSpec
  tableName: string
  /** Region the table was (or, when not checkable, would have been) inspected in. */
  region: string
  /**
   * Why the table was not inspected at all: its stack is pinned to another account than the
   * credentials' (or the credentials' account is unknown). Then exists is false and nothing was read.
   */
  notCheckable?: string
  /**
   * Tables of the same name in the other replica regions of a template AWS::DynamoDB::GlobalTable that are
   * not replicas of this table: the deploy cannot create its replicas there.
   */
  replicaOrphans?: ReplicaOrphan[]
  exists: boolean
  live: LiveTable | null
  owner: Owner
  /** The stack named by the retained table's aws:cloudformation:stack-name tag. */
  retainedFrom?: string
  /** Owner 'unknown': which reads failed and the permissions they need. */
  ownerUnknownBecause?: string
  /** From Scan Limit=1; null when the table does not exist or could not be scanned. */
  hasData: boolean | null
  /** The expected stack's state (null when no stack is expected). */
  stack: StackState | null
  /** Template vs live, judged for the table kept in place (import, none); empty when either side is missing. */
  differences: Difference[]
  /**
   * The same comparison for a table that is deleted and created anew by the deploy from the
   * template: `restored` when its items are then restored into it (backup-restore; a `blocking`
   * difference there means no item could be restored), `deleted` when they are not (delete).
   * Absent when either side is missing.
   */
  recreated?: { restored: Difference[]; deleted: Difference[] }
  /** Problems met while inspecting (e.g. AccessDenied on one call), shown in the report. */
  problems: string[]
  /**
   * The table the template defines, as DynamoDB ImportTable can create it (the server-side path of
   * backup-restore), or why it cannot (compare/import-table.ts). Absent when no template describes
   * the table statically.
   */
  importTable?: ImportTableAssessment
  /**
   * A server-side restore of this table that an earlier run left unfinished (the table deleted, its
   * copy for ImportTable in S3 owed: inspect/owed-restores.ts), with what its import record says:
   * inspect/server-side-resume.ts. Absent when there is none.
   */
  serverSideResume?: ServerSideResume
  /**
   * Set when the table's owed restore could not be looked up (inspect/server-side-resume.ts): the
   * table might be one an unfinished server-side restore created, so it is not deleted.
   */
  owedRestoreUnknown?: string
  /**
   * The restore this table (the live instance) is owed and has not been given (inspect/owed-restores.ts,
   * state 'owed'): the action never deletes it (plan.ts owedRestoreBlocker). Absent when none.
   */
  owedRestore?: PendingRestore
}

/** An unfinished server-side restore: the set in S3, the import an earlier run started from it. */
export interface ServerSideResume {
  bucket: string
  /** The set's folder (ending in '/') and its timestamp. */
  folder: string
  timestamp: string
  manifestKey: string
  manifestUri: string
  /** The import the set's record names, as DescribeImport shows it now; null when none was started (or found). */
  import: { arn: string; status: string; startTime: string | null; tableArn: string | null } | null
  /** When the earlier run requested its ImportTable (the set's import record); null when it never did. */
  importRequestedAt: string | null
  /** The live table: none, the one that import created, or another (made by someone else). */
  live: 'absent' | 'from-import' | 'other'
  /** The table that import created was verified against the copy by an earlier run (its created-by-import tag). */
  verified: boolean
  /** The set's on-demand backup, when one was taken (the owed state names it too). */
  backupArn: string | null
}

/** What ImportTable's TableCreationParameters can hold: the template's table without what it cannot create. */
export interface ImportTableSpec {
  tableName: string
  /** Primary key, HASH first, each with its attribute type. */
  keys: Array<KeyElement & { attributeType: ScalarAttrType }>
  /** Types of every attribute in the primary key and the GSIs' keys (AttributeDefinitions). */
  attributeTypes: Record<string, ScalarAttrType>
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED'
  throughput?: { read: number; write: number }
  gsis: IndexConfig[]
  sse: { enabled: boolean; type?: string; kmsKeyId?: string }
}

export interface ImportTableAssessment {
  /** null when ImportTable cannot create the template's table (`cannot` says why). */
  spec: ImportTableSpec | null
  /** Why not, one sentence each (a local secondary index, a value only known at deploy time, …). */
  cannot: string[]
  /** The template enables a stream on the table (a runner restore would deliver every item to it again). */
  streamEnabled: boolean
  /** The template's write capacity when it is PROVISIONED (the runner path writes no faster). */
  provisionedWrite?: number
}

/** A table in another region that stands where a template global table's replica would go. */
export interface ReplicaOrphan {
  region: string
  /** Its own replica regions when it is a global table itself. */
  replicaRegions?: string[]
  /** Set when the table could not be described there (then it may or may not exist). */
  problem?: string
}

export interface Inspection {
  findings: Finding[]
  stacks: StackState[]
  /** The action's `aws-region`, for the report. */
  region: string
  /** Every region tables were inspected in, sorted. */
  regions?: string[]
}

// ───────────────────────────── plan ─────────────────────────────

export type Decision = 'none' | 'import' | 'backup-restore' | 'delete' | 'blocked'

export interface Policy {
  stage: string
  strategy: Strategy
  /**
   * The run is protected, so no table is ever deleted: the stage matches protected-stages, or the
   * credentials' account is in protected-accounts (or unknown while protected-accounts is set).
   */
  protectedStage: boolean
  /** Why it is protected ("stage prod is protected (protected-stages)"); set when protectedStage. */
  protectedBecause?: string
  allowDataLoss: boolean
  /** Whether an on-demand backup is taken before destructive steps (for the reasons' wording). */
  awsBackup?: boolean
  /** Whether `s3-bucket` is set (a verified copy in S3 before a delete). */
  s3Bucket?: boolean
  /** The `s3-bucket` input (`bucket/prefix`) and its region, where large import templates may go. */
  templateBucket?: { name: string; region: string }
  /** The `copy-mode` input (default `auto`). */
  copyMode?: CopyMode
  /** The `server-side-threshold-bytes` input (plan/copy-path.ts has the default). */
  serverSideThresholdBytes?: number
}

/** How a backup-restore entry copies the items: through the runner, or server-side (export + ImportTable + adopt). */
export type CopyPath = 'runner' | 'server-side'

/** One node of the decision tree walked for a table; rendered as a mermaid flowchart. */
export interface DecisionStep {
  question: string
  answer: string
}

export interface PlanEntry {
  table: string
  /** Region of the table (absent in plans built without one). */
  region?: string
  /** Why the table could not be checked with these credentials (then `exists` is false: nothing was read). */
  notCheckable?: string
  stack: string | null
  logicalId: string | null
  exists: boolean
  owner: Owner
  hasData: boolean | null
  differences: Difference[]
  decision: Decision
  reasons: string[]
  /** The path through the decision tree (not part of the `plan` output). */
  path: DecisionStep[]
  /** True when the table collides with the deploy (exists and is not owned by the expected stack). */
  orphan: boolean
  /** For `backup-restore`: the path its items take (the reasons say why). */
  copy?: CopyPath
  /**
   * For `none`: the table an earlier run's server-side restore created by ImportTable, verified and
   * imported into this stack, but whose restore it did not record (it stopped in between). The
   * S3 copy (its manifest.json URI) whose restore this run records (execute/server-side.ts).
   */
  recordRestore?: string
}

export interface Plan {
  policy: Policy
  entries: PlanEntry[]
  /** Stack-level notes such as "stack pr-5-db is ROLLBACK_COMPLETE: delete it before deploying". */
  notes: string[]
  /**
   * Tables of the deploy whose names could not be resolved: the check could not see them, so a
   * run that acts is blocked (a deploy may fail on them); report mode lists them as a warning.
   */
  unresolved?: UnresolvedTable[]
}

/** Whose credentials the run has (STS GetCallerIdentity). */
export interface CallerIdentity {
  account: string
  /** The caller's ARN (for an assumed role: `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`). */
  arn: string
  partition: string
  /**
   * GetCallerIdentity's UserId: `ROLEID:SESSION` for an assumed role, the user's unique id for an
   * IAM user. Exactly what the `aws:userid` condition key holds, so a policy can name this very
   * session (`aws:PrincipalArn` of a role session is the role's ARN, path included, which the
   * assumed-role ARN above lacks).
   */
  userId: string
}

/** What the read-only part of a run found (discover → inspect → compare → plan): the input of execute and report. */
export interface Check {
  discovery: Discovery
  inspection: Inspection
  plan: Plan
  /** The credentials' identity; null when GetCallerIdentity failed (Check.identityProblem says why). */
  identity: CallerIdentity | null
  identityProblem?: string
}

// ───────────────────────────── execute / report ─────────────────────────────

/** A table of the deploy whose physical name could not be resolved statically. */
export interface UnresolvedTable {
  logicalId: string
  stack: string
  reason: string
  /** The template's TableName value (JSON), e.g. `{"Fn::Sub":"${AWS::StackName}-${SomeParameter}"}`. */
  expression?: string
}

/** A template and resource list written for a CloudFormation IMPORT change set. */
export interface ImportArtifact {
  stack: string
  templatePath: string
  /** `s3://…` of the import template where it was uploaded (s3-bucket, or the CDK bootstrap bucket); absent when it went inline. */
  templateS3Uri?: string
  templateBody: string
  resourcesToImport: unknown
}

export type Outcome = 'nothing-to-do' | 'resolved' | 'dry-run' | 'blocked' | 'restored' | 'failed'

export interface ExecutionStep {
  table: string
  action: string
  status: 'done' | 'skipped' | 'failed' | 'planned'
  detail: string
  /** How long the step took (wall time), where it was measured. */
  durationMs?: number
}

/** Where a restore loads a backup from: this run's export, the S3 copy, or the on-demand backup. */
export type RestoreSource = 's3' | 'backup-dir' | 'aws-backup'

/** A table whose data the action took away and has not put back yet (the `pending-restores` output). */
export interface PendingRestore {
  table: string
  /** Where the restore phase will load it from. */
  source: RestoreSource
  /** The S3 URI of the manifest, the manifest's path in backup-dir, or the on-demand backup's ARN. */
  backup: string
  /** When the backup was taken, ISO 8601. */
  takenAt: string
}

/**
 * One of the action's own on-demand backups that `aws-backup-retention-days` lets go (deleted by the
 * run, or in a dry run: that a real run would delete).
 */
export interface RetiredBackup {
  table: string
  region: string
  arn: string
  /** The backup's name (`orphan-guard_<timestamp>_<purpose>_<stage>`). */
  name: string
  /** When it was taken, ISO 8601 (the later of its name's timestamp and its creation time). */
  takenAt: string
  /** Why nothing is lost with it: its restore is verified, or nothing is owed from it and why. */
  why: string
}

export interface RunResult {
  outcome: Outcome
  plan: Plan | null
  steps: ExecutionStep[]
  backupManifests: string[]
  backupArns: string[]
  restoredItems: number
  /**
   * Restores still owed after this run, found in AWS (undefined when the run stopped before it
   * could look). The `restore-needed` and `pending-restores` outputs.
   */
  pendingRestores?: PendingRestore[]
  /**
   * What the search for owed restores found besides them: backups of another stage, region or
   * account (never loaded), damaged manifests, leftover temporary tables, calls that failed.
   */
  restoreNotes?: string[]
  /**
   * The action's old on-demand backups this run deleted (`aws-backup-retention-days`); in a dry run
   * those a real run would delete. Undefined when the run did not look (report, restore phase, 0).
   */
  deletedBackups?: RetiredBackup[]
  /** What state things were left in and how to go on (set on failure/blocked). */
  stateNote?: string
}

/** Injected logger so pure-ish modules never import @actions/core. */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
  /** A notice annotation in the run's summary (falls back to info where there is none). */
  notice?(message: string): void
  /**
   * Runs `fn` as one stage of the log (discover, inspect, plan, one table's execution, report): a
   * collapsible `core.group` in Actions, a heading in the CLI. Groups do not nest. Absent: `fn` runs
   * without one (see inGroup).
   */
  group?<T>(name: string, fn: () => Promise<T>): Promise<T>
  /**
   * Where the progress of long copies (export, restore, verification scans) goes: the CLI draws bars
   * from it on a terminal. Absent: data/progress.ts logs one line every few seconds through `info`.
   */
  progress?: ProgressSink
}

/** Runs `fn` as a stage of the log when the logger has groups, else just runs it. */
export function inGroup<T>(logger: Logger, name: string, fn: () => Promise<T>): Promise<T> {
  return logger.group ? logger.group(name, fn) : fn()
}

/** One copy in progress: what it is, how far it got, how fast and how long it still takes. */
export interface ProgressUpdate {
  task: 'export' | 'restore' | 'verify'
  table: string
  /** What a log line or a bar calls it, e.g. `Restore pr-5-orders`. */
  label: string
  /** Items done, counting those an earlier run did (a resumed restore starts above 0). */
  done: number
  /** Items in all, null when unknown (an export knows only DynamoDB's estimate, if any). */
  total: number | null
  elapsedMs: number
  /** Items per second since this run started the copy. */
  rate: number
  /** Milliseconds left at the current rate, null when unknown. */
  etaMs: number | null
  /** `done` and `stopped` (a failure or an interruption) are the last update of a copy. */
  state: 'running' | 'done' | 'stopped'
}

/** Takes progress updates: log lines in Actions, bars redrawn in place on a terminal. */
export interface ProgressSink {
  /** Least time between two updates of a running copy (the last one always comes). */
  readonly intervalMs: number
  update(progress: ProgressUpdate): void
}

// ───────────────────────────── collaborators ─────────────────────────────

export type Sleep = (ms: number) => Promise<void>

/** Time as the code sees it. Tests hand in a clock whose sleep only moves it forward, so nothing waits. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now: () => number
  sleep: Sleep
}

/** The real clock; only the entry points (main.ts, the bench) hand it in. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * What to undo when the process is told to stop (SIGINT/SIGTERM, e.g. a cancelled job) before the
 * work that would undo it is reached: main.ts runs every hook still registered, then exits.
 */
export interface StopHooks {
  /** Registers `undo`; the returned function unregisters it (call it once the undo is no longer owed). */
  add(name: string, undo: () => Promise<void>): () => void
}

/** How long to wait for AWS to finish something, how often to look, and the clock to do it by. */
export interface WaitOptions extends Clock {
  /** Give up after this long (what was started is left as it is and the error says so). */
  maxWaitMs: number
  pollMs: number
}

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

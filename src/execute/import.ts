/**
 * Strategy `import`: adopt orphaned tables into their stack with ONE CloudFormation IMPORT change set per stack.
 * No data moves and nothing changes on the tables; the deploy that follows converges their configuration.
 *
 * Steps (executeImports runs them in this order; each stops the import by throwing an internal ImportStop):
 * refuse (nothing created) → buildTemplate → placeOf (inline, or an S3 object for a template over 51,200 bytes) →
 * changeSetRequest (built once) → writeArtifact (also in dry-run) → upload (S3 only, checked before CloudFormation
 * gets the URL) → createAndWait (CreateChangeSet, CREATE_COMPLETE; a FAILED change set is never executed) →
 * execute → followImport (IMPORT_COMPLETE) → confirm (the stack lists every table).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  CloudFormationServiceException,
  type CreateChangeSetCommandInput
} from '@aws-sdk/client-cloudformation'
import type { S3Client } from '@aws-sdk/client-s3'
import {
  CloudFormationWaitError,
  TEMPLATE_BODY_LIMIT_BYTES,
  confirmOwned,
  createImportChangeSet,
  deleteChangeSet,
  executeChangeSet,
  getDeployedTemplateBody,
  importChangeSetInput,
  minutes,
  waitForChangeSet,
  waitForImport
} from '../aws/cloudformation-import.js'
import { parseTemplate } from '../discover/template.js'
import { OperationError, errorMessage } from '../errors.js'
import { isNewStack, stackRefusal } from '../plan/stack-state.js'
import type {
  CfnTemplate,
  Clock,
  ExecutionStep,
  LiveTable,
  Logger,
  StackState,
  TableSpec,
  WaitOptions
} from '../types.js'
import {
  ImportRefusal,
  buildImportTemplate,
  previousParameters,
  requiredCapabilities,
  type ImportTemplate,
  type ResourceToImport
} from './import-template.js'
import type { Sender } from '../aws/clients.js'
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import {
  placeTemplate,
  placeUri,
  uploadTemplate,
  type TemplatePlace,
  type TemplateStores
} from './template-store.js'

/** What executeImports needs of a table; a Finding fits. */
export interface ImportCandidate {
  tableName: string
  spec: TableSpec
  live: LiveTable | null
  /** The region the table was described in (a GlobalTable's import names it among its replicas). */
  region?: string
  /** Set when the table could not be checked with these credentials: it is never imported. */
  notCheckable?: string
}

export interface ImportLimits {
  /** How long a change set may take to reach CREATE_COMPLETE. */
  changeSetMaxWaitMs: number
  /** How long the executed import may take to reach IMPORT_COMPLETE. */
  importMaxWaitMs: number
  pollMs: number
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  changeSetMaxWaitMs: 5 * 60_000,
  importMaxWaitMs: 30 * 60_000,
  pollMs: 5_000
}

export interface ExecuteImportsInput {
  stack: StackState
  /** Top-level stack the tables go into. */
  stackName: string
  tables: ImportCandidate[]
  dryRun: boolean
  /** Folder the import template and ResourcesToImport are written to (the action's backup-dir). */
  artifactDir: string
  /** CloudFormation execution role for the change set (RoleARN), placeholders already filled in. */
  roleArn?: string
  /** Where a template too large to send inline may go (TemplateURL); without it such an import is refused. */
  templateStores?: TemplateStores
  /** The stack's region (the TemplateURL's bucket must be in it). */
  region?: string
  /** Keep a change set that ended FAILED (keep-failed-change-sets); by default it is deleted. */
  keepFailedChangeSets?: boolean
  logger: Logger
  clock: Clock
  limits?: Partial<ImportLimits>
}

export interface ImportTableResult {
  table: string
  logicalId: string | null
  /** done: the stack owns it; planned: dry-run; blocked: refused, nothing created; skipped: another table of the stack was refused. */
  status: 'done' | 'failed' | 'blocked' | 'skipped' | 'planned'
  detail: string
}

/** One AWS call the import makes (dry-run lists them instead of making the mutating ones). */
export interface PlannedCall {
  command:
    | 'PutObject'
    | 'CreateChangeSet'
    | 'DescribeChangeSet'
    | 'DeleteChangeSet'
    | 'ExecuteChangeSet'
    | 'DescribeStacks'
    | 'ListStackResources'
  input: Record<string, unknown>
  note: string
}

export interface ImportResult {
  stack: string
  outcome: 'resolved' | 'dry-run' | 'blocked' | 'failed'
  tables: ImportTableResult[]
  /** True when the change set creates the stack. */
  newStack: boolean
  changeSetId: string | null
  stackId: string | null
  /** The JSON file holding the import template, ResourcesToImport and the CreateChangeSet request. */
  templatePath: string | null
  /** `s3://…` of the import template once uploaded and checked (TemplateURL); null when it went inline or not yet. */
  templateS3Uri?: string | null
  /** Dry-run: the calls a real run would make, in order. Otherwise the mutating calls that were made. */
  calls: PlannedCall[]
  /** Why the import was refused (outcome blocked). */
  reasons: string[]
  /** Set when outcome is failed; `error.state` says what was left in which state. */
  error: OperationError | null
  /** What state things are in and how to go on (blocked and failed). */
  stateNote: string | null
  /** One step per table, for RunResult.steps. */
  steps: ExecutionStep[]
}

/** Why this table cannot be imported into this stack; null when it can. */
export function tableRefusal(candidate: ImportCandidate, stackName: string): string | null {
  const { tableName: table, spec, live } = candidate
  if (spec.stack !== stackName)
    return `table ${table} belongs to stack ${spec.stack ?? '(none)'}, not ${stackName}`
  if (spec.nestedPath.length > 0) {
    return `table ${table} is declared in nested stack ${spec.nestedPath.join('/')} of ${stackName}: importing into a nested stack is not supported; use strategy backup-restore or import it by hand`
  }
  if (candidate.notCheckable)
    return `table ${table} cannot be checked with these credentials: ${candidate.notCheckable}`
  if (!spec.logicalId)
    return `table ${table} has no logical id in the synthesized template, so ResourcesToImport cannot name it`
  if (!live) return `table ${table} does not exist: there is nothing to import`
  if (live.status !== 'ACTIVE')
    return `table ${table} is ${live.status}; an import needs an ACTIVE table: re-run when it is ACTIVE`
  return null
}

/** `2026-11-26T08:13:32.123Z` → `orphan-guard-import-20261126T081332123Z` (a valid change set name and client token). */
export function changeSetNameAt(epochMs: number): string {
  return `orphan-guard-import-${new Date(epochMs).toISOString().replace(/[-:.]/g, '')}`
}

/** CreateChangeSet's Description holds at most 1,024 characters. */
export function changeSetDescription(tableNames: string[]): string {
  const text = `DynamoDB Orphan Guard: import ${tableNames.join(', ')}`
  return text.length <= 1024 ? text : `${text.slice(0, 1021)}...`
}

function artifactPath(artifactDir: string, stackName: string): string {
  return path.join(artifactDir, `import-${stackName.replace(/[^A-Za-z0-9-]/g, '_')}.json`)
}

function stepsOf(tables: ImportTableResult[]): ExecutionStep[] {
  return tables.map(t => ({
    table: t.table,
    action: 'import',
    status: t.status === 'blocked' ? 'skipped' : t.status,
    detail: t.detail
  }))
}

/** One import in progress: the input, its collaborators and the result filled in step by step. */
interface ImportRun {
  cfn: Sender<CloudFormationClient>
  input: ExecuteImportsInput
  stackName: string
  newStack: boolean
  limits: ImportLimits
  /** `templatePath`, `changeSetId`, `stackId` and `calls` are set as the steps reach them. */
  result: ImportResult
}

/** A step ended the import: refused before any change set (`blocked`) or failed (`failed`). Internal to this module. */
class ImportStop extends Error {
  constructor(
    readonly stop:
      | { outcome: 'blocked'; reasons: string[]; perTable?: Map<string, string> }
      | { outcome: 'failed'; message: string; state: string; cause: unknown }
  ) {
    super(stop.outcome === 'blocked' ? stop.reasons.join('. ') : stop.message)
    this.name = 'ImportStop'
  }
}

const blocked = (reasons: string[], perTable?: Map<string, string>): ImportStop =>
  new ImportStop({ outcome: 'blocked', reasons, perTable })
const failed = (message: string, state: string, cause: unknown): ImportStop =>
  new ImportStop({ outcome: 'failed', message, state, cause })

const untouched = (stackName: string): string =>
  `the tables are untouched and still outside stack ${stackName}`

/**
 * Imports the tables of one stack with one IMPORT change set. Never throws for AWS or refusal outcomes: it returns
 * `blocked` (refused before any change set) or `failed` (with an OperationError whose `state` says what was left).
 */
export async function executeImports(
  clients: { cloudformation: Sender<CloudFormationClient>; s3?: Sender<S3Client> },
  input: ExecuteImportsInput
): Promise<ImportResult> {
  const run = startRun(clients.cloudformation, input)
  try {
    refuse(run)
    const { deployed, built } = await buildTemplate(run)
    const changeSetName = changeSetNameAt(run.input.clock.now())
    const place = placeOf(run, built, changeSetName)
    const request = changeSetRequest(run, deployed, built, changeSetName, place)
    await writeArtifact(run, built, request, place)
    const createCall = createChangeSetCall(run, request)
    const uploadCall = place.kind === 's3' ? putObjectCall(place) : null
    if (input.dryRun) {
      run.result.calls = [
        ...(uploadCall ? [uploadCall] : []),
        createCall,
        ...followingCalls(request, input.keepFailedChangeSets === true)
      ]
      const where =
        place.kind === 's3' ? ` (its ${place.bytes}-byte template would go to ${placeUri(place)})` : ''
      return finish(
        run,
        'dry-run',
        allTables(
          run,
          'planned',
          t =>
            `would import ${t.tableName} into ${run.stackName} as ${t.spec.logicalId ?? '?'}${where} (dry-run: nothing was changed)`
        )
      )
    }
    if (place.kind === 's3' && uploadCall) await upload(run, clients.s3, place, built.body, uploadCall)
    const changeSetId = await createAndWait(run, request, createCall)
    await execute(run, changeSetId, `${request.ChangeSetName}-execute`)
    await followImport(run, changeSetId)
    await confirm(run, changeSetId)
    return finish(
      run,
      'resolved',
      allTables(
        run,
        'done',
        t =>
          `imported into ${run.stackName} as ${t.spec.logicalId ?? '?'} with its live configuration (change set ${changeSetId})`
      )
    )
  } catch (err) {
    if (!(err instanceof ImportStop)) throw err
    return err.stop.outcome === 'blocked'
      ? block(run, err.stop.reasons, err.stop.perTable)
      : fail(run, err.stop.message, err.stop.state, err.stop.cause)
  }
}

function startRun(cfn: Sender<CloudFormationClient>, input: ExecuteImportsInput): ImportRun {
  const newStack = isNewStack(input.stack)
  return {
    cfn,
    input,
    stackName: input.stackName,
    newStack,
    limits: { ...DEFAULT_IMPORT_LIMITS, ...input.limits },
    result: {
      stack: input.stackName,
      outcome: 'blocked',
      tables: [],
      newStack,
      changeSetId: null,
      stackId: newStack ? null : (input.stack.stackId ?? null),
      templatePath: null,
      calls: [],
      reasons: [],
      error: null,
      stateNote: null,
      steps: []
    }
  }
}

function finish(run: ImportRun, outcome: ImportResult['outcome'], tables: ImportTableResult[]): ImportResult {
  run.result.outcome = outcome
  run.result.tables = tables
  run.result.steps = stepsOf(tables)
  return run.result
}

function allTables(
  run: ImportRun,
  status: ImportTableResult['status'],
  detail: (t: ImportCandidate) => string
): ImportTableResult[] {
  return run.input.tables.map(t => ({
    table: t.tableName,
    logicalId: t.spec.logicalId,
    status,
    detail: detail(t)
  }))
}

/** Outcome `blocked`: every table refused for its own reason, or skipped because another table of the stack was. */
function block(run: ImportRun, reasons: string[], perTable?: Map<string, string>): ImportResult {
  const { stackName, result } = run
  result.reasons = reasons
  result.stateNote = `Nothing was changed: no change set was created for stack ${stackName}. ${reasons.join('. ')}.`
  for (const r of reasons) run.input.logger.warning(`import into ${stackName} refused: ${r}`)
  const first = reasons[0] ?? 'refused'
  return finish(
    run,
    'blocked',
    run.input.tables.map(t => {
      const own = perTable?.get(t.tableName)
      if (own) return { table: t.tableName, logicalId: t.spec.logicalId, status: 'blocked', detail: own }
      return {
        table: t.tableName,
        logicalId: t.spec.logicalId,
        status: perTable ? 'skipped' : 'blocked',
        detail: perTable
          ? `not imported: another table of stack ${stackName} cannot be imported, and a stack gets one import for all its tables`
          : first
      }
    })
  )
}

/** Outcome `failed`: every table failed with `message`; `state` says what was left in which state. */
function fail(run: ImportRun, message: string, state: string, cause: unknown): ImportResult {
  run.result.error = new OperationError(message, state, { cause })
  run.result.stateNote = state
  run.input.logger.warning(`import into ${run.stackName} failed: ${message} ${state}`)
  return finish(
    run,
    'failed',
    allTables(run, 'failed', () => message)
  )
}

/** Step 1, no I/O: the refusals of the stack and of every table. @throws ImportStop blocked */
function refuse(run: ImportRun): void {
  const { tables, stack } = run.input
  if (tables.length === 0) throw blocked(['no tables were given to import'])
  const stackReason = stackRefusal(stack, run.stackName)
  if (stackReason) throw blocked([stackReason])
  const perTable = new Map<string, string>()
  for (const t of tables) {
    const reason = tableRefusal(t, run.stackName)
    if (reason) perTable.set(t.tableName, reason)
  }
  if (perTable.size > 0) throw blocked([...perTable.values()], perTable)
}

/**
 * Step 2: the deployed template (GetTemplate; none for a new stack) plus the tables with their live configuration.
 * Expects refuse() to have passed (every table has a logical id and a live description).
 * @throws ImportStop failed when GetTemplate fails or its template cannot be parsed, blocked on an ImportRefusal.
 */
async function buildTemplate(
  run: ImportRun
): Promise<{ deployed: CfnTemplate | null; built: ImportTemplate }> {
  const { stack, tables } = run.input
  let deployed: CfnTemplate | null = null
  if (!run.newStack) {
    try {
      const body = await getDeployedTemplateBody(run.cfn, stack.stackId ?? run.stackName)
      deployed = parseTemplate(`deployed template of stack ${run.stackName}`, body)
    } catch (err) {
      throw failed(
        `cannot read the deployed template of stack ${run.stackName}: ${errorMessage(err)}`,
        `Nothing was changed: no change set was created; the tables are untouched and still outside stack ${run.stackName}. Fix the cause (GetTemplate needs cloudformation:GetTemplate) and re-run.`,
        err
      )
    }
  }
  try {
    const built = buildImportTemplate({
      deployedTemplate: deployed,
      tables: tables.map(t => ({
        logicalId: t.spec.logicalId as string,
        live: t.live as LiveTable,
        deletionPolicy: t.spec.deletionPolicy,
        updateReplacePolicy: t.spec.updateReplacePolicy,
        resourceType: t.spec.resourceType,
        ...(t.region ? { region: t.region } : {}),
        ...(t.spec.replicaRegions ? { replicaRegions: t.spec.replicaRegions } : {})
      }))
    })
    return { deployed, built }
  } catch (err) {
    if (err instanceof ImportRefusal) throw blocked([err.message])
    throw err
  }
}

/**
 * Step 3a, no I/O: where the template goes: inline up to 51,200 bytes, else an S3 object in the stack's region
 * (template-store.ts). @throws ImportStop blocked when it needs S3 and no bucket is known (or it is too large).
 */
function placeOf(run: ImportRun, built: ImportTemplate, changeSetName: string): TemplatePlace {
  const bytes = Buffer.byteLength(built.body, 'utf8')
  const stores: TemplateStores = run.input.templateStores ?? {
    s3Bucket: null,
    s3BucketRegion: '',
    assetsBucket: null,
    stage: ''
  }
  const place = placeTemplate(
    bytes,
    { stackName: run.stackName, region: run.input.region ?? stores.s3BucketRegion, changeSetName },
    stores
  )
  if (place.kind === 'refused') throw blocked([place.reason])
  return place
}

/**
 * Step 3b, no I/O: THE CreateChangeSet request, built once. The artifact records it, dry-run shows it and a real run
 * sends this very object.
 */
function changeSetRequest(
  run: ImportRun,
  deployed: CfnTemplate | null,
  built: ImportTemplate,
  changeSetName: string,
  place: TemplatePlace
): CreateChangeSetCommandInput {
  return importChangeSetInput({
    stackName: run.stackName,
    changeSetName,
    ...(place.kind === 's3' ? { templateUrl: place.url } : { templateBody: built.body }),
    resourcesToImport: built.resourcesToImport,
    newStack: run.newStack,
    capabilities: deployed ? requiredCapabilities(deployed) : [],
    parameters: previousParameters(deployed),
    description: changeSetDescription(run.input.tables.map(t => t.tableName)),
    ...(run.input.roleArn ? { roleArn: run.input.roleArn } : {})
  })
}

/**
 * Step 4: the artifact file (template, ResourcesToImport, the request), written before anything changes, also in
 * dry-run. Sets result.templatePath. @throws ImportStop failed when the file cannot be written.
 */
async function writeArtifact(
  run: ImportRun,
  built: ImportTemplate,
  request: CreateChangeSetCommandInput,
  place: TemplatePlace
): Promise<void> {
  const { artifactDir, logger } = run.input
  const file = artifactPath(artifactDir, run.stackName)
  const uploadTo = place.kind === 's3' ? { s3: placeUri(place), via: place.via, bytes: place.bytes } : null
  try {
    await mkdir(artifactDir, { recursive: true })
    await writeFile(
      file,
      `${JSON.stringify(artifact(run.stackName, run.newStack, built.resourcesToImport, built.template, request, uploadTo), null, 2)}\n`
    )
  } catch (err) {
    throw failed(
      `cannot write the import template to ${file}: ${errorMessage(err)}`,
      `Nothing was changed: no change set was created; the tables are untouched. Make ${artifactDir} writable and re-run.`,
      err
    )
  }
  run.result.templatePath = file
  logger.info(
    `import template for ${run.stackName} written to ${file} (${Buffer.byteLength(built.body)} bytes, ${built.resourcesToImport.length} table(s))` +
      (place.kind === 's3'
        ? `; it goes to ${placeUri(place)} (${place.via}${place.via === 's3-bucket' ? '' : `: it is over ${TEMPLATE_BODY_LIMIT_BYTES} bytes`}) and CreateChangeSet gets its TemplateURL`
        : '')
  )
}

function putObjectCall(place: Extract<TemplatePlace, { kind: 's3' }>): PlannedCall {
  return {
    command: 'PutObject',
    input: { Bucket: place.bucket, Key: place.key, ChecksumSHA256: '<SHA-256 of the import template>' },
    note: `the ${place.bytes}-byte import template into the ${place.via}${place.via === 's3-bucket' ? '' : ` (over ${TEMPLATE_BODY_LIMIT_BYTES} bytes)`}, checked before CreateChangeSet gets its TemplateURL`
  }
}

/**
 * Step 5a: the template to S3, checked (checksum or read back) before CloudFormation gets its URL.
 * @throws ImportStop failed (nothing was changed: no change set exists yet).
 */
async function upload(
  run: ImportRun,
  s3: Sender<S3Client> | undefined,
  place: Extract<TemplatePlace, { kind: 's3' }>,
  body: string,
  call: PlannedCall
): Promise<void> {
  run.result.calls.push(call)
  const where = placeUri(place)
  try {
    if (!s3) throw new Error('no S3 client was given for the upload')
    await uploadTemplate(s3, place, body)
    run.result.templateS3Uri = where
  } catch (err) {
    throw failed(
      `uploading the import template of stack ${run.stackName} to ${where} failed: ${errorMessage(err)}`,
      `Nothing was changed: no change set was created; ${untouched(run.stackName)}. The ${place.via} needs s3:PutObject and s3:GetObject on ${where} for these credentials (CloudFormation reads it with them too); fix the cause and re-run.`,
      err
    )
  }
  run.input.logger.info(
    `import template of ${run.stackName} uploaded to ${where} and checked (${place.bytes} bytes)`
  )
}

function createChangeSetCall(run: ImportRun, request: CreateChangeSetCommandInput): PlannedCall {
  return {
    command: 'CreateChangeSet',
    input: { ...request },
    note: run.newStack
      ? `creates stack ${run.stackName} (REVIEW_IN_PROGRESS until executed)`
      : `imports into stack ${run.stackName}`
  }
}

/** Dry-run: the calls a real run makes after CreateChangeSet, in order. */
function followingCalls(request: CreateChangeSetCommandInput, keepFailed: boolean): PlannedCall[] {
  const calls: PlannedCall[] = [
    {
      command: 'DescribeChangeSet',
      input: { ChangeSetName: '<Id returned by CreateChangeSet>' },
      note: 'poll until CREATE_COMPLETE; a FAILED change set is reported and never executed'
    },
    {
      command: 'DeleteChangeSet',
      input: { ChangeSetName: '<Id returned by CreateChangeSet>' },
      note: 'only when the change set ends FAILED (keep-failed-change-sets: true keeps it)'
    },
    {
      command: 'ExecuteChangeSet',
      input: {
        ChangeSetName: '<Id returned by CreateChangeSet>',
        ClientRequestToken: `${request.ChangeSetName}-execute`
      },
      note: 'only after CREATE_COMPLETE'
    },
    {
      command: 'DescribeStacks',
      input: { StackName: '<StackId returned by CreateChangeSet>' },
      note: 'poll until IMPORT_COMPLETE; IMPORT_ROLLBACK_* is a failure'
    },
    {
      command: 'ListStackResources',
      input: { StackName: '<StackId returned by CreateChangeSet>' },
      note: 'confirm the stack owns every imported table'
    }
  ]
  return keepFailed ? calls.filter(c => c.command !== 'DeleteChangeSet') : calls
}

function pollFor(run: ImportRun, maxWaitMs: number): WaitOptions {
  return { ...run.input.clock, maxWaitMs, pollMs: run.limits.pollMs }
}

/** What a created but unexecuted change set leaves behind for a new stack. */
function leftStack(run: ImportRun): string {
  return run.newStack
    ? ` CloudFormation keeps stack ${run.stackName} in REVIEW_IN_PROGRESS without resources; a re-run imports into it, or delete it.`
    : ''
}

/**
 * Step 5: sends `request` (one CreateChangeSet call, never retried blindly) and waits for CREATE_COMPLETE. Sets
 * result.changeSetId and result.stackId; returns the change set ARN.
 * @throws ImportStop failed when CreateChangeSet fails, the change set ends FAILED, or the wait fails or times out.
 */
async function createAndWait(
  run: ImportRun,
  request: CreateChangeSetCommandInput,
  createCall: PlannedCall
): Promise<string> {
  const { stackName, result } = run
  result.calls.push(createCall)
  let changeSetId: string
  try {
    ;({ changeSetId, stackId: result.stackId } = await createImportChangeSet(run.cfn, request))
  } catch (err) {
    throw failed(
      `CreateChangeSet for stack ${stackName} failed: ${errorMessage(err)}`,
      `Nothing was imported: ${untouched(stackName)}. If a change set named ${request.ChangeSetName} exists it was not executed; fix the cause and re-run.`,
      err
    )
  }
  result.changeSetId = changeSetId
  run.input.logger.info(`created IMPORT change set ${changeSetId}`)

  try {
    await waitForChangeSet(run.cfn, changeSetId, pollFor(run, run.limits.changeSetMaxWaitMs))
  } catch (err) {
    const notExecuted = `The change set was not executed; ${untouched(stackName)}.${leftStack(run)}`
    if (!(err instanceof CloudFormationWaitError)) {
      throw failed(
        `could not follow change set ${changeSetId}: ${errorMessage(err)}`,
        `${notExecuted} Fix the cause (DescribeChangeSet needs cloudformation:DescribeChangeSet), delete the change set and re-run.`,
        err
      )
    }
    const reason = err.reason ?? err.status
    if (err.kind === 'timeout') {
      throw failed(
        `change set ${changeSetId} did not reach CREATE_COMPLETE in time (last status ${err.status})`,
        `${notExecuted} Check the change set in the CloudFormation console, delete it and re-run.`,
        err
      )
    }
    const cleanup = err.status === 'FAILED' ? await removeFailedChangeSet(run, changeSetId) : ''
    throw failed(
      `change set ${changeSetId} failed: ${reason}`,
      `${notExecuted} CloudFormation said: ${reason}. ${cleanup}Fix the cause and re-run.`,
      err
    )
  }
  return changeSetId
}

/**
 * A FAILED change set can never be executed: it is deleted (DeleteChangeSet), as the AWS deploy
 * action does, unless keep-failed-change-sets keeps it for the console. Returns the sentence the
 * report adds; a failed delete is said, never thrown (the import failed either way).
 */
async function removeFailedChangeSet(run: ImportRun, changeSetId: string): Promise<string> {
  const { logger, keepFailedChangeSets } = run.input
  if (keepFailedChangeSets) {
    return `The FAILED change set ${changeSetId} was kept (keep-failed-change-sets: true): read it in the CloudFormation console, then delete it. `
  }
  run.result.calls.push({
    command: 'DeleteChangeSet',
    input: { ChangeSetName: changeSetId },
    note: 'the change set ended FAILED'
  })
  try {
    await deleteChangeSet(run.cfn, changeSetId)
    logger.info(`deleted the FAILED change set ${changeSetId}`)
    return `The FAILED change set was deleted (set keep-failed-change-sets: true to keep it for the console). `
  } catch (err) {
    logger.warning(`could not delete the FAILED change set ${changeSetId}: ${errorMessage(err)}`)
    return `The FAILED change set ${changeSetId} could not be deleted (${errorMessage(err)}; DeleteChangeSet needs cloudformation:DeleteChangeSet): delete it by hand. `
  }
}

/**
 * Step 6: ExecuteChangeSet of a CREATE_COMPLETE change set.
 * @throws ImportStop failed. A service error (4xx) means CloudFormation rejected it: nothing changed. Any other
 *   error (network, timeout, 5xx) leaves it unknown whether the import started, and the state says so.
 */
async function execute(run: ImportRun, changeSetId: string, token: string): Promise<void> {
  const { stackName } = run
  run.result.calls.push({
    command: 'ExecuteChangeSet',
    input: { ChangeSetName: changeSetId, ClientRequestToken: token },
    note: 'after CREATE_COMPLETE'
  })
  try {
    await executeChangeSet(run.cfn, changeSetId, token)
  } catch (err) {
    const rejected = err instanceof CloudFormationServiceException && err.$fault === 'client'
    throw failed(
      `ExecuteChangeSet ${changeSetId} failed: ${errorMessage(err)}`,
      rejected
        ? `The change set was created but not executed; ${untouched(stackName)}.${leftStack(run)} Fix the cause and re-run (or execute change set ${changeSetId} by hand).`
        : `CloudFormation gave no answer to ExecuteChangeSet, so change set ${changeSetId} may have been executed. Check the status of stack ${stackName} before deploying, then re-run (a finished import reports nothing to do).`,
      err
    )
  }
  run.input.logger.info(
    `executing ${changeSetId}; waiting for stack ${run.result.stackId} to reach IMPORT_COMPLETE`
  )
}

/**
 * Step 7: waits for IMPORT_COMPLETE (waitForImport: the stack's status from before the import counts as pending).
 * @throws ImportStop failed on a rollback, an unexpected status, a time limit, or a wait that cannot be followed.
 */
async function followImport(run: ImportRun, changeSetId: string): Promise<void> {
  const { stackName, newStack } = run
  const stackId = run.result.stackId as string
  try {
    await waitForImport(
      run.cfn,
      {
        stackId,
        changeSetId,
        // a new stack is REVIEW_IN_PROGRESS from CreateChangeSet until the import starts
        statusBefore: newStack ? 'REVIEW_IN_PROGRESS' : (run.input.stack.status ?? null)
      },
      pollFor(run, run.limits.importMaxWaitMs)
    )
  } catch (err) {
    if (err instanceof CloudFormationWaitError && err.kind === 'timeout') {
      throw err.started
        ? failed(
            `the import into ${stackName} was still ${err.status} after the ${minutes(run.limits.importMaxWaitMs)} time limit`,
            `The import is still running in CloudFormation (stack ${stackId}); do not deploy until it ends. Check the stack events, then re-run: a finished import reports nothing to do.`,
            err
          )
        : failed(
            `CloudFormation had not started the import into ${stackName} after the ${minutes(run.limits.importMaxWaitMs)} time limit (stack still ${err.status})`,
            `Change set ${changeSetId} was executed but stack ${stackId} has not begun the import; do not deploy until it has run. Check the change set's execution status and the stack events, then re-run: a finished import reports nothing to do.`,
            err
          )
    }
    if (!(err instanceof CloudFormationWaitError)) {
      throw failed(
        `could not follow the import into ${stackName}: ${errorMessage(err)}`,
        `Change set ${changeSetId} was executed; its outcome is unknown. Check the status of stack ${stackName} before deploying, then re-run (a finished import reports nothing to do).`,
        err
      )
    }
    const status = err.status
    const reason = err.reason ?? 'no reason given'
    const state =
      status === 'IMPORT_ROLLBACK_COMPLETE'
        ? `The import rolled back: ${untouched(stackName)}; stack ${stackName} is as it was. CloudFormation said: ${reason}. Fix the cause and re-run.`
        : `Stack ${stackName} is ${status} after the import; the tables themselves were not changed. CloudFormation said: ${reason}. Inspect the stack events and repair the stack before deploying.`
    throw failed(`the import into ${stackName} ended ${status}: ${reason}`, state, err)
  }
}

/** Step 8: the stack lists every table after IMPORT_COMPLETE. @throws ImportStop failed */
async function confirm(run: ImportRun, changeSetId: string): Promise<void> {
  const { stackName } = run
  const names = run.input.tables.map(t => t.tableName)
  let missing: string[]
  try {
    ;({ missing } = await confirmOwned(run.cfn, run.result.stackId as string, names))
  } catch (err) {
    throw failed(
      `the import into ${stackName} completed but its resources could not be listed: ${errorMessage(err)}`,
      `Stack ${stackName} reached IMPORT_COMPLETE; confirm with ListStackResources that it lists the tables, then re-run (a finished import reports nothing to do).`,
      err
    )
  }
  if (missing.length > 0) {
    throw failed(
      `stack ${stackName} reached IMPORT_COMPLETE but does not list ${missing.join(', ')}`,
      `Stack ${stackName} reports IMPORT_COMPLETE (change set ${changeSetId}) without owning ${missing.join(', ')}; the tables were not changed. Inspect the stack's resources before deploying.`,
      null
    )
  }
  run.input.logger.info(`stack ${stackName} now owns ${names.join(', ')}`)
}

function artifact(
  stackName: string,
  newStack: boolean,
  resourcesToImport: ResourceToImport[],
  template: CfnTemplate,
  createChangeSet: CreateChangeSetCommandInput,
  uploadTo: { s3: string; via: string; bytes: number } | null
): Record<string, unknown> {
  return {
    stack: stackName,
    changeSetType: 'IMPORT',
    newStack,
    resourcesToImport,
    template,
    createChangeSetRequest: createChangeSet,
    ...(uploadTo ? { templateUploadedTo: uploadTo } : {})
  }
}

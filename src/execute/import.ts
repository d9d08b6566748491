/**
 * Strategy `import`: adopt orphaned tables into their stack with ONE CloudFormation IMPORT change set per stack.
 * No data moves and nothing changes on the tables; the deploy that follows converges their configuration.
 *
 * Order: refusals (nothing created) → template + artifact file (also in dry-run) → CreateChangeSet → wait for
 * CREATE_COMPLETE (a FAILED change set is never executed) → ExecuteChangeSet → wait for IMPORT_COMPLETE →
 * confirm the stack lists every table.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Capability, CreateChangeSetCommandInput } from '@aws-sdk/client-cloudformation'
import {
  CloudFormationWaitError,
  confirmOwned,
  createImportChangeSet,
  executeChangeSet,
  getDeployedTemplate,
  importChangeSetInput,
  waitForChangeSet,
  waitForImport,
  type CloudFormationImportClient,
  type PollOptions
} from '../aws/cloudformation-import.js'
import { OperationError, errorMessage } from '../errors.js'
import type { CfnTemplate, ExecutionStep, LiveTable, Logger, StackState, TableSpec } from '../types.js'
import {
  ImportRefusal,
  buildImportTemplate,
  previousParameters,
  requiredCapabilities,
  type ImportTemplate,
  type ResourceToImport
} from './import-template.js'

/** What executeImports needs of a table; a Finding fits. */
export interface ImportCandidate {
  tableName: string
  spec: TableSpec
  live: LiveTable | null
}

export interface ImportLimits {
  /** How long a change set may take to reach CREATE_COMPLETE. */
  changeSetMaxWaitMs: number
  /** How long the executed import may take to reach IMPORT_COMPLETE. */
  importMaxWaitMs: number
  pollIntervalMs: number
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  changeSetMaxWaitMs: 5 * 60_000,
  importMaxWaitMs: 30 * 60_000,
  pollIntervalMs: 5_000
}

export interface ExecuteImportsInput {
  stack: StackState
  /** Top-level stack the tables go into. */
  stackName: string
  tables: ImportCandidate[]
  dryRun: boolean
  /** Folder the import template and ResourcesToImport are written to (the action's backup-dir). */
  artifactDir: string
  logger: Logger
  sleep?: (ms: number) => Promise<void>
  /** Milliseconds since the epoch. */
  now?: () => number
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
    'CreateChangeSet' | 'DescribeChangeSet' | 'ExecuteChangeSet' | 'DescribeStacks' | 'ListStackResources'
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

/** Stack statuses CloudFormation accepts an IMPORT change set for (REVIEW_IN_PROGRESS is treated as a new stack). */
const IMPORTABLE_STACK_STATUSES = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE'
])

/**
 * A stack in REVIEW_IN_PROGRESS exists but has no template or resources; CloudFormation treats it as a stack that
 * does not exist yet (as cdk does since aws-cdk#7731), so it gets a new-stack template.
 */
export function isNewStack(stack: StackState): boolean {
  return !stack.exists || stack.status === 'REVIEW_IN_PROGRESS'
}

/** Why the stack cannot take an import now; null when it can. */
export function stackRefusal(stack: StackState, stackName: string): string | null {
  if (isNewStack(stack)) return null
  const status = stack.status
  if (!status) return `the state of stack ${stackName} is unknown; re-run when DescribeStacks can read it`
  if (status === 'ROLLBACK_COMPLETE') {
    return `stack ${stackName} is ROLLBACK_COMPLETE: CloudFormation can neither update it nor import into it. Delete it (aws cloudformation delete-stack --stack-name ${stackName}) and re-run`
  }
  if (status.endsWith('_IN_PROGRESS'))
    return `stack ${stackName} is ${status}: another operation is running on it; re-run when it has finished`
  if (!IMPORTABLE_STACK_STATUSES.has(status)) {
    return `stack ${stackName} is ${status}, a state CloudFormation cannot import into${stack.statusReason ? ` (${stack.statusReason})` : ''}; repair or delete the stack and re-run`
  }
  return null
}

/** Why this table cannot be imported into this stack; null when it can. */
export function tableRefusal(candidate: ImportCandidate, stackName: string): string | null {
  const { tableName: table, spec, live } = candidate
  if (spec.stack !== stackName)
    return `table ${table} belongs to stack ${spec.stack ?? '(none)'}, not ${stackName}`
  if (spec.nestedPath.length > 0) {
    return `table ${table} is declared in nested stack ${spec.nestedPath.join('/')} of ${stackName}: importing into a nested stack is not supported; use strategy backup-restore or import it by hand`
  }
  if (spec.resourceType !== 'AWS::DynamoDB::Table') {
    return `table ${table} is an ${spec.resourceType}: importing global tables is not supported yet; use strategy backup-restore or import it by hand`
  }
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

const realSleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function stepsOf(tables: ImportTableResult[]): ExecutionStep[] {
  return tables.map(t => ({
    table: t.table,
    action: 'import',
    status: t.status === 'blocked' ? 'skipped' : t.status,
    detail: t.detail
  }))
}

/**
 * Imports the tables of one stack with one IMPORT change set. Never throws for AWS or refusal outcomes: it returns
 * `blocked` (refused before any change set) or `failed` (with an OperationError whose `state` says what was left).
 */
export async function executeImports(
  clients: { cloudformation: CloudFormationImportClient },
  input: ExecuteImportsInput
): Promise<ImportResult> {
  const { stack, stackName, tables, logger, dryRun } = input
  const cfn = clients.cloudformation
  const now = input.now ?? Date.now
  const limits: ImportLimits = { ...DEFAULT_IMPORT_LIMITS, ...input.limits }
  const newStack = isNewStack(stack)
  const result: ImportResult = {
    stack: stackName,
    outcome: 'blocked',
    tables: [],
    newStack,
    changeSetId: null,
    stackId: newStack ? null : (stack.stackId ?? null),
    templatePath: null,
    calls: [],
    reasons: [],
    error: null,
    stateNote: null,
    steps: []
  }
  const finish = (outcome: ImportResult['outcome'], tableResults: ImportTableResult[]): ImportResult => {
    result.outcome = outcome
    result.tables = tableResults
    result.steps = stepsOf(tableResults)
    return result
  }
  const allTables = (
    status: ImportTableResult['status'],
    detail: (t: ImportCandidate) => string
  ): ImportTableResult[] =>
    tables.map(t => ({ table: t.tableName, logicalId: t.spec.logicalId, status, detail: detail(t) }))
  const block = (reasons: string[], perTable?: Map<string, string>): ImportResult => {
    result.reasons = reasons
    result.stateNote = `Nothing was changed: no change set was created for stack ${stackName}. ${reasons.join('. ')}.`
    for (const r of reasons) logger.warning(`import into ${stackName} refused: ${r}`)
    const first = reasons[0] ?? 'refused'
    return finish(
      'blocked',
      tables.map(t => {
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
  const fail = (message: string, state: string, cause: unknown): ImportResult => {
    result.error = new OperationError(message, state, { cause })
    result.stateNote = state
    logger.warning(`import into ${stackName} failed: ${message} ${state}`)
    return finish(
      'failed',
      allTables('failed', () => message)
    )
  }

  // ── refusals: before any change set ──
  if (tables.length === 0) return block(['no tables were given to import'])
  const stackReason = stackRefusal(stack, stackName)
  if (stackReason) return block([stackReason])
  const perTable = new Map<string, string>()
  for (const t of tables) {
    const reason = tableRefusal(t, stackName)
    if (reason) perTable.set(t.tableName, reason)
  }
  if (perTable.size > 0) return block([...perTable.values()], perTable)

  // ── template ──
  let deployed: CfnTemplate | null = null
  if (!newStack) {
    try {
      deployed = await getDeployedTemplate(cfn, stack.stackId ?? stackName)
    } catch (err) {
      return fail(
        `cannot read the deployed template of stack ${stackName}: ${errorMessage(err)}`,
        `Nothing was changed: no change set was created; the tables are untouched and still outside stack ${stackName}. Fix the cause (GetTemplate needs cloudformation:GetTemplate) and re-run.`,
        err
      )
    }
  }
  let built: ImportTemplate
  try {
    built = buildImportTemplate({
      deployedTemplate: deployed,
      tables: tables.map(t => ({
        logicalId: t.spec.logicalId as string,
        live: t.live as LiveTable,
        deletionPolicy: t.spec.deletionPolicy,
        updateReplacePolicy: t.spec.updateReplacePolicy
      }))
    })
  } catch (err) {
    if (err instanceof ImportRefusal) return block([err.message])
    throw err
  }

  const changeSetName = changeSetNameAt(now())
  const capabilities: Capability[] = deployed ? requiredCapabilities(deployed) : []
  const createInput: CreateChangeSetCommandInput = importChangeSetInput({
    stackName,
    changeSetName,
    templateBody: built.body,
    resourcesToImport: built.resourcesToImport,
    newStack,
    capabilities,
    parameters: previousParameters(deployed),
    description: changeSetDescription(tables.map(t => t.tableName))
  })

  // ── artifact: written before anything changes, also in dry-run ──
  const file = artifactPath(input.artifactDir, stackName)
  try {
    await mkdir(input.artifactDir, { recursive: true })
    await writeFile(
      file,
      `${JSON.stringify(artifact(stackName, newStack, built.resourcesToImport, built.template, createInput), null, 2)}\n`
    )
  } catch (err) {
    return fail(
      `cannot write the import template to ${file}: ${errorMessage(err)}`,
      `Nothing was changed: no change set was created; the tables are untouched. Make ${input.artifactDir} writable and re-run.`,
      err
    )
  }
  result.templatePath = file
  logger.info(
    `import template for ${stackName} written to ${file} (${Buffer.byteLength(built.body)} bytes, ${built.resourcesToImport.length} table(s))`
  )

  const createCall: PlannedCall = {
    command: 'CreateChangeSet',
    input: { ...createInput },
    note: newStack
      ? `creates stack ${stackName} (REVIEW_IN_PROGRESS until executed)`
      : `imports into stack ${stackName}`
  }
  if (dryRun) {
    result.calls = [
      createCall,
      {
        command: 'DescribeChangeSet',
        input: { ChangeSetName: '<Id returned by CreateChangeSet>' },
        note: 'poll until CREATE_COMPLETE; a FAILED change set is reported and never executed'
      },
      {
        command: 'ExecuteChangeSet',
        input: {
          ChangeSetName: '<Id returned by CreateChangeSet>',
          ClientRequestToken: `${changeSetName}-execute`
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
    return finish(
      'dry-run',
      allTables(
        'planned',
        t =>
          `would import ${t.tableName} into ${stackName} as ${t.spec.logicalId ?? '?'} (dry-run: nothing was changed)`
      )
    )
  }

  const poll = (maxWaitMs: number): PollOptions => ({
    sleep: input.sleep ?? realSleep,
    now,
    maxWaitMs,
    pollIntervalMs: limits.pollIntervalMs
  })
  const untouched = `the tables are untouched and still outside stack ${stackName}`

  // ── create the change set: one call, never retried blindly ──
  result.calls.push(createCall)
  let changeSetId: string
  let stackId: string
  try {
    ;({ changeSetId, stackId } = await createImportChangeSet(cfn, {
      stackName,
      changeSetName,
      templateBody: built.body,
      resourcesToImport: built.resourcesToImport,
      newStack,
      capabilities,
      parameters: previousParameters(deployed),
      description: createInput.Description
    }))
  } catch (err) {
    return fail(
      `CreateChangeSet for stack ${stackName} failed: ${errorMessage(err)}`,
      `Nothing was imported: ${untouched}. If a change set named ${changeSetName} exists it was not executed; fix the cause and re-run.`,
      err
    )
  }
  result.changeSetId = changeSetId
  result.stackId = stackId
  logger.info(`created IMPORT change set ${changeSetId}`)
  const leftStack = newStack
    ? ` CloudFormation keeps stack ${stackName} in REVIEW_IN_PROGRESS without resources; a re-run imports into it, or delete it.`
    : ''

  try {
    await waitForChangeSet(cfn, changeSetId, poll(limits.changeSetMaxWaitMs))
  } catch (err) {
    const waitError = err instanceof CloudFormationWaitError ? err : null
    const reason = waitError ? (waitError.reason ?? waitError.status) : errorMessage(err)
    const timedOut = waitError?.kind === 'timeout'
    return fail(
      timedOut
        ? `change set ${changeSetId} did not reach CREATE_COMPLETE in time (last status ${waitError.status})`
        : `change set ${changeSetId} failed: ${reason}`,
      `The change set was not executed; ${untouched}.${leftStack} ${timedOut ? 'Check the change set in the CloudFormation console, delete it' : `CloudFormation said: ${reason}. Fix the cause`} and re-run.`,
      err
    )
  }

  const executeToken = `${changeSetName}-execute`
  result.calls.push({
    command: 'ExecuteChangeSet',
    input: { ChangeSetName: changeSetId, ClientRequestToken: executeToken },
    note: 'after CREATE_COMPLETE'
  })
  try {
    await executeChangeSet(cfn, changeSetId, executeToken)
  } catch (err) {
    return fail(
      `ExecuteChangeSet ${changeSetId} failed: ${errorMessage(err)}`,
      `The change set was created but not executed; ${untouched}.${leftStack} Fix the cause and re-run (or execute change set ${changeSetId} by hand).`,
      err
    )
  }
  logger.info(`executing ${changeSetId}; waiting for stack ${stackId} to reach IMPORT_COMPLETE`)

  try {
    await waitForImport(cfn, stackId, poll(limits.importMaxWaitMs))
  } catch (err) {
    if (err instanceof CloudFormationWaitError && err.kind === 'timeout') {
      return fail(
        `the import into ${stackName} was still ${err.status} after the time limit`,
        `The import is still running in CloudFormation (stack ${stackId}); do not deploy until it ends. Check the stack events, then re-run: a finished import reports nothing to do.`,
        err
      )
    }
    if (!(err instanceof CloudFormationWaitError)) {
      return fail(
        `could not follow the import into ${stackName}: ${errorMessage(err)}`,
        `Change set ${changeSetId} was executed; its outcome is unknown. Check the status of stack ${stackName} before deploying, then re-run (a finished import reports nothing to do).`,
        err
      )
    }
    const status = err.status
    const reason = err.reason ?? 'no reason given'
    const state =
      status === 'IMPORT_ROLLBACK_COMPLETE'
        ? `The import rolled back: ${untouched}; stack ${stackName} is as it was. CloudFormation said: ${reason}. Fix the cause and re-run.`
        : `Stack ${stackName} is ${status} after the import; the tables themselves were not changed. CloudFormation said: ${reason}. Inspect the stack events and repair the stack before deploying.`
    return fail(`the import into ${stackName} ended ${status}: ${reason}`, state, err)
  }

  let missing: string[]
  try {
    ;({ missing } = await confirmOwned(
      cfn,
      stackId,
      tables.map(t => t.tableName)
    ))
  } catch (err) {
    return fail(
      `the import into ${stackName} completed but its resources could not be listed: ${errorMessage(err)}`,
      `Stack ${stackName} reached IMPORT_COMPLETE; confirm with ListStackResources that it lists the tables, then re-run (a finished import reports nothing to do).`,
      err
    )
  }
  if (missing.length > 0) {
    return fail(
      `stack ${stackName} reached IMPORT_COMPLETE but does not list ${missing.join(', ')}`,
      `Stack ${stackName} reports IMPORT_COMPLETE without owning ${missing.join(', ')}; the tables were not changed. Inspect the stack's resources before deploying.`,
      null
    )
  }
  logger.info(`stack ${stackName} now owns ${tables.map(t => t.tableName).join(', ')}`)
  return finish(
    'resolved',
    allTables(
      'done',
      t =>
        `imported into ${stackName} as ${t.spec.logicalId ?? '?'} with its live configuration (change set ${changeSetId})`
    )
  )
}

function artifact(
  stackName: string,
  newStack: boolean,
  resourcesToImport: ResourceToImport[],
  template: CfnTemplate,
  createChangeSet: CreateChangeSetCommandInput
): Record<string, unknown> {
  return {
    stack: stackName,
    changeSetType: 'IMPORT',
    newStack,
    resourcesToImport,
    template,
    createChangeSetRequest: createChangeSet
  }
}

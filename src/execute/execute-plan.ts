import { readFile } from 'node:fs/promises'
import type { AwsClients } from '../aws/clients.js'
import { errorMessage, OperationError } from '../errors.js'
import { actionable, blockedEntries, outcomeWithoutExecution } from '../plan/outcome.js'
import type {
  Check,
  Clock,
  Finding,
  ImportArtifact,
  Inputs,
  Logger,
  PlanEntry,
  RunResult,
  StackState,
  WaitOptions
} from '../types.js'
import { backupAndDelete } from './backup-delete.js'
import { guardedDelete } from './delete.js'
import { SafetyRefusal } from './safety.js'
import { executeImports } from './import.js'
import { callText, StepLog } from './steps.js'
import type { BackupRecord } from './table-ops.js'

export interface ExecuteDeps {
  clients: AwsClients
  logger: Logger
  clock: Clock
}

export interface Execution {
  result: RunResult
  importArtifacts: ImportArtifact[]
}

function baseResult(check: Check): RunResult {
  return {
    outcome: outcomeWithoutExecution(check.plan),
    plan: check.plan,
    steps: [],
    backupManifests: [],
    backupArns: [],
    restoredItems: 0
  }
}

function findingOf(check: Check, entry: PlanEntry): Finding {
  const finding = check.inspection.findings.find(f => f.tableName === entry.table)
  if (!finding) throw new Error(`internal: no finding for planned table ${entry.table}`)
  return finding
}

function stackStateOf(check: Check, name: string): StackState {
  return check.inspection.stacks.find(s => s.name === name) ?? { name, exists: false }
}

function byStack(entries: PlanEntry[]): Map<string, PlanEntry[]> {
  const groups = new Map<string, PlanEntry[]>()
  for (const e of entries) {
    const stack = e.stack ?? ''
    groups.set(stack, [...(groups.get(stack) ?? []), e])
  }
  return groups
}

async function readImportArtifact(stack: string, path: string): Promise<ImportArtifact | null> {
  try {
    const content = JSON.parse(await readFile(path, 'utf8')) as {
      template: unknown
      resourcesToImport: unknown
    }
    return {
      stack,
      templatePath: path,
      templateBody: JSON.stringify(content.template, null, 2),
      resourcesToImport: content.resourcesToImport
    }
  } catch {
    return null
  }
}

/** What was done before a failure, for the state note. */
function doneSoFar(steps: StepLog): string {
  const done = steps.steps.filter(s => s.status === 'done').map(s => `${s.table}: ${s.action}`)
  return done.length > 0 ? ` Done before the failure: ${done.join('; ')}.` : ''
}

/**
 * Executes the plan: imports first (nothing is deleted by them), then backup-delete, then delete,
 * one table at a time; the first failure stops everything after it. A plan with any blocked table
 * executes nothing: the deploy would fail on that table anyway. `report` executes nothing;
 * `dry-run` walks every step without making a mutating call and lists the calls it would make.
 */
export async function executePlan(check: Check, inputs: Inputs, deps: ExecuteDeps): Promise<Execution> {
  const result = baseResult(check)
  const importArtifacts: ImportArtifact[] = []
  const { plan } = check
  if (inputs.strategy === 'report' || blockedEntries(plan).length > 0 || actionable(plan).length === 0) {
    return { result, importArtifacts }
  }

  const { clients, logger } = deps
  const steps = new StepLog(message => logger.info(message))
  const wait: WaitOptions = { ...deps.clock, maxWaitMs: 10 * 60_000, pollMs: 2_000 }
  const finish = (outcome: RunResult['outcome'], stateNote?: string): Execution => ({
    result: { ...result, outcome, steps: steps.steps, stateNote },
    importArtifacts
  })

  // 1. imports, one change set per stack
  for (const [stackName, entries] of byStack(plan.entries.filter(e => e.decision === 'import'))) {
    const imported = await executeImports(clients, {
      stack: stackStateOf(check, stackName),
      stackName,
      tables: entries.map(e => findingOf(check, e)),
      dryRun: inputs.dryRun,
      artifactDir: inputs.backupDir,
      logger,
      clock: deps.clock
    })
    for (const step of imported.steps) steps.add(step)
    if (inputs.dryRun) {
      const tables = entries.map(e => e.table).join(', ')
      for (const call of imported.calls) {
        const { TemplateBody, ...input } = call.input
        const shown =
          TemplateBody === undefined ? input : { ...input, TemplateBody: '<the import template below>' }
        steps.planned(tables, call.command, `${callText(call.command, shown)}: ${call.note}`)
      }
    }
    if (imported.templatePath) {
      const artifact = await readImportArtifact(stackName, imported.templatePath)
      if (artifact) importArtifacts.push(artifact)
    }
    if (imported.outcome === 'blocked') {
      return finish(
        'blocked',
        `Stack ${stackName}: ${imported.reasons.join(' ')} ${imported.stateNote ?? ''}`.trim() +
          doneSoFar(steps)
      )
    }
    if (imported.outcome === 'failed') {
      return finish('failed', `${imported.stateNote ?? imported.error?.state ?? ''}${doneSoFar(steps)}`)
    }
  }

  // 2. backup-restore (pre-deploy half) and 3. delete, one table at a time
  const record: BackupRecord = {
    manifest: path => result.backupManifests.push(path),
    arn: arn => result.backupArns.push(arn)
  }
  const common = {
    policy: plan.policy,
    awsBackup: inputs.awsBackup,
    dryRun: inputs.dryRun,
    steps,
    wait,
    record
  }
  let current = ''
  try {
    for (const entry of plan.entries.filter(e => e.decision === 'backup-restore')) {
      current = entry.table
      await backupAndDelete(clients, {
        ...common,
        finding: findingOf(check, entry),
        stage: inputs.stage,
        backupDir: inputs.backupDir,
        region: inputs.awsRegion,
        logger
      })
    }
    for (const entry of plan.entries.filter(e => e.decision === 'delete')) {
      current = entry.table
      await guardedDelete(clients, { ...common, finding: findingOf(check, entry) })
    }
  } catch (err) {
    const state =
      err instanceof OperationError
        ? err.state
        : `An unexpected error stopped the run at ${current}; the steps listed as done are all that happened to it.`
    steps.failed(current, err instanceof SafetyRefusal ? 'refused' : 'stopped', errorMessage(err))
    // A safety refusal changed nothing for its table: the run is blocked, not failed.
    return finish(
      err instanceof SafetyRefusal ? 'blocked' : 'failed',
      `${errorMessage(err)} ${state}${doneSoFar(steps)}`
    )
  }

  return finish(inputs.dryRun ? 'dry-run' : 'resolved')
}

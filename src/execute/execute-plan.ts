import { readFile } from 'node:fs/promises'
import type { RegionalClients } from '../aws/clients.js'
import { errorMessage, Interrupted, OperationError } from '../errors.js'
import { actionable, outcomeWithoutExecution, planBlocks } from '../plan/outcome.js'
import { inGroup } from '../types.js'
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
  ServerSideResume,
  StopHooks,
  TableSpec,
  WaitOptions
} from '../types.js'
import { fillPseudoParameters } from '../discover/resolve.js'
import { backupAndDelete } from './backup-delete.js'
import { guardedDelete } from './delete.js'
import { SafetyRefusal } from './safety.js'
import { executeImports } from './import.js'
import { callText, StepLog } from './steps.js'
import { removeLeftoverFence } from './write-fence.js'
import {
  recordAdoptedRestore,
  resumeServerSide,
  serverSideRestore,
  type ServerSideInput
} from './server-side.js'
import type { BackupRecord } from './table-ops.js'
import type { TemplateStores } from './template-store.js'

export interface ExecuteDeps {
  /** Each table is acted on in its own region, with that region's clients. */
  clients: RegionalClients
  logger: Logger
  clock: Clock
  /** What to undo if the process is told to stop mid-way (run/stop.ts runs it on SIGINT/SIGTERM). */
  onStop?: StopHooks
  /**
   * Asks the run to stop (Ctrl-C in the CLI, a cancelled job): no further table is started, and a
   * copy in progress stops at its next safe point (see Interrupted).
   */
  signal?: AbortSignal
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
  const finding = check.inspection.findings.find(
    f => f.tableName === entry.table && (entry.region === undefined || f.region === entry.region)
  )
  if (!finding) throw new Error(`internal: no finding for planned table ${entry.table}`)
  return finding
}

function stackStateOf(check: Check, name: string, region: string): StackState {
  return (
    check.inspection.stacks.find(s => s.name === name && (s.region === undefined || s.region === region)) ?? {
      name,
      region,
      exists: false
    }
  )
}

/** The import entries per stack: a stack is one (region, name), and gets one change set. */
function byStack(
  check: Check,
  entries: PlanEntry[]
): { stack: string; region: string; entries: PlanEntry[] }[] {
  const groups = new Map<string, { stack: string; region: string; entries: PlanEntry[] }>()
  for (const e of entries) {
    const stack = e.stack ?? ''
    const region = findingOf(check, e).region
    const key = `${region}/${stack}`
    const group = groups.get(key) ?? { stack, region, entries: [] }
    group.entries.push(e)
    groups.set(key, group)
  }
  return [...groups.values()]
}

async function readImportArtifact(
  stack: string,
  path: string,
  s3Uri: string | null
): Promise<ImportArtifact | null> {
  try {
    const content = JSON.parse(await readFile(path, 'utf8')) as {
      template: unknown
      resourcesToImport: unknown
    }
    return {
      stack,
      templatePath: path,
      ...(s3Uri ? { templateS3Uri: s3Uri } : {}),
      templateBody: JSON.stringify(content.template, null, 2),
      resourcesToImport: content.resourcesToImport
    }
  } catch {
    return null
  }
}

/**
 * The `role-arn` input for one stack: `${AWS::AccountId}`, `${AWS::Region}` and `${AWS::Partition}`
 * filled in with the stack's environment (its pinned account, else the credentials'; its region), so one
 * input names each region's CDK bootstrap cfn-exec-role. A refusal when a placeholder cannot be filled.
 */
export function roleArnFor(
  roleArn: string | null,
  env: { stackName: string; region: string; account?: string }
): { roleArn?: string } | { refusal: string } {
  if (roleArn === null) return {}
  const filled = fillPseudoParameters(roleArn, {
    stackName: env.stackName,
    region: env.region,
    ...(env.account ? { accountId: env.account } : {})
  })
  return 'name' in filled
    ? { roleArn: filled.name }
    : { refusal: `role-arn ${roleArn} cannot be filled in for stack ${env.stackName}: ${filled.unresolved}` }
}

/**
 * Where an import template too large for TemplateBody may go for a stack: `s3-bucket` (in the
 * action's region), or the CDK bootstrap assets bucket the cloud assembly names for the stack.
 */
function templateStoresFor(
  inputs: Inputs,
  spec: TableSpec,
  env: { stackName: string; region: string; account: string | undefined }
): TemplateStores {
  const assetsBucket = spec.assetsBucket
    ? fillPseudoParameters(spec.assetsBucket, {
        stackName: env.stackName,
        region: env.region,
        ...(env.account ? { accountId: env.account } : {})
      })
    : null
  return {
    s3Bucket: inputs.s3Bucket,
    s3BucketRegion: inputs.awsRegion,
    assetsBucket: assetsBucket !== null && 'name' in assetsBucket ? assetsBucket.name : null,
    stage: inputs.stage
  }
}

/** What was done before a failure, for the state note. */
function doneSoFar(steps: StepLog): string {
  const done = steps.steps.filter(s => s.status === 'done').map(s => `${s.table}: ${s.action}`)
  return done.length > 0 ? ` Done before the failure: ${done.join('; ')}.` : ''
}

/**
 * Executes the plan: imports first (nothing is deleted by them), then backup-delete, then delete,
 * one table at a time, then the restores an earlier server-side run finished but did not record
 * (PlanEntry.recordRestore); the first failure stops everything after it. A plan with any blocked table
 * executes nothing: the deploy would fail on that table anyway. `report` executes nothing;
 * `dry-run` walks every step without making a mutating call and lists the calls it would make.
 */
export async function executePlan(check: Check, inputs: Inputs, deps: ExecuteDeps): Promise<Execution> {
  const result = baseResult(check)
  const importArtifacts: ImportArtifact[] = []
  const { plan } = check
  if (inputs.strategy === 'report' || planBlocks(plan) || actionable(plan).length === 0) {
    return { result, importArtifacts }
  }
  // Defense in depth: a table that could not be checked with these credentials (another account)
  // is never acted on, whatever the plan says.
  const unchecked = actionable(plan).filter(e => findingOf(check, e).notCheckable)
  if (unchecked.length > 0) {
    const why = unchecked.map(e => `${e.table}: ${findingOf(check, e).notCheckable ?? ''}`).join('; ')
    return {
      result: {
        ...result,
        outcome: 'blocked',
        stateNote: `Refusing to act on tables that could not be checked with these credentials (${why}). Nothing was changed.`
      },
      importArtifacts
    }
  }

  const { clients, logger } = deps
  const steps = new StepLog(message => logger.info(message), deps.clock)
  const wait: WaitOptions = { ...deps.clock, maxWaitMs: 10 * 60_000, pollMs: 2_000 }
  const finish = (outcome: RunResult['outcome'], stateNote?: string): Execution => ({
    result: { ...result, outcome, steps: steps.steps, stateNote },
    importArtifacts
  })

  // 0. a write fence that an interrupted run left on a table this run does not back up (it is
  // about to be imported, or left alone) would deny its writers for good: take it down first.
  if (!inputs.dryRun) {
    for (const entry of plan.entries.filter(e => e.exists && e.decision !== 'backup-restore')) {
      const finding = findingOf(check, entry)
      const arn = finding.live?.arn
      if (!arn) continue
      try {
        if (
          await removeLeftoverFence(
            clients.forRegion(finding.region).dynamodb,
            { name: entry.table, arn },
            deps.clock
          )
        )
          steps.done(
            entry.table,
            'write fence removed',
            'an interrupted run had left it on the table; item writes are allowed again'
          )
      } catch (err) {
        return finish(
          'failed',
          `${errorMessage(err)} ${err instanceof OperationError ? err.state : ''}`.trim()
        )
      }
    }
  }

  /** Stops before the next table or stack when the run was asked to stop. */
  const interruptedBefore = (what: string): Execution | null =>
    deps.signal?.aborted === true
      ? finish(
          'failed',
          `Interrupted before ${what}: nothing was done to it, and nothing after it.${doneSoFar(steps)} Run again to go on.`
        )
      : null

  // 1. imports, one change set per stack
  for (const { stack: stackName, region, entries } of byStack(
    check,
    plan.entries.filter(e => e.decision === 'import')
  )) {
    const stop = interruptedBefore(`the import into stack ${stackName}`)
    if (stop) return stop
    const account = findingOf(check, entries[0] as PlanEntry).spec.account ?? check.identity?.account
    const role = roleArnFor(inputs.roleArn, { stackName, region, ...(account ? { account } : {}) })
    if ('refusal' in role) {
      for (const e of entries) steps.skipped(e.table, 'import', role.refusal)
      return finish(
        'blocked',
        `Stack ${stackName}: ${role.refusal}. Nothing was changed: no change set was created.`
      )
    }
    const spec = findingOf(check, entries[0] as PlanEntry).spec
    const imported = await inGroup(logger, `Import into stack ${stackName}`, async () => {
      const done = await executeImports(clients.forRegion(region), {
        ...role,
        region,
        templateStores: templateStoresFor(inputs, spec, { stackName, region, account }),
        stack: stackStateOf(check, stackName, region),
        stackName,
        tables: entries.map(e => findingOf(check, e)),
        dryRun: inputs.dryRun,
        artifactDir: inputs.backupDir,
        keepFailedChangeSets: inputs.keepFailedChangeSets,
        logger,
        clock: deps.clock
      })
      for (const step of done.steps) steps.add(step)
      if (inputs.dryRun) {
        const tables = entries.map(e => e.table).join(', ')
        for (const call of done.calls) {
          const { TemplateBody, ...input } = call.input
          const shown =
            TemplateBody === undefined
              ? input
              : { ...input, TemplateBody: '<the import template file (Import templates, below)>' }
          steps.planned(tables, call.command, `${callText(call.command, shown)}: ${call.note}`)
        }
      }
      return done
    })
    if (imported.templatePath) {
      const artifact = await readImportArtifact(
        stackName,
        imported.templatePath,
        imported.templateS3Uri ?? null
      )
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
    arn: arn => result.backupArns.push(arn),
    dropArn: arn => {
      result.backupArns = result.backupArns.filter(a => a !== arn)
    }
  }
  const common = {
    policy: plan.policy,
    owedGuard: {
      stage: inputs.stage,
      account: check.identity?.account ?? null,
      s3Bucket: inputs.s3Bucket,
      s3: clients.forRegion(clients.defaultRegion).s3
    },
    awsBackup: inputs.awsBackup,
    dryRun: inputs.dryRun,
    steps,
    wait,
    record
  }
  const tableInput = (finding: Finding) => ({
    ...common,
    finding,
    stage: inputs.stage,
    backupDir: inputs.backupDir,
    ...(check.identity ? { account: check.identity.account } : {}),
    s3Bucket: inputs.s3Bucket,
    // The bucket is in the action's region (checked at the start): its copies go through that region's client.
    s3: clients.forRegion(clients.defaultRegion).s3,
    identity: check.identity,
    logger,
    onStop: deps.onStop,
    signal: deps.signal
  })
  let current = ''
  try {
    for (const entry of plan.entries.filter(e => e.decision === 'backup-restore')) {
      current = entry.table
      const stop = interruptedBefore(`table ${entry.table}`)
      if (stop) return stop
      const finding = findingOf(check, entry)
      steps.begin(entry.table)
      const input = tableInput(finding)
      if (entry.copy !== 'server-side' || inputs.s3Bucket === null) {
        await inGroup(logger, `Back up and delete ${entry.table}`, () =>
          backupAndDelete(clients.forRegion(finding.region), input)
        )
        continue
      }
      const stackName = entry.stack ?? ''
      const account = finding.spec.account ?? check.identity?.account
      const role = roleArnFor(inputs.roleArn, {
        stackName,
        region: finding.region,
        ...(account ? { account } : {})
      })
      if ('refusal' in role) throw new SafetyRefusal(`Refusing to re-create ${entry.table}: ${role.refusal}.`)
      const s3Bucket = inputs.s3Bucket
      const serverSide = finding.serverSideResume
        ? (i: ServerSideInput) =>
            resumeServerSide(
              clients.forRegion(finding.region),
              i,
              finding.serverSideResume as ServerSideResume
            )
        : (i: ServerSideInput) => serverSideRestore(clients.forRegion(finding.region), i)
      const done = await inGroup(logger, `Re-create ${entry.table} server-side`, () =>
        serverSide({
          ...input,
          s3Bucket,
          ...role,
          templateStores: templateStoresFor(inputs, finding.spec, {
            stackName,
            region: finding.region,
            account
          })
        })
      )
      if (done === null) continue
      result.restoredItems += done.importedItems
      if (done.adoption.templatePath) {
        const artifact = await readImportArtifact(
          stackName,
          done.adoption.templatePath,
          done.adoption.templateS3Uri ?? null
        )
        if (artifact) importArtifacts.push(artifact)
      }
    }
    for (const entry of plan.entries.filter(e => e.decision === 'delete')) {
      current = entry.table
      const stop = interruptedBefore(`table ${entry.table}`)
      if (stop) return stop
      const finding = findingOf(check, entry)
      await inGroup(logger, `Delete ${entry.table}`, () =>
        guardedDelete(clients.forRegion(finding.region), { ...common, finding })
      )
    }
    // 4. the restores an earlier run's server-side path finished but did not record
    for (const entry of plan.entries.filter(e => e.recordRestore !== undefined)) {
      current = entry.table
      const finding = findingOf(check, entry)
      const resume = finding.serverSideResume
      const s3Bucket = inputs.s3Bucket
      if (resume === undefined || s3Bucket === null) continue
      await inGroup(logger, `Record the restore of ${entry.table}`, () =>
        recordAdoptedRestore(clients.forRegion(finding.region), { ...tableInput(finding), s3Bucket }, resume)
      )
    }
  } catch (err) {
    const state =
      err instanceof OperationError
        ? err.state
        : `An unexpected error stopped the run at ${current}; the steps listed as done are all that happened to it.`
    steps.failed(
      current,
      err instanceof SafetyRefusal ? 'refused' : err instanceof Interrupted ? 'interrupted' : 'stopped',
      errorMessage(err)
    )
    // A safety refusal changed nothing for its table: the run is blocked, not failed.
    return finish(
      err instanceof SafetyRefusal ? 'blocked' : 'failed',
      `${errorMessage(err)} ${state}${doneSoFar(steps)}`
    )
  }

  return finish(inputs.dryRun ? 'dry-run' : 'resolved')
}

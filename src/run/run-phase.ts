import { existsSync } from 'node:fs'
import { InputError } from '../errors.js'
import { assertBackupBucket } from '../execute/backup-bucket.js'
import { discoverTables, readDeployment } from '../discover/discover.js'
import { readCallerIdentity } from '../inspect/identity.js'
import { accountRefusal } from '../inspect/inspect.js'
import { readManifest } from '../data/manifest.js'
import { uploadRunArtifact, type ArtifactUpload } from '../execute/artifact.js'
import { executePlan, type ExecuteDeps } from '../execute/execute-plan.js'
import { namedBackup, restoreBackups, restoreNamedBackup } from '../execute/restore-backups.js'
import { errorMessage } from '../errors.js'
import {
  findRestoreStates,
  pendingRestore,
  restoreNotes,
  type StageTable,
  type TableRestoreState
} from '../inspect/owed-restores.js'
import { backupsToRetire } from '../plan/backup-retention.js'
import { retireBackups } from '../execute/backup-retention.js'
import { checkTables } from './check-tables.js'
import { checkWarnings } from '../plan/warnings.js'
import { readRunRecord, writeRunRecord } from './run-record.js'
import {
  inGroup,
  type CallerIdentity,
  type Check,
  type ImportArtifact,
  type Inputs,
  type PendingRestore,
  type RunResult,
  type TableSpec,
  type UnresolvedTable
} from '../types.js'

export interface PhaseDeps extends ExecuteDeps {
  /** This workflow run (run-record.ts currentRunId): ties the restore step to its pre-deploy step ('' outside Actions). */
  runId: string
}

export interface PhaseResult {
  result: RunResult
  unresolved: UnresolvedTable[]
  notes: string[]
  /** What makes the check uncertain (plan/warnings.ts): already logged as annotations, shown first in the report. */
  warnings: string[]
  importArtifacts: ImportArtifact[]
  /** The workflow artifact of this run's files (upload-artifact), when one was uploaded. */
  artifact?: ArtifactUpload | null
  /** The credentials' identity, when the phase read it. */
  identity?: CallerIdentity | null
  /** The accounts the template's stacks are pinned to (masked in the PR comment like the credentials'). */
  templateAccounts?: string[]
}

/** The accounts the discovered tables' stacks are pinned to. */
function pinnedAccounts(tables: TableSpec[]): string[] {
  return [...new Set(tables.flatMap(t => (t.account === undefined ? [] : [t.account])))]
}

async function preDeployPhase(inputs: Inputs, deps: PhaseDeps): Promise<PhaseResult> {
  const check = await checkTables(inputs, deps.clients, deps.logger)
  const unresolved = check.plan.unresolved ?? []
  const executed = await executePlan(check, inputs, deps)
  const { importArtifacts } = executed
  const { states, ...owed } = await owedAfterPreDeploy(
    check,
    inputs,
    deps,
    executed.result,
    check.restoreStates
  )
  const result: RunResult = { ...executed.result, ...owed }
  await cleanUpOldBackups(check, inputs, deps, result, states)
  if (result.backupManifests.length > 0) {
    await writeRunRecord(inputs.backupDir, {
      stage: inputs.stage,
      runId: deps.runId,
      manifests: result.backupManifests
    }).catch((err: unknown) =>
      deps.logger.warning(`Could not leave the run record for the restore step: ${errorMessage(err)}`)
    )
  }
  let artifact: ArtifactUpload | null = null
  if (inputs.uploadArtifact) {
    artifact = await uploadRunArtifact({
      backupDir: inputs.backupDir,
      stage: inputs.stage,
      manifests: result.backupManifests,
      importTemplates: importArtifacts.map(a => a.templatePath),
      retentionDays: inputs.artifactRetentionDays,
      logger: deps.logger,
      now: deps.clock.now()
    })
  } else if (result.backupManifests.length > 0) {
    deps.logger.info(
      `upload-artifact is off: the exports stay in ${inputs.backupDir} on this runner only, for the restore step of this job${inputs.awsBackup ? ' (and in the on-demand backups)' : ''}.`
    )
  }
  return {
    result,
    unresolved,
    notes: [...check.discovery.notes, ...check.plan.notes],
    warnings: checkWarnings(check),
    importArtifacts,
    artifact,
    identity: check.identity,
    templateAccounts: pinnedAccounts(check.discovery.tables)
  }
}

/** The named tables of a discovery, each in the region the deploy creates it in. */
function named(tables: TableSpec[], defaultRegion: string): StageTable[] {
  return tables.flatMap(t =>
    t.tableName === null ? [] : [{ name: t.tableName, region: t.region ?? defaultRegion }]
  )
}

/** The owed restores of the looked-up tables, each said once in the log (notes as warnings). */
function announceOwed(
  states: TableRestoreState[],
  logger: PhaseDeps['logger']
): { pendingRestores: PendingRestore[]; restoreNotes: string[] } {
  const pendingRestores = states.flatMap(s => pendingRestore(s) ?? [])
  const notes = restoreNotes(states)
  for (const note of notes) logger.warning(note)
  for (const p of pendingRestores)
    logger.notice?.(
      `${p.table} still owes a restore from ${p.backup} (taken ${p.takenAt}): phase restore after the deploy loads it.`
    )
  return { pendingRestores, restoreNotes: notes }
}

/**
 * After the pre-deploy work (also after a failure, also in a dry run): which tables of the stage
 * still owe a restore, found in AWS, this run's exports included. `before` is the lookup the check
 * made before planning: a table this run did something to (a step done or failed:
 * a backup, a delete, an import, a recorded restore) is looked up again, since its state may have
 * changed; the others keep that answer, which nothing in this run can have changed. A failed lookup
 * is a note, never a failure of the run: the deploy does not depend on it.
 */
async function owedAfterPreDeploy(
  check: Check,
  inputs: Inputs,
  deps: PhaseDeps,
  result: RunResult,
  before: TableRestoreState[]
): Promise<Pick<RunResult, 'pendingRestores' | 'restoreNotes'> & { states?: TableRestoreState[] }> {
  try {
    // The tables the check looked at: one of a stack for another account is never looked at.
    const tables = check.inspection.findings
      .filter(f => !f.notCheckable)
      .map(f => ({ name: f.tableName, region: f.region }))
    const touched = new Set(
      result.steps.filter(s => s.status === 'done' || s.status === 'failed').map(s => s.table)
    )
    const known = (t: StageTable) =>
      touched.has(t.name) ? undefined : before.find(s => s.table === t.name && s.region === t.region)
    const fresh = await findRestoreStates(deps.clients, {
      stage: inputs.stage,
      account: check.identity?.account ?? null,
      s3Bucket: inputs.s3Bucket,
      tables: tables.filter(t => known(t) === undefined),
      localManifests: result.backupManifests
    })
    const states = tables.flatMap(
      t => known(t) ?? fresh.find(s => s.table === t.name && s.region === t.region) ?? []
    )
    return { ...announceOwed(states, deps.logger), states }
  } catch (err) {
    return lookupFailed(err, deps.logger)
  }
}

/** A failed owed-restore lookup: a note (and a warning), never a failure of the run. */
function lookupFailed(err: unknown, logger: PhaseDeps['logger']): Pick<RunResult, 'restoreNotes'> {
  const note = `Owed restores could not be looked up: ${errorMessage(err)}`
  logger.warning(note)
  return { restoreNotes: [note] }
}

/** Outcomes after which a pre-deploy run deletes old backups: it went through (or would, in a dry run). */
const CLEAN_AFTER: ReadonlySet<RunResult['outcome']> = new Set(['nothing-to-do', 'resolved', 'dry-run'])

/**
 * After a pre-deploy run that failed before it had a plan (a read of AWS failed, the bucket was
 * refused): the owed restores all the same, best effort, so that the sticky comment keeps naming
 * them and restore-needed stays true. The stage's tables as the restore phase finds them (the
 * template, else the tables input).
 */
export async function owedAfterFailure(
  inputs: Inputs,
  deps: ExecuteDeps
): Promise<Pick<RunResult, 'pendingRestores' | 'restoreNotes'>> {
  try {
    const who = await readCallerIdentity(deps.clients.forRegion(deps.clients.defaultRegion).sts)
    const tables = await stageTables(inputs, [], who, []).catch(() =>
      inputs.tables.length > 0 ? inputs.tables.map(name => ({ name, region: inputs.awsRegion })) : null
    )
    if (tables === null) return {}
    const states = await findRestoreStates(deps.clients, {
      stage: inputs.stage,
      account: who.identity?.account ?? null,
      s3Bucket: inputs.s3Bucket,
      tables,
      localManifests: []
    })
    return announceOwed(states, deps.logger)
  } catch (err) {
    return lookupFailed(err, deps.logger)
  }
}

/**
 * aws-backup-retention-days, at the end of a pre-deploy run: the action's own old on-demand backups
 * of the stage's tables that nothing is owed from are deleted (plan/backup-retention.ts decides,
 * from the restore states this run has just read in AWS). Never in report mode, on a protected run,
 * after a run that failed, was blocked or interrupted, or without the owed lookup; a dry run lists
 * them. Never fails the run: what cannot be deleted is a warning and a note.
 */
async function cleanUpOldBackups(
  check: Check,
  inputs: Inputs,
  deps: PhaseDeps,
  result: RunResult,
  states: TableRestoreState[] | undefined
): Promise<void> {
  const { logger } = deps
  if (inputs.awsBackupRetentionDays === 0 || inputs.strategy === 'report') return
  const skip = (why: string): void => logger.debug(`Old backups are not deleted: ${why}.`)
  if (check.plan.policy.protectedStage)
    return skip(`the run is protected (${check.plan.policy.protectedBecause ?? 'protected-stages'})`)
  if (!CLEAN_AFTER.has(result.outcome)) return skip(`the run's outcome is ${result.outcome}`)
  if (deps.signal?.aborted === true) return skip('the run was interrupted')
  if (states === undefined) return skip('the owed restores could not be looked up')
  const { retire, kept } = backupsToRetire(states, {
    retentionDays: inputs.awsBackupRetentionDays,
    now: deps.clock.now(),
    stage: inputs.stage,
    account: check.identity?.account ?? null,
    backedUp: check.plan.entries
      .filter(e => e.decision === 'backup-restore')
      .map(e => ({ table: e.table, region: e.region ?? inputs.awsRegion }))
  })
  const old = kept.filter(k => k.old)
  if (retire.length === 0 && old.length === 0) {
    // The usual case: a line for the debug log, no group of its own.
    logger.debug(`No backup of this stage is older than ${inputs.awsBackupRetentionDays} days.`)
    result.deletedBackups = []
    return
  }
  await inGroup(logger, 'Old backups', async () => {
    for (const k of old) logger.info(`${k.table}: old backup ${k.arn} kept: ${k.why}`)
    const done = await retireBackups(deps.clients, { backups: retire, dryRun: inputs.dryRun, logger })
    result.deletedBackups = done.deleted
    if (done.notes.length > 0) result.restoreNotes = [...(result.restoreNotes ?? []), ...done.notes]
  })
}

/**
 * The tables of this stage the restore phase may load, each in its region: the template's (names
 * resolved as the pre-deploy step resolved them: with the credentials' account), restricted to the
 * `tables` input when given; a table whose stack is for another account is left out, as the
 * pre-deploy step leaves it alone. Without a template, the `tables` input, each in the region of
 * this run's export of it (else the action's region). Null when neither says.
 */
async function stageTables(
  inputs: Inputs,
  localManifests: string[],
  { identity, problem }: { identity: CallerIdentity | null; problem?: string },
  accounts: string[]
): Promise<StageTable[] | null> {
  if (!existsSync(inputs.template)) {
    if (inputs.tables.length === 0) return null
    const regions = new Map<string, string>()
    for (const path of localManifests) {
      const manifest = await readManifest(path).catch(() => null)
      if (manifest) regions.set(manifest.table.name, manifest.table.region)
    }
    return inputs.tables.map(name => ({ name, region: regions.get(name) ?? inputs.awsRegion }))
  }
  const deployment = readDeployment({
    template: inputs.template,
    stage: inputs.stage,
    stackName: inputs.stackName,
    tables: inputs.tables
  })
  const discovery = discoverTables(deployment, {
    template: inputs.template,
    stage: inputs.stage,
    tables: inputs.tables,
    region: inputs.awsRegion,
    ...(identity ? { account: identity.account } : {}),
    ...(problem ? { accountUnknown: problem } : {})
  })
  accounts.push(...pinnedAccounts(discovery.tables))
  const checkable = discovery.tables.filter(t => accountRefusal(t, identity, problem) === null)
  return named(checkable, inputs.awsRegion)
}

async function restorePhase(inputs: Inputs, deps: PhaseDeps): Promise<PhaseResult> {
  const dryRun = inputs.dryRun || inputs.strategy === 'report'
  // Read once: the tables of another account are left out, and the report masks the account.
  const who = await readCallerIdentity(deps.clients.forRegion(deps.clients.defaultRegion).sts)
  const named = namedBackup(inputs.backupDir)
  if (named !== null) {
    // A backup of this action is restored in the region it was taken in (its manifest says).
    const manifest = 'manifestPath' in named ? await readManifest(named.manifestPath).catch(() => null) : null
    const home = deps.clients.forRegion(deps.clients.defaultRegion)
    const here = deps.clients.forRegion(manifest?.table.region ?? deps.clients.defaultRegion)
    const result = await restoreNamedBackup(
      { ...here, s3: home.s3 },
      {
        backup: named,
        stage: inputs.stage,
        s3Bucket: inputs.s3Bucket,
        tables: inputs.tables,
        dryRun,
        logger: deps.logger,
        clock: deps.clock,
        signal: deps.signal
      }
    )
    return { result, unresolved: [], notes: [], warnings: [], importArtifacts: [], identity: who.identity }
  }
  const localManifests = await readRunRecord(inputs.backupDir, inputs.stage, deps.runId)
  const templateAccounts: string[] = []
  const tables = await stageTables(inputs, localManifests, who, templateAccounts)
  if (tables === null) {
    // Restoring "whatever is in the folder" could load another stage's or a stale backup.
    throw new InputError(
      'template',
      `phase restore needs to know this stage's tables: no template at ${inputs.template} and no tables input. Set template (the same as in the pre-deploy step) or tables.`
    )
  }
  const result = await restoreBackups(deps.clients, {
    backupDir: inputs.backupDir,
    stage: inputs.stage,
    s3Bucket: inputs.s3Bucket,
    tables,
    localManifests,
    dryRun,
    logger: deps.logger,
    clock: deps.clock,
    signal: deps.signal,
    identity: who.identity
  })
  return {
    result,
    unresolved: [],
    notes: [],
    warnings: [],
    importArtifacts: [],
    identity: who.identity,
    templateAccounts
  }
}

/** Runs the phase the inputs ask for. */
export async function runPhase(inputs: Inputs, deps: PhaseDeps): Promise<PhaseResult> {
  // The bucket first: a copy that cannot be written must not be found out after a table is gone.
  if (inputs.s3Bucket !== null) {
    const home = deps.clients.forRegion(deps.clients.defaultRegion)
    await assertBackupBucket(home.s3, inputs.s3Bucket, inputs.awsRegion)
  }
  return inputs.phase === 'restore' ? restorePhase(inputs, deps) : preDeployPhase(inputs, deps)
}

/**
 * phase: restore. For each table of the stage whose restore is owed (inspect/owed-restores.ts:
 * found in AWS, not on the runner), load exactly that backup into the table the deploy created,
 * from the first source that is there, in this order: this run's export in backup-dir; the S3
 * copy (downloaded into backup-dir, which is only a cache); the on-demand backup (restored by
 * DynamoDB into a temporary table, exported from there and copied with the same checked,
 * resumable restore, then the temporary table deleted). Then the table is verified (count and
 * content digest) and the restore recorded in AWS: the marker object in the backup's S3 folder
 * and the restored-from tag on the table. The next run finds nothing owed.
 */
import { existsSync, statSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { AwsClients, RegionalClients } from '../aws/clients.js'
import { describeBackup, restoreTableFromBackup } from '../aws/backup.js'
import { describeTableOrNull, listAllTags } from '../aws/dynamodb-read.js'
import { deleteTableAndWait, tagTable, waitForTable } from '../aws/dynamodb-write.js'
import { downloadObject, s3Uri } from '../aws/s3.js'
import {
  RESTORED_MARKER,
  RESTORING_TAG,
  RESTORED_TAG,
  restoredTagValue,
  s3ExportFolder,
  TEMPORARY_TAG,
  temporaryTableName,
  timestampToIso
} from '../data/backup-set.js'
import { downloadDynamoDBExport } from '../data/dynamodb-export.js'
import { exportTable } from '../data/export.js'
import { recordRestore } from '../data/restore-record.js'
import { MANIFEST_FILE, readManifest, writeFileAtomic } from '../data/manifest.js'
import {
  ItemDoesNotFitError,
  restoreTable,
  TargetHoldsDataError,
  type RestoreReport
} from '../data/restore.js'
import { sha256File } from '../data/readers.js'
import { assertWindowHolds, copyDifferences, digestTable, ttlNote } from '../data/verify.js'
import { errorMessage, FileError, InputError, Interrupted, OperationError } from '../errors.js'
import { readCallerIdentity } from '../inspect/identity.js'
import {
  findRestoreStates,
  pendingRestore,
  restoreNotes,
  setSources,
  type BackupSet,
  type StageTable,
  type TableRestoreState
} from '../inspect/owed-restores.js'
import {
  type CallerIdentity,
  inGroup,
  type Clock,
  type Logger,
  type PendingRestore,
  type RestoreSource,
  type RunResult,
  type S3Location
} from '../types.js'
import { callText, StepLog } from './steps.js'
import { removeLeftoverFence } from './write-fence.js'

export interface RestoreBackupsInput {
  backupDir: string
  stage: string
  s3Bucket: S3Location | null
  /** Tables of this stage (from the template or the tables input), each in its region. */
  tables: StageTable[]
  /** The manifests this run's pre-deploy step wrote in backup-dir (its run record). */
  localManifests: string[]
  dryRun: boolean
  logger: Logger
  clock: Clock
  /** Stops the copy at its next batch, checkpoint written (a later run resumes); no next table starts. */
  signal?: AbortSignal
  /** The credentials' identity when the caller read it already (else read here). */
  identity?: CallerIdentity | null
}

/** A restore from an on-demand backup can take long (DynamoDB restores in the background). */
const TEMPORARY_TABLE_WAIT_MS = 6 * 3_600_000
const TEMPORARY_TABLE_POLL_MS = 10_000

/** Where the S3 copy of a set is kept on the runner (a cache): `<backup-dir>/<table>/<timestamp>/`. */
function cacheDir(backupDir: string, set: BackupSet): string {
  return join(backupDir, set.table, set.timestamp)
}

/** Where the export of the temporary table goes: `<backup-dir>/<table>/<timestamp>-aws-backup/`. */
function temporaryExportDir(backupDir: string, set: BackupSet): string {
  return join(backupDir, set.table, `${set.timestamp}-aws-backup`)
}

/** A copy that cannot be used (damaged, unreadable): the next source of the set is tried. */
class UnusableCopy extends Error {}

interface Loaded {
  report: RestoreReport
  source: RestoreSource
  backup: string
  manifestPath: string
}

/**
 * phase: restore for the tables of the stage. Never loads anything that is not owed; a failure of
 * one table does not stop the others.
 */
export async function restoreBackups(
  regional: RegionalClients,
  input: RestoreBackupsInput
): Promise<RunResult> {
  const { logger } = input
  const steps = new StepLog(message => logger.info(message))
  const result: RunResult = {
    outcome: 'nothing-to-do',
    plan: null,
    steps: steps.steps,
    backupManifests: [],
    backupArns: [],
    restoredItems: 0,
    pendingRestores: [],
    restoreNotes: []
  }
  const home = regional.forRegion(regional.defaultRegion)
  const identity =
    input.identity !== undefined ? input.identity : (await readCallerIdentity(home.sts)).identity
  const states = await findRestoreStates(regional, {
    stage: input.stage,
    account: identity?.account ?? null,
    s3Bucket: input.s3Bucket,
    tables: input.tables,
    localManifests: input.localManifests
  })
  result.restoreNotes = restoreNotes(states)
  for (const note of result.restoreNotes) logger.warning(note)

  const pending: PendingRestore[] = []
  const failures: string[] = []
  let interrupted = false
  for (const state of states) {
    const { table } = state
    const s = state.state
    // The table's region for DynamoDB; the bucket is read in the action's region, where it is.
    const clients: AwsClients = { ...regional.forRegion(state.region), s3: home.s3 }
    if (s.kind === 'problem') {
      steps.failed(table, 'restore', s.why)
      failures.push(`${table}: ${s.why}`)
      continue
    }
    if (s.kind === 'restored') {
      steps.skipped(table, 'restore', `already restored and verified (${s.record})`)
      if (state.leftoverTemporaryTable !== null && !input.dryRun)
        await dropTemporaryTable(clients, input, state, steps)
      continue
    }
    if (s.kind === 'not-owed') {
      steps.skipped(table, 'restore', `nothing owed from backup ${s.set.timestamp}: ${s.why}`)
      continue
    }
    if (s.kind === 'none') continue
    if (input.dryRun) {
      planRestore(input, state, s.set, steps)
      continue
    }
    if (input.signal?.aborted === true) {
      const owed = pendingRestore(state)
      if (owed !== null) pending.push(owed)
      steps.skipped(table, 'restore', 'not started: the run was interrupted')
      interrupted = true
      continue
    }
    try {
      const loaded = await inGroup(logger, `Restore ${table}`, () =>
        restoreSet(clients, input, state, s.set, steps)
      )
      // A restore an earlier run had finished (and verified) is not counted again.
      if (!loaded.report.alreadyVerified) result.restoredItems += loaded.report.itemsTotal
      result.backupManifests.push(loaded.manifestPath)
      if (loaded.source === 'aws-backup') result.backupArns.push(loaded.backup)
    } catch (err) {
      const owed = pendingRestore(state)
      if (owed !== null) pending.push(owed)
      const state_ = err instanceof OperationError ? ` ${err.state}` : ''
      if (err instanceof Interrupted) interrupted = true
      steps.failed(
        table,
        err instanceof Interrupted ? 'interrupted' : 'restore',
        `${errorMessage(err)}${state_}`
      )
      failures.push(`${table}: ${errorMessage(err)}${state_}`)
    }
  }
  if (input.dryRun)
    for (const state of states) {
      const owed = pendingRestore(state)
      if (owed !== null) pending.push(owed)
    }
  result.pendingRestores = pending

  if (failures.length > 0 || interrupted) {
    const restored = steps.steps.filter(x => x.action === 'record restore' && x.status === 'done')
    return {
      ...result,
      outcome: 'failed',
      stateNote: [
        ...failures,
        `${interrupted ? 'The run was interrupted. ' : ''}${restored.length} table(s) restored and verified in this run. The backups are untouched: running phase restore again resumes each unfinished restore (on this runner from its checkpoint; on another runner, from the first item into the same table, which carries the tag ${RESTORING_TAG}) or verifies again, and the next pre-deploy run reports what is still owed.`
      ].join(' ')
    }
  }
  const acted = steps.steps.some(x => x.status === 'done' || x.status === 'planned')
  if (!acted) logger.info('No restore is owed for the tables of this stage: nothing to do.')
  return { ...result, outcome: input.dryRun && acted ? 'dry-run' : acted ? 'restored' : 'nothing-to-do' }
}

/** Dry run: what the restore would do, calls named, nothing called. */
function planRestore(
  input: RestoreBackupsInput,
  state: TableRestoreState,
  set: BackupSet,
  steps: StepLog
): void {
  const { table } = state
  const [first] = setSources(set)
  if (first === undefined) return
  if (first.source === 'aws-backup') {
    const temp = temporaryTableName(table, set.timestamp)
    steps.planned(
      table,
      'restore from on-demand backup',
      callText('RestoreTableFromBackup', { BackupArn: first.backup, TargetTableName: temp })
    )
    steps.planned(
      table,
      'copy',
      `Scan ${temp} into ${temporaryExportDir(input.backupDir, set)}, then BatchWriteItem into ${table}`
    )
  } else {
    const from =
      first.source === 's3'
        ? `${first.backup} (downloaded into ${cacheDir(input.backupDir, set)})`
        : first.backup
    steps.planned(
      table,
      'restore',
      `BatchWriteItem the backup taken ${set.takenAt} from ${from} into ${table}`
    )
  }
  steps.planned(table, 'verify', `Scan ${table}: item count and content digest must equal the backup's`)
  steps.planned(table, 'record restore', recordText(input, table, set))
}

function recordText(input: RestoreBackupsInput, table: string, set: BackupSet): string {
  const tag = `TagResource ${RESTORED_TAG}=${restoredTagValue(input.stage, set.timestamp)} on ${table}`
  if (input.s3Bucket === null) return tag
  const key = `${s3ExportFolder(input.s3Bucket, input.stage, table, set.timestamp)}${RESTORED_MARKER}`
  return `${tag}; PutObject ${s3Uri(input.s3Bucket.bucket, key)}`
}

/** Restores one owed set from the first source that works, verifies, records. */
async function restoreSet(
  clients: AwsClients,
  input: RestoreBackupsInput,
  state: TableRestoreState,
  set: BackupSet,
  steps: StepLog
): Promise<Loaded> {
  const { table } = state
  // The table the deploy created may carry the write fence put on the table the pre-deploy step
  // deleted (an endpoint may keep a resource policy across delete and re-create under the same
  // name; moto does): writes to it would be denied. Take it down.
  const targetArn = (await describeTableOrNull(clients.dynamodb, table))?.TableArn
  if (
    targetArn &&
    (await removeLeftoverFence(clients.dynamodb, { name: table, arn: targetArn }, input.clock))
  )
    steps.done(table, 'write fence removed', 'the new table carried the write fence of the table it replaces')
  const problems: string[] = []
  for (const { source, backup } of setSources(set)) {
    let loaded: Loaded
    try {
      loaded = await loadFrom(clients, input, state, set, source, backup, steps)
    } catch (err) {
      if (!(err instanceof UnusableCopy)) throw err
      problems.push(err.message)
      steps.skipped(table, 'restore', `${err.message}; trying the next copy`)
      continue
    }
    await recordLoaded(clients, input, table, set, loaded, steps)
    if (source === 'aws-backup') await dropTemporaryTable(clients, input, state, steps)
    return loaded
  }
  throw new OperationError(
    `No copy of the backup taken ${set.takenAt} of ${table} could be used: ${problems.join('; ')}`,
    'nothing was written'
  )
}

async function loadFrom(
  clients: AwsClients,
  input: RestoreBackupsInput,
  state: TableRestoreState,
  set: BackupSet,
  source: RestoreSource,
  backup: string,
  steps: StepLog
): Promise<Loaded> {
  const { table } = state
  let manifestPath: string
  if (source === 'backup-dir') manifestPath = backup
  else if (source === 's3') manifestPath = await downloadSet(clients, input, set, steps)
  else manifestPath = await exportFromOnDemandBackup(clients, input, set, state.region, steps)

  let report: RestoreReport
  try {
    report = await restoreTable(clients.dynamodb, {
      manifestPath,
      table,
      logger: input.logger,
      clock: input.clock,
      verify: true,
      signal: input.signal,
      // A restore cut short on another runner (no checkpoint here) is resumed into the same table.
      restartMark: { key: RESTORING_TAG, value: restoredTagValue(input.stage, set.timestamp) }
    })
  } catch (err) {
    // A damaged copy is found before anything is written: the next copy may be whole. (An item
    // that does not fit the target's keys is in every copy: no use trying them.)
    if (err instanceof FileError && !(err instanceof ItemDoesNotFitError))
      throw new UnusableCopy(`${backup}: ${errorMessage(err)}`)
    if (err instanceof TargetHoldsDataError) {
      return {
        report: await alreadyRestored(clients, input, table, manifestPath, err),
        source,
        backup,
        manifestPath
      }
    }
    throw err
  }
  const how = report.restartedWithoutCheckpoint
    ? report.itemsWritten === 0
      ? `resumed without a checkpoint: the table already held exactly the backup (an earlier run, tag ${RESTORING_TAG}, restored and verified it but did not record it); nothing written`
      : `resumed without a checkpoint: ${report.itemsWritten} items written again (an earlier run had begun this restore into this table, tag ${RESTORING_TAG})`
    : report.state === 'verified' && report.itemsWritten === 0 && report.resumed
      ? 'restored and verified by an earlier run (its checkpoint says so)'
      : `${report.itemsWritten} items${report.resumed ? ` (resumed: ${report.itemsSkipped} were written by an earlier run)` : ''}`
  steps.done(table, 'restore', `${how} from ${backup}`)
  steps.done(
    table,
    'verify',
    report.verifyNote ?? `${report.expected.itemCount} items, content digest equal to the backup's`
  )
  return { report, source, backup, manifestPath }
}

/**
 * The target holds items and no checkpoint of ours explains them. If they are exactly the
 * backup's (the restore was done and verified, but its record was lost or never written), the
 * restore is complete; otherwise nothing is written.
 */
async function alreadyRestored(
  clients: AwsClients,
  input: RestoreBackupsInput,
  table: string,
  manifestPath: string,
  refusal: TargetHoldsDataError
): Promise<RestoreReport> {
  const manifest = await readManifest(manifestPath)
  // The restore's own TTL window (it began just now) and the backup's part for it, from the files
  // its precheck read: the backup may be days old.
  const backup = refusal.backup
  const window = backup.ttl
    ? { attribute: backup.ttl.attribute, startedAt: backup.ttl.startedAt, cutoff: backup.ttl.cutoff }
    : undefined
  const found = await digestTable(clients.dynamodb, { table, clock: input.clock, ttl: window })
  assertWindowHolds(window, input.clock.now(), `The check of what ${table} holds`)
  const differences = copyDifferences(backup, found, { expected: 'backup', found: 'table' })
  if (differences.length > 0) {
    throw new OperationError(
      `${refusal.message} (it holds ${found.itemCount} items that are not the backup's: ${differences.join('; ')})`,
      'Nothing was written. The action only restores into an empty table: empty it (or delete it and deploy again) and run phase restore again.'
    )
  }
  const note = ttlNote(window, backup, found)
  input.logger.info(
    found.ttl
      ? `${table} already holds exactly the backup's ${found.ttl.alive.itemCount} items alive past the TTL cutoff: the restore is complete (${note ?? ''})`
      : `${table} already holds exactly the backup's ${found.itemCount} items: the restore is complete`
  )
  const described = await describeTableOrNull(clients.dynamodb, table)
  return {
    table,
    source: manifestPath,
    itemsTotal: manifest.itemCount,
    itemsWritten: 0,
    itemsSkipped: manifest.itemCount,
    resumed: true,
    restartedWithoutCheckpoint: false,
    batches: 0,
    requests: 0,
    retries: { unprocessedItems: 0, throttled: 0, transient: 0, sdkRetries: 0 },
    peakConcurrency: 0,
    durationMs: 0,
    checkpointPath: '',
    expected: { itemCount: found.itemCount, contentDigest: found.contentDigest, algorithm: found.algorithm },
    target: {
      arn: described?.TableArn ?? '',
      createdAt: described?.CreationDateTime?.toISOString() ?? ''
    },
    state: 'verified',
    alreadyVerified: true,
    verifyNote: note
  }
}

/** The S3 copy into backup-dir (files already there with the right sha256 are kept). */
async function downloadSet(
  clients: AwsClients,
  input: RestoreBackupsInput,
  set: BackupSet,
  steps: StepLog
): Promise<string> {
  const copy = set.s3 as NonNullable<BackupSet['s3']>
  const dir = cacheDir(input.backupDir, set)
  if (copy.manifest.dataFormat === 'DYNAMODB_EXPORT') {
    // The server-side path's copy with point-in-time recovery on: DynamoDB's own export.
    let got
    try {
      got = await downloadDynamoDBExport(clients.s3, { manifest: copy.manifest, manifestUri: copy.uri, dir })
    } catch (err) {
      throw new UnusableCopy(`${copy.uri}: DynamoDB's export could not be used: ${errorMessage(err)}`)
    }
    steps.done(
      set.table,
      'download',
      `DynamoDB's export ${copy.manifest.serverSide?.export?.arn ?? ''} that ${copy.uri} names (${got.files} data files, ${got.bytes} bytes fetched${got.fromManifest ? ", each checked against DynamoDB's manifest-files.json" : ''}) into ${dir}: its ${copy.manifest.serverSide?.items ?? 0} items equal the table as it was scanned before the delete (count and content digest)`
    )
    return got.manifestPath
  }
  let bytes = 0
  try {
    for (const file of copy.manifest.dataFiles) {
      const path = join(dir, file.path)
      if (existsSync(path) && (await sha256File(path)).sha256 === file.sha256) continue
      await mkdir(join(path, '..'), { recursive: true })
      const got = await downloadObject(
        clients.s3,
        { bucket: copy.bucket, key: `${copy.folder}${file.path}` },
        path
      )
      bytes += got.bytes
      if (got.sha256 !== file.sha256)
        throw new Error(
          `${s3Uri(copy.bucket, `${copy.folder}${file.path}`)} has sha256 ${got.sha256}, the manifest says ${file.sha256}`
        )
    }
    await mkdir(dir, { recursive: true })
    // The manifest last, as the export writes it: a folder without one is unfinished.
    await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(copy.manifest, null, 2)}\n`)
  } catch (err) {
    throw new UnusableCopy(`${copy.uri}: download failed: ${errorMessage(err)}`)
  }
  steps.done(
    set.table,
    'download',
    `${copy.uri} (${copy.manifest.dataFiles.length} data files, ${bytes} bytes fetched) into ${dir}`
  )
  return join(dir, MANIFEST_FILE)
}

/**
 * The on-demand backup restored by DynamoDB into a temporary table (or the one an interrupted run
 * left, if it was restored from this very backup), then exported to backup-dir, so that the
 * copy into the target is the same checked, resumable restore as from an export.
 */
async function exportFromOnDemandBackup(
  clients: AwsClients,
  input: RestoreBackupsInput,
  set: BackupSet,
  region: string,
  steps: StepLog
): Promise<string> {
  const { table } = set
  const arn = (set.onDemand as NonNullable<BackupSet['onDemand']>).arn
  const temp = temporaryTableName(table, set.timestamp)
  const dir = temporaryExportDir(input.backupDir, set)
  const manifestPath = join(dir, MANIFEST_FILE)
  if (existsSync(manifestPath)) {
    // An earlier attempt on this runner exported it already.
    steps.done(table, 'copy', `using the export of ${temp} made by an earlier attempt (${manifestPath})`)
    return manifestPath
  }
  const wait = { ...input.clock, maxWaitMs: TEMPORARY_TABLE_WAIT_MS, pollMs: TEMPORARY_TABLE_POLL_MS }
  try {
    const existing = await describeTableOrNull(clients.dynamodb, temp)
    if (existing === null) {
      await describeBackup(clients.dynamodb, arn)
      await restoreTableFromBackup(clients.dynamodb, { backupArn: arn, targetTable: temp })
      steps.done(
        table,
        'restore from on-demand backup',
        `RestoreTableFromBackup ${arn} into the temporary table ${temp}`
      )
    } else if (existing.RestoreSummary?.SourceBackupArn !== arn) {
      throw new OperationError(
        `A table named ${temp} exists but was not restored from ${arn}`,
        `Nothing was written and ${temp} was not touched. Delete or rename it, then run phase restore again.`
      )
    } else
      steps.done(
        table,
        'restore from on-demand backup',
        `the temporary table ${temp} left by an earlier attempt`
      )
    await waitForTable(clients.dynamodb, temp, 'ACTIVE', wait)
    const described = await describeTableOrNull(clients.dynamodb, temp)
    if (described?.TableArn)
      await tagTable(clients.dynamodb, described.TableArn, { [TEMPORARY_TAG]: table }).catch((err: unknown) =>
        input.logger.warning(`Could not tag ${temp}: ${errorMessage(err)}`)
      )
  } catch (err) {
    if (err instanceof OperationError) throw err
    throw new OperationError(
      `Restoring the on-demand backup ${arn} into the temporary table ${temp} failed: ${errorMessage(err)}`,
      `Nothing was written into ${table}. Grant dynamodb:RestoreTableFromBackup (and the item writes DynamoDB makes for it) and run phase restore again; a temporary table left behind is reported by the next run.`,
      { cause: err }
    )
  }
  const manifest = await exportTable(clients.dynamodb, {
    table: temp,
    dir,
    region,
    stage: input.stage,
    logger: input.logger,
    clock: input.clock,
    signal: input.signal
  })
  // Scanned again: the export must hold exactly what the temporary table holds (nobody writes to it).
  const again = await digestTable(clients.dynamodb, { table: temp, clock: input.clock })
  const differences = copyDifferences(
    { itemCount: manifest.itemCount, contentDigest: manifest.contentDigest.value },
    again,
    { expected: 'export', found: temp }
  )
  if (differences.length > 0) {
    await rm(dir, { recursive: true, force: true })
    throw new OperationError(
      `The copy of the temporary table ${temp} does not match it: ${differences.join('; ')}`,
      `Nothing was written into ${table}. Run phase restore again (the temporary table is used again).`
    )
  }
  steps.done(
    table,
    'copy',
    `${manifest.itemCount} items of ${temp} exported to ${dir} and scanned again: equal, checked before the restore`
  )
  return manifestPath
}

/** The restore recorded where a runner cannot fake it: the S3 marker, and the tag on the table (data/restore-record.ts). */
async function recordLoaded(
  clients: AwsClients,
  input: RestoreBackupsInput,
  table: string,
  set: BackupSet,
  loaded: Loaded,
  steps: StepLog
): Promise<void> {
  const written = await recordRestore(clients, {
    record: {
      table,
      stage: input.stage,
      backupTakenAt: set.takenAt,
      source: loaded.source,
      backup: loaded.backup,
      target: loaded.report.target,
      items: loaded.report.expected.itemCount,
      contentDigest: loaded.report.expected.contentDigest,
      restoredAt: new Date(input.clock.now()).toISOString()
    },
    timestamp: set.timestamp,
    s3:
      input.s3Bucket === null
        ? null
        : {
            bucket: input.s3Bucket.bucket,
            folder: s3ExportFolder(input.s3Bucket, input.stage, table, set.timestamp)
          },
    logger: input.logger,
    what: 'restored and verified',
    unrecorded:
      'The next run would report the restore as still owed. Fix the permission and run phase restore again: it finds the table equal to the backup and only records it.'
  })
  steps.done(table, 'record restore', written)
}

/** Deletes the temporary table of a set (only one this action restored: its RestoreSummary or tag says so). */
async function dropTemporaryTable(
  clients: AwsClients,
  input: RestoreBackupsInput,
  state: TableRestoreState,
  steps: StepLog
): Promise<void> {
  const set = state.state.kind === 'owed' || state.state.kind === 'restored' ? state.state.set : null
  const temp = state.leftoverTemporaryTable ?? (set ? temporaryTableName(state.table, set.timestamp) : null)
  if (temp === null) return
  try {
    const t = await describeTableOrNull(clients.dynamodb, temp)
    if (t === null) return
    // Only a table this action made: restored from the set's own backup, or from a backup of this
    // table and tagged by this action as the temporary table of its restore. A table that merely
    // carries the name is someone else's.
    const source = t.RestoreSummary?.SourceBackupArn
    const fromOurBackup = source !== undefined && source === set?.onDemand?.arn
    const taggedOurs =
      source !== undefined &&
      source.includes(`:table/${state.table}/backup/`) &&
      t.TableArn !== undefined &&
      (await listAllTags(clients.dynamodb, t.TableArn).catch((): Record<string, string> => ({})))[
        TEMPORARY_TAG
      ] === state.table
    if (!fromOurBackup && !taggedOurs) {
      steps.skipped(
        state.table,
        'delete temporary table',
        `${temp} was not restored by this action from a backup of ${state.table} (${source === undefined ? 'not restored from a backup' : `restored from ${source}`}): left as it is`
      )
      return
    }
    await deleteTableAndWait(clients.dynamodb, temp, {
      ...input.clock,
      maxWaitMs: 600_000,
      pollMs: 5_000
    })
    steps.done(state.table, 'delete temporary table', temp)
  } catch (err) {
    steps.failed(
      state.table,
      'delete temporary table',
      `${temp}: ${errorMessage(err)}; the next run reports it, delete it yourself if it stays`
    )
  }
}

/**
 * A backup named by backup-dir itself, for a restore the user asks for by name: one of this
 * action's exports (its manifest.json, or the folder holding it), or a `{"Items":[...]}` file
 * written by `aws dynamodb scan` (today's scripts). Null for a folder of backups (the usual
 * backup-dir), where only an owed restore is loaded.
 */
export function namedBackup(path: string): { manifestPath: string } | { legacyFile: string } | null {
  if (!existsSync(path)) return null
  if (statSync(path).isFile())
    return basename(path) === MANIFEST_FILE ? { manifestPath: path } : { legacyFile: path }
  const inside = join(path, MANIFEST_FILE)
  return existsSync(inside) ? { manifestPath: inside } : null
}

/**
 * phase: restore of the backup that backup-dir names into the one table `tables` names: the user's
 * choice, so nothing owed is looked up, and the same checks, checkpoint and verification apply. A
 * backup of this stage is recorded as restored in AWS, as an owed one would be.
 */
export async function restoreNamedBackup(
  clients: AwsClients,
  input: {
    backup: { manifestPath: string } | { legacyFile: string }
    stage: string
    s3Bucket: S3Location | null
    tables: string[]
    dryRun: boolean
    logger: Logger
    clock: Clock
    signal?: AbortSignal
  }
): Promise<RunResult> {
  const steps = new StepLog(message => input.logger.info(message))
  const path = 'manifestPath' in input.backup ? input.backup.manifestPath : input.backup.legacyFile
  const result: RunResult = {
    outcome: 'nothing-to-do',
    plan: null,
    steps: steps.steps,
    backupManifests: [],
    backupArns: [],
    restoredItems: 0
  }
  const table = input.tables.length === 1 ? input.tables[0] : undefined
  if (table === undefined) {
    throw new InputError(
      'tables',
      `backup-dir ${path} names one backup (${'manifestPath' in input.backup ? 'a backup manifest' : 'a scan output file, {"Items":[...]}'}): name exactly one target table in tables`
    )
  }
  if ('manifestPath' in input.backup) result.backupManifests.push(path)
  if (input.dryRun) {
    steps.planned(table, 'restore', `BatchWriteItem the items of ${path} into ${table}, then verify`)
    return { ...result, outcome: 'dry-run' }
  }
  try {
    const report = await inGroup(input.logger, `Restore ${table}`, () =>
      restoreTable(clients.dynamodb, {
        ...input.backup,
        table,
        logger: input.logger,
        clock: input.clock,
        verify: true,
        signal: input.signal
      })
    )
    steps.done(table, 'restore', `${report.itemsTotal} items from ${path}`)
    steps.done(
      table,
      'verify',
      report.verifyNote ?? `${report.expected.itemCount} items, content digest equal to the backup's`
    )
    if ('manifestPath' in input.backup) {
      const manifest = await readManifest(path)
      const stamp = basename(join(path, '..'))
      if (manifest.stage === input.stage && manifest.table.name === table && timestampToIso(stamp) !== null) {
        const set: BackupSet = {
          table,
          timestamp: stamp,
          takenAt: manifest.startedAt,
          sourceCreatedAt: manifest.table.createdAt ?? null,
          local: { manifestPath: path, manifest },
          s3: null,
          onDemand: null,
          s3Folder: null
        }
        await recordLoaded(
          clients,
          { ...input, backupDir: '', tables: [], localManifests: [] },
          table,
          set,
          { report, source: 'backup-dir', backup: path, manifestPath: path },
          steps
        )
      }
    }
    return {
      ...result,
      restoredItems: report.alreadyVerified ? 0 : report.itemsTotal,
      outcome: 'restored'
    }
  } catch (err) {
    const interrupted = err instanceof Interrupted
    steps.failed(table, interrupted ? 'interrupted' : 'restore', errorMessage(err))
    return {
      ...result,
      outcome: 'failed',
      stateNote:
        `${errorMessage(err)} ${err instanceof OperationError ? err.state : ''} The backup ${path} is intact; running phase restore again resumes from its checkpoint.`.trim()
    }
  }
}

/**
 * backup-restore, server-side path (plan/copy-path.ts): the table's items never pass through the
 * runner's writes. In order, each step only after the one before succeeded:
 *
 *  1. the last check before a change (execute/backup-delete.ts beginBackup);
 *  2. the durable copy in S3, in the set's folder `<prefix>/<stage>/<table>/<UTC timestamp>/`:
 *     - point-in-time recovery on: behind the write fence, a Scan gives the count and content
 *       digest, then DynamoDB's ExportTableToPointInTime writes the items to
 *       `<folder>AWSDynamoDB/<ExportId>/data/` (requested at least EXPORT_SETTLE_MS after the Scan
 *       began: "the output is guaranteed to contain all data committed to the table up to" a minute
 *       before the request); its files are confirmed against DynamoDB's own manifest, and the
 *       action's manifest.json (count, digest, where the data is) written and read back;
 *     - off: the runner path's own streamed export and S3 copy, checked and verified the same way;
 *  3. the one delete of every path (execute/backup-delete.ts confirmAndDelete → table-ops.ts
 *     deleteForRestore): the on-demand backup when aws-backup, the same last check as every delete
 *     (execute/safety.ts: ownership, stage, a copy outside the runner confirmed right then), the
 *     record of the delete (`deleting.json` in the set's folder: without it the set is never
 *     owed), then DeleteTable;
 *  4. ImportTable from the copy's data files with the template's table name, keys, attribute
 *     definitions, GSIs, billing mode and SSE (compare/import-table.ts), recorded in the set's
 *     folder before and after the call (IMPORT_RECORD); then DescribeImport until it ends: COMPLETED,
 *     ErrorCount 0 and ImportedItemCount equal to the copy's count;
 *  5. the new table's count and content digest equal the manifest's (a parallel Scan);
 *  6. the tag IMPORTED_TAG on the verified table, then the IMPORT change set that adopts it into its
 *     stack, with its live configuration (execute/import.ts, as strategy import does), so the deploy
 *     only converges the rest;
 *  7. only then the restore recorded in AWS, as phase restore records one (inspect/owed-restores.ts
 *     reads it): the tag RESTORED_TAG on the table, the marker RESTORED_MARKER in the set's folder.
 *
 * A failure before the delete leaves the table untouched. After the delete, the data lives in the S3
 * copy (and the on-demand backup): the error's state says where, and that the restore is owed.
 */
import type { AwsClients } from '../aws/clients.js'
import { describeStackOrNull } from '../aws/cloudformation-read.js'
import { describePitr, describeTableOrNull, isUnsupportedOperation } from '../aws/dynamodb-read.js'
import { deleteTableAndWait, tagTable } from '../aws/dynamodb-write.js'
import {
  clientToken,
  describeImport,
  exportDataFiles,
  exportTableToS3,
  importTableFromS3,
  tableCreationParameters,
  waitForExport,
  waitForImport,
  type ImportState
} from '../aws/dynamodb-transfer.js'
import { getObjectBytes, putObject, s3Uri } from '../aws/s3.js'
import {
  IMPORT_RECORD,
  IMPORTED_TAG,
  onDemandBackupName,
  RESTORED_MARKER,
  RESTORED_TAG,
  restoredTagValue,
  s3ExportFolder
} from '../data/backup-set.js'
import { manifestTable } from '../data/export.js'
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  TOOL_NAME,
  TOOL_VERSION,
  type BackupManifest
} from '../data/manifest.js'
import { recordRestore } from '../data/restore-record.js'
import { ttlWindow } from '../data/ttl.js'
import {
  copyDifferences,
  digestTable,
  PastTtlCutoffError,
  verifyTable,
  type TableContent
} from '../data/verify.js'
import { DIGEST_ALGORITHM } from '../data/digest.js'
import { errorMessage, Interrupted, OperationError } from '../errors.js'
import { stackStateOf } from '../inspect/inspect.js'
import { readLiveTable } from '../inspect/live-config.js'
import type { ImportTableSpec, LiveTable, S3Location, ServerSideResume, WaitOptions } from '../types.js'
import { assertMayTouch, guardOf } from './safety.js'
import {
  backupAndDelete,
  beginBackup,
  behindFence,
  confirmAndDelete,
  type BackupDeleteInput
} from './backup-delete.js'
import { executeImports, type ExecuteImportsInput, type ImportResult } from './import.js'
import type { TemplateStores } from './template-store.js'
import { callText, timestamp } from './steps.js'
import { listDeleteForRestoreCalls, type OpContext } from './table-ops.js'
import { FENCED_ACTIONS } from './write-fence.js'

/**
 * DynamoDB's export holds everything committed up to a minute before it was requested ("if you
 * submit the request at 2:25 PM, the output is guaranteed to contain all data committed to the
 * table up to 2:24",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.HowItWorks.html):
 * it is requested at least this long after the Scan that it is compared with began.
 */
export const EXPORT_SETTLE_MS = 61_000

export interface ServerSideLimits {
  /** How long an export or an import may take (DynamoDB documents no rate; GitHub ends a job after 6 h). */
  transferMaxWaitMs: number
  transferPollMs: number
}

export const DEFAULT_SERVER_SIDE_LIMITS: ServerSideLimits = {
  transferMaxWaitMs: 6 * 3_600_000,
  transferPollMs: 30_000
}

export interface ServerSideInput extends BackupDeleteInput {
  /** `s3-bucket` (required on this path). */
  s3Bucket: S3Location
  /** CloudFormation execution role for the import change set (placeholders filled in). */
  roleArn?: string
  /** Where an import template too large for TemplateBody may go (as for strategy import). */
  templateStores?: TemplateStores
  limits?: Partial<ServerSideLimits>
}

/** A set in S3 that ImportTable creates the new table from. */
export interface ServerSideSet {
  table: string
  timestamp: string
  bucket: string
  /** The set's folder (ending in '/'). */
  folder: string
  manifest: BackupManifest
  manifestUri: string
  /** The export on the runner (streamed path only): a marker goes next to it once restored. */
  localDir: string | null
  /** The on-demand backup of the set, when one was taken. */
  backupArn: string | null
}

/** What the server-side path did for one table. */
export interface ServerSideResult {
  /** Items ImportTable imported (0 in a dry run). */
  importedItems: number
  /** The import change set's result (its steps are in the step log already; in a dry run, the planned one). */
  adoption: ImportResult
}

type S3Sender = NonNullable<ServerSideInput['s3']>

function s3Of(clients: AwsClients, input: ServerSideInput): S3Sender {
  return input.s3 ?? clients.s3
}

function limitsOf(input: { limits?: Partial<ServerSideLimits> }): ServerSideLimits {
  return { ...DEFAULT_SERVER_SIDE_LIMITS, ...input.limits }
}

function transferWait(input: ServerSideInput): WaitOptions {
  const limits = limitsOf(input)
  return { ...input.wait, maxWaitMs: limits.transferMaxWaitMs, pollMs: limits.transferPollMs }
}

function specOf(input: BackupDeleteInput): ImportTableSpec {
  const spec = input.finding.importTable?.spec
  if (!spec) throw new Error(`internal: ${input.finding.tableName} has no ImportTable spec`)
  return spec
}

/**
 * The whole server-side path for one table planned backup-restore with copy server-side. Returns
 * null when the table is already gone; a dry run lists the calls it would make.
 */
export async function serverSideRestore(
  clients: AwsClients,
  input: ServerSideInput
): Promise<ServerSideResult | null> {
  const spec = specOf(input)
  input = { ...input, serverSide: true }
  if (input.dryRun) return { importedItems: 0, adoption: await listServerSideCalls(clients, input, spec) }
  const pitr = await pitrOn(clients, input)
  const set = pitr ? await exportByDynamoDB(clients, input) : await streamedCopy(clients, input)
  if (set === null) return null
  return importAndAdopt(clients, input, set, spec)
}

/** Point-in-time recovery, asked right then (the plan may be minutes old); unknown counts as off. */
async function pitrOn(clients: AwsClients, input: ServerSideInput): Promise<boolean> {
  try {
    return (await describePitr(clients.dynamodb, input.finding.tableName)) === true
  } catch (err) {
    if (!isUnsupportedOperation(err))
      input.logger.warning(
        `${input.finding.tableName}: point-in-time recovery could not be read (${errorMessage(err)}); the action's own streamed export is used`
      )
    return false
  }
}

/** PITR off: the runner path's streamed export and S3 copy, its manifest saying where ImportTable reads. */
async function streamedCopy(clients: AwsClients, input: ServerSideInput): Promise<ServerSideSet | null> {
  const done = await backupAndDelete(clients, input)
  if (done === null) return null
  if (done.s3 === null) throw new Error('internal: the server-side path ran without its S3 copy')
  return {
    table: input.finding.tableName,
    timestamp: done.timestamp,
    bucket: done.s3.bucket,
    folder: done.s3.folder,
    manifest: done.manifest,
    manifestUri: done.s3.manifestUri,
    localDir: done.dir,
    backupArn: done.backupArn
  }
}

/**
 * PITR on: behind the write fence, a Scan (count, digest), DynamoDB's export of the same state,
 * its files confirmed, the manifest written and read back; then the last check and DeleteTable.
 */
async function exportByDynamoDB(clients: AwsClients, input: ServerSideInput): Promise<ServerSideSet | null> {
  const { finding, steps } = input
  const table = finding.tableName
  const s3 = s3Of(clients, input)
  const at = input.wait.now()
  const stamp = timestamp(at)
  const folder = s3ExportFolder(input.s3Bucket, input.stage, table, stamp)
  const bucket = input.s3Bucket.bucket
  const start = await beginBackup(clients, input, stamp)
  if (start === null) return null
  const { ctx, untouched } = start
  const ttl = finding.live?.ttl
  const window =
    ttl?.enabled === true && ttl.attributeName ? ttlWindow(ttl.attributeName, input.wait.now()) : undefined
  let set: ServerSideSet | null = null
  await behindFence(clients, input, untouched, async fenced => {
    const described = await describeTableOrNull(clients.dynamodb, table)
    if (described?.TableArn === undefined)
      throw new OperationError(`${table} can no longer be described`, `${untouched} Run again.`)
    const scanStarted = input.wait.now()
    const scanned = await scan(clients, input, window, untouched)
    steps.done(
      table,
      'scan',
      `${scanned.itemCount} items, content digest ${scanned.contentDigest.slice(0, 16)}…${fenced ? ' (behind the write fence)' : ''}`
    )
    const exportAt = Math.max(input.wait.now(), scanStarted + EXPORT_SETTLE_MS)
    if (exportAt > input.wait.now()) await input.wait.sleep(exportAt - input.wait.now())
    const exported = await runExport(clients, input, described.TableArn, bucket, folder, untouched)
    const files = await exportDataFiles(s3, { bucket, folder, manifestKey: exported.manifestKey }).catch(
      (err: unknown) => {
        throw new OperationError(
          `The export of ${table} (${exported.arn}) cannot be confirmed in ${s3Uri(bucket, folder)}: ${errorMessage(err)}`,
          `${untouched} Run again.`,
          { cause: err }
        )
      }
    )
    const items = exported.itemCount ?? -1
    const least = scanned.ttl ? scanned.ttl.alive.itemCount : scanned.itemCount
    const perFile = files.files.every(f => f.items !== null)
      ? files.files.reduce((n, f) => n + (f.items ?? 0), 0)
      : null
    if (items < least || items > scanned.itemCount || (perFile !== null && perFile !== items)) {
      throw new OperationError(
        `The export of ${table} (${exported.arn}) holds ${items} items${perFile !== null ? ` (its data files ${perFile})` : ''}, but the table held ${scanned.itemCount}${scanned.ttl ? ` (${least} alive past the TTL cutoff)` : ''} when it was scanned; was it written to meanwhile?`,
        `${untouched} Stop writers to the table and run again.`
      )
    }
    if (!fenced) {
      // No fence: the table scanned again, after the export's point in time, must still equal the first scan.
      const settle = exportAt + EXPORT_SETTLE_MS
      if (settle > input.wait.now()) await input.wait.sleep(settle - input.wait.now())
      const again = await scan(clients, input, window, untouched)
      const differences = copyDifferences(scanned, again, { expected: 'first scan', found: 'second scan' })
      if (differences.length > 0)
        throw new OperationError(
          `${table} changed while DynamoDB exported it (${differences.join('; ')}); without a write fence the export cannot be told equal to the table`,
          `${untouched} Stop writers to the table (or grant the write fence's permissions) and run again.`
        )
    }
    const manifest = dynamoExportManifest(input, described, scanned, window, {
      started: new Date(scanStarted).toISOString(),
      bucket,
      dataPrefix: files.dataPrefix,
      items,
      export: {
        arn: exported.arn,
        exportTime: exported.exportTime,
        files: files.files.length,
        bytes: files.files.reduce((n, f) => n + f.bytes, 0)
      }
    })
    const written = await writeS3Manifest(s3, input, bucket, folder, manifest, untouched)
    steps.done(
      table,
      'durable copy',
      `${exported.arn}: ${items} items in ${files.files.length} data file(s) under ${s3Uri(bucket, files.dataPrefix)}${files.fromManifest ? " (each checked against DynamoDB's manifest-files.json)" : ' (listed: this endpoint writes no manifest files)'}; ${written.uri} written and read back`
    )
    // The one delete of every path (the on-demand backup, the last check, deleting.json, DeleteTable).
    const { backupArn: arn } = await confirmAndDelete(clients, input, ctx, {
      protectionOn: finding.live?.deletionProtection === true,
      timestamp: stamp,
      backupName: onDemandBackupName(input.stage, 'restore', at),
      tableCreatedAt: manifest.table.createdAt ?? null,
      s3: { bucket, folder, manifestKey: written.key, manifestBytes: written.bytes },
      localDir: null,
      dataKeptIn: [`S3 copy ${written.uri}`]
    })
    set = {
      table,
      timestamp: stamp,
      bucket,
      folder,
      manifest,
      manifestUri: written.uri,
      localDir: null,
      backupArn: arn
    }
  })
  return set
}

async function scan(
  clients: AwsClients,
  input: ServerSideInput,
  window: ReturnType<typeof ttlWindow> | undefined,
  untouched: string
): Promise<TableContent> {
  const table = input.finding.tableName
  return digestTable(clients.dynamodb, {
    table,
    clock: input.wait,
    ...(window ? { ttl: window } : {}),
    signal: input.signal,
    progress: {
      logger: input.logger,
      label: `Scan ${table}`,
      total: input.finding.live?.itemCountEstimate || null
    }
  }).catch((err: unknown) => {
    if (err instanceof Interrupted) throw new Interrupted(err.message, `${untouched} Run again.`)
    throw new OperationError(`Scanning ${table} failed: ${errorMessage(err)}`, `${untouched} Run again.`, {
      cause: err
    })
  })
}

async function runExport(
  clients: AwsClients,
  input: ServerSideInput,
  tableArn: string,
  bucket: string,
  folder: string,
  untouched: string
) {
  const table = input.finding.tableName
  const prefix = folder.replace(/\/$/, '')
  let started
  try {
    started = await exportTableToS3(clients.dynamodb, {
      tableArn,
      bucket,
      prefix,
      clientToken: clientToken('export', tableArn, folder)
    })
  } catch (err) {
    throw new OperationError(
      `ExportTableToPointInTime of ${table} to ${s3Uri(bucket, prefix)} failed: ${errorMessage(err)}`,
      `${untouched} Fix the cause (dynamodb:ExportTableToPointInTime, and s3:PutObject on the bucket) and run again.`,
      { cause: err }
    )
  }
  const ended = await waitForExport(clients.dynamodb, started.arn, transferWait(input), input.signal).catch(
    (err: unknown) => {
      if (err instanceof Interrupted)
        throw new Interrupted(err.message, `${untouched} The export goes on in DynamoDB; run again.`)
      throw new OperationError(
        `Export ${started.arn} of ${table}: ${errorMessage(err)}`,
        `${untouched} ${err instanceof OperationError ? `The export ${err.state}. ` : ''}Run again.`,
        { cause: err }
      )
    }
  )
  if (ended.status !== 'COMPLETED')
    throw new OperationError(
      `Export ${ended.arn} of ${table} ended ${ended.status}${ended.failure ? `: ${ended.failure}` : ''}`,
      `${untouched} Fix the cause and run again.`
    )
  input.steps.done(
    table,
    'export',
    `ExportTableToPointInTime ${ended.arn} COMPLETED: ${ended.itemCount ?? '?'} items at ${ended.exportTime ?? 'its point in time'}`
  )
  return ended
}

function dynamoExportManifest(
  input: ServerSideInput,
  described: NonNullable<Awaited<ReturnType<typeof describeTableOrNull>>>,
  scanned: TableContent,
  window: ReturnType<typeof ttlWindow> | undefined,
  copy: {
    started: string
    bucket: string
    dataPrefix: string
    items: number
    export: NonNullable<NonNullable<BackupManifest['serverSide']>['export']>
  }
): BackupManifest {
  return {
    format: MANIFEST_FORMAT,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    stage: input.stage,
    table: manifestTable(described, input.finding.region, input.account),
    dataFormat: 'DYNAMODB_EXPORT',
    scan: {
      segments: 0,
      consistentRead: true,
      note: "count and digest from a parallel Scan behind the write fence; the items are in DynamoDB's export (serverSide.export)"
    },
    itemCount: scanned.itemCount,
    bytes: { uncompressed: 0, compressed: copy.export.bytes },
    dataFiles: [],
    contentDigest: { algorithm: DIGEST_ALGORITHM, value: scanned.contentDigest },
    ...(window && scanned.ttl ? { ttl: { ...window, ...scanned.ttl } } : {}),
    startedAt: copy.started,
    finishedAt: new Date(input.wait.now()).toISOString(),
    serverSide: {
      source: 'dynamodb-export',
      bucket: copy.bucket,
      dataPrefix: copy.dataPrefix,
      items: copy.items,
      export: copy.export
    }
  }
}

async function writeS3Manifest(
  s3: S3Sender,
  input: ServerSideInput,
  bucket: string,
  folder: string,
  manifest: BackupManifest,
  untouched: string
): Promise<{ key: string; uri: string; bytes: number }> {
  const key = `${folder}${MANIFEST_FILE}`
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)
  try {
    const stored = await putObject(s3, { bucket, key, body, contentType: 'application/json' })
    const back = await getObjectBytes(s3, bucket, key)
    if (!back.equals(body)) throw new Error('read back, it differs from what was written')
    return { key, uri: s3Uri(bucket, key), bytes: stored.bytes }
  } catch (err) {
    throw new OperationError(
      `Writing the manifest ${s3Uri(bucket, key)} of ${input.finding.tableName} failed: ${errorMessage(err)}`,
      `${untouched} Check the bucket (s3:PutObject, s3:GetObject) and run again.`,
      { cause: err }
    )
  }
}

// ───────────────────────────── after the delete ─────────────────────────────

/** "T was deleted; its items are in …": the state every failure after the delete leaves. */
function owedState(set: ServerSideSet, more: string): string {
  return `${set.table} was deleted; its items are in the S3 copy ${set.manifestUri}${set.backupArn ? ` and the on-demand backup ${set.backupArn}` : ''}, and its restore is owed. ${more}`
}

/** The import's record in the set's folder (IMPORT_RECORD): the client token before the call, the ARN after. */
async function writeImportRecord(
  s3: S3Sender,
  input: ServerSideInput,
  set: ServerSideSet,
  record: { clientToken: string; requestedAt: string; importArn: string | null }
): Promise<void> {
  await putObject(s3, {
    bucket: set.bucket,
    key: `${set.folder}${IMPORT_RECORD}`,
    body: Buffer.from(
      `${JSON.stringify({ format: 'dynamodb-orphan-guard/import@1', table: set.table, stage: input.stage, timestamp: set.timestamp, ...record }, null, 2)}\n`
    ),
    contentType: 'application/json'
  })
}

/**
 * Steps 4-7: ImportTable from the set, its counts, the digest of the new table, the restore recorded,
 * and the IMPORT change set. Every failure leaves the restore owed and says so.
 */
export async function importAndAdopt(
  clients: AwsClients,
  input: ServerSideInput,
  set: ServerSideSet,
  spec: ImportTableSpec
): Promise<ServerSideResult> {
  const table = set.table
  const copy = set.manifest.serverSide
  if (!copy) throw new Error(`internal: ${set.manifestUri} is not a copy for ImportTable`)
  const requestedAt = new Date(input.wait.now()).toISOString()
  const token = clientToken('import', set.folder, requestedAt)
  const failedBefore = (what: string, err: unknown): never => {
    throw new OperationError(
      `${what} for ${table} failed: ${errorMessage(err)}`,
      owedState(set, 'Fix the cause and run the action again: it imports the table from the S3 copy.'),
      { cause: err }
    )
  }
  await writeImportRecord(s3Of(clients, input), input, set, {
    clientToken: token,
    requestedAt,
    importArn: null
  }).catch((err: unknown) =>
    failedBefore(`Recording the import in ${s3Uri(set.bucket, `${set.folder}${IMPORT_RECORD}`)}`, err)
  )
  let started: ImportState
  try {
    started = await importTableFromS3(clients.dynamodb, {
      bucket: copy.bucket,
      keyPrefix: copy.dataPrefix,
      spec,
      clientToken: token
    })
  } catch (err) {
    return failedBefore('ImportTable', err)
  }
  await writeImportRecord(s3Of(clients, input), input, set, {
    clientToken: token,
    requestedAt,
    importArn: started.arn
  }).catch((err: unknown) =>
    input.logger.warning(
      `${table}: the ARN of import ${started.arn} could not be recorded in the set's folder (${errorMessage(err)}); a later run finds it by ListImports`
    )
  )
  const imported = await awaitImport(clients, input, set, started.arn)
  return verifyRecordAdopt(clients, input, set, imported)
}

/** Waits for the import and requires COMPLETED, no error, and the copy's item count. */
export async function awaitImport(
  clients: AwsClients,
  input: ServerSideInput,
  set: ServerSideSet,
  importArn: string
): Promise<ImportState> {
  const table = set.table
  const want = set.manifest.serverSide?.items ?? set.manifest.itemCount
  let ended: ImportState
  try {
    ended = await waitForImport(clients.dynamodb, importArn, transferWait(input), input.signal)
  } catch (err) {
    if (err instanceof Interrupted)
      throw new Interrupted(
        `Import ${importArn} of ${table}: ${err.message}`,
        owedState(
          set,
          'The import goes on in DynamoDB; run the action again: it waits for this import (never a second one).'
        )
      )
    throw new OperationError(
      `Import ${importArn} of ${table}: ${errorMessage(err)}`,
      owedState(
        set,
        `The import ${err instanceof OperationError ? err.state : 'may still be running'}; run the action again: it waits for this import (it never starts a second one while the table it creates exists).`
      ),
      { cause: err }
    )
  }
  const failedItems = ended.errorCount
  if (ended.status !== 'COMPLETED' || failedItems > 0 || ended.importedItems !== want) {
    const exists = await describeTableOrNull(clients.dynamodb, table).then(
      t =>
        t === null ? 'does not exist' : `exists (${t.TableStatus ?? '?'}) with the items that were imported`,
      () => 'may exist'
    )
    const logs =
      failedItems > 0
        ? ` DynamoDB logged each failed item in CloudWatch Logs (${ended.logGroupArn ?? 'log group /aws-dynamodb/imports'}, stream ${importArn.split('/').pop() ?? importArn}/error).`
        : ''
    input.steps.failed(
      table,
      'import table',
      `ImportTable ${importArn} ended ${ended.status}: ${ended.importedItems} of ${want} items imported, ${failedItems} failed, ${ended.processedItems} processed${ended.failure ? ` (${ended.failure})` : ''}`
    )
    throw new OperationError(
      `ImportTable of ${table} ended ${ended.status}: ${failedItems} item(s) failed, ${ended.importedItems} of ${want} imported${ended.failure ? ` (${ended.failure})` : ''}`,
      owedState(
        set,
        `No IMPORT change set was created. The table ${table} ${exists}; it was created by import ${importArn} and is not in any stack.${logs} Items fail when they lack the new table's key attributes or hold them with another type: fix the template's keys (or the items, from the copy) and run the action again: it deletes the partial table it created and imports again.`
      )
    )
  }
  input.steps.done(
    table,
    'import table',
    `ImportTable ${importArn} COMPLETED: ${ended.importedItems} items imported (ErrorCount 0) from ${s3Uri(set.bucket, set.manifest.serverSide?.dataPrefix ?? set.folder)}, no write capacity used`
  )
  return ended
}

/**
 * Steps 5-7 for an import that COMPLETED as it should: the new table verified against the copy and
 * marked so (IMPORTED_TAG: a run that stops before the change set does not scan it again), adopted
 * into its stack, and only then the restore recorded. Until that record, the owed-restore lookup
 * finds the restore owed from the S3 copy, and the next run resumes it here.
 */
export async function verifyRecordAdopt(
  clients: AwsClients,
  input: ServerSideInput,
  set: ServerSideSet,
  imported: ImportState,
  opts: { verifiedEarlier?: boolean } = {}
): Promise<ServerSideResult> {
  const table = set.table
  const m = set.manifest
  const value = restoredTagValue(input.stage, set.timestamp)
  if (opts.verifiedEarlier) {
    input.steps.skipped(
      table,
      'verify import',
      `verified against the copy by an earlier run (tag ${IMPORTED_TAG}=${value}); not scanned again`
    )
  } else {
    try {
      await verifyTable(clients.dynamodb, {
        table,
        expected: { itemCount: m.itemCount, contentDigest: m.contentDigest.value },
        logger: input.logger,
        clock: input.wait,
        signal: input.signal,
        ...(m.ttl ? { ttl: m.ttl } : {})
      })
    } catch (err) {
      if (err instanceof Interrupted)
        throw new Interrupted(
          err.message,
          owedState(set, 'Run the action again: it verifies the table and adopts it (no second import).')
        )
      // ImportTable creates the table without TTL, and then no item can expire from it however old
      // the copy is (verifyTable); someone turned it on.
      if (err instanceof PastTtlCutoffError)
        throw new OperationError(
          `${errorMessage(err)}; TTL is on for ${table} (or its state could not be read), though ImportTable sets none`,
          owedState(
            set,
            `No IMPORT change set was created. Turn TTL off on ${table} (the deploy turns it on again) and run the action again: it verifies the table and adopts it (no second import).`
          ),
          { cause: err }
        )
      throw new OperationError(
        errorMessage(err),
        owedState(
          set,
          `The table ${table} that import ${imported.arn} created holds other items than the copy; no IMPORT change set was created. Compare it with the copy, delete it, and run the action again: it imports the copy again.`
        ),
        { cause: err }
      )
    }
    input.steps.done(
      table,
      'verify import',
      `${m.itemCount} items, content digest equal to the copy's (${m.contentDigest.value.slice(0, 16)}…)`
    )
    await markVerified(clients, input, set, imported, value)
  }
  const adoption = await adopt(clients, input, set)
  await recordImported(clients, input, set, imported)
  return { importedItems: imported.importedItems, adoption }
}

/** IMPORTED_TAG on the verified table; a failure only costs the next run a scan (a warning). */
async function markVerified(
  clients: AwsClients,
  input: ServerSideInput,
  set: ServerSideSet,
  imported: ImportState,
  value: string
): Promise<void> {
  try {
    const arn = (await describeTableOrNull(clients.dynamodb, set.table))?.TableArn ?? imported.tableArn
    if (!arn) throw new Error('the table has no ARN')
    await tagTable(clients.dynamodb, arn, { [IMPORTED_TAG]: value })
  } catch (err) {
    input.logger.warning(
      `${set.table}: the tag ${IMPORTED_TAG} could not be set (${errorMessage(err)}); a run that resumes this restore scans the table again`
    )
  }
}

/**
 * The restore recorded where a later run finds it, as phase restore records one
 * (data/restore-record.ts): the tag RESTORED_TAG on the table and the marker RESTORED_MARKER in the
 * set's folder. Neither written leaves the restore owed: the next run finds the table in its stack,
 * created by this set's import and verified, and records it then (recordAdoptedRestore).
 */
async function recordImported(
  clients: AwsClients,
  input: ServerSideInput,
  set: ServerSideSet,
  imported: Pick<ImportState, 'arn' | 'importedItems' | 'tableArn'>
): Promise<void> {
  const table = set.table
  const live = await describeTableOrNull(clients.dynamodb, table).catch(() => null)
  const written = await recordRestore(
    { s3: s3Of(clients, input), dynamodb: clients.dynamodb },
    {
      record: {
        table,
        stage: input.stage,
        backupTakenAt: set.manifest.startedAt,
        source: 's3',
        backup: set.manifestUri,
        via: 'ImportTable',
        importArn: imported.arn,
        target: {
          arn: live?.TableArn ?? imported.tableArn ?? '',
          createdAt: live?.CreationDateTime?.toISOString() ?? ''
        },
        items: imported.importedItems,
        contentDigest: set.manifest.contentDigest.value,
        restoredAt: new Date(input.wait.now()).toISOString()
      },
      timestamp: set.timestamp,
      s3: { bucket: set.bucket, folder: set.folder },
      localDir: set.localDir,
      logger: input.logger,
      what: 'imported, verified and in its stack',
      unrecorded: `${table} holds exactly the items of ${set.manifestUri}; the restore stays owed until it is recorded. Fix the permission and run the action again (or phase restore): it finds the table in its stack, created by this import and verified, and only records it.`
    }
  )
  input.steps.done(table, 'record restore', written)
}

/** What the adoption and its dry-run share with every IMPORT change set of this run. */
function importSettings(
  input: ServerSideInput,
  region: string
): Pick<ExecuteImportsInput, 'artifactDir' | 'region' | 'templateStores' | 'roleArn' | 'logger' | 'clock'> {
  return {
    artifactDir: input.backupDir,
    region,
    ...(input.templateStores ? { templateStores: input.templateStores } : {}),
    ...(input.roleArn ? { roleArn: input.roleArn } : {}),
    logger: input.logger,
    clock: input.wait
  }
}

/** Step 7: the IMPORT change set for the new table, into its stack as DescribeStacks shows it now. */
async function adopt(clients: AwsClients, input: ServerSideInput, set: ServerSideSet): Promise<ImportResult> {
  const { finding } = input
  const table = set.table
  const stackName = finding.spec.stack as string
  const notAdopted = (why: string, opts: { cause?: unknown; state?: string | null } = {}): never => {
    throw new OperationError(
      `${table} was re-created by ImportTable and verified, but it could not be imported into stack ${stackName}: ${why}`,
      `${opts.state ? `${opts.state} ` : ''}${table} holds exactly the items of ${set.manifestUri} but is not in any stack, and its restore is owed from that copy: do not deploy yet (the deploy would fail on it). Run the action again: it imports the table into its stack (never a second ImportTable, nor a second scan).`,
      opts.cause === undefined ? undefined : { cause: opts.cause }
    )
  }
  let live: LiveTable | null
  let stack
  try {
    live = await readLiveTable(clients.dynamodb, table, finding.region)
    stack = stackStateOf(
      stackName,
      finding.region,
      await describeStackOrNull(clients.cloudformation, stackName)
    )
  } catch (err) {
    return notAdopted(errorMessage(err), { cause: err })
  }
  if (live === null) return notAdopted('the table no longer exists')
  const result = await executeImports(clients, {
    stack,
    stackName,
    tables: [{ tableName: table, spec: finding.spec, live, region: finding.region }],
    dryRun: false,
    ...importSettings(input, finding.region)
  })
  for (const step of result.steps) input.steps.add(step)
  if (result.outcome !== 'resolved')
    return notAdopted(result.error?.message ?? (result.reasons.join('; ') || result.outcome), {
      cause: result.error,
      state: result.stateNote
    })
  return result
}

// ───────────────────────────── resume ─────────────────────────────

/** The set's manifest, read back from S3 and checked for what the import needs. */
async function readSet(
  clients: AwsClients,
  input: ServerSideInput,
  resume: ServerSideResume
): Promise<ServerSideSet> {
  let manifest: BackupManifest
  try {
    manifest = JSON.parse(
      (await getObjectBytes(s3Of(clients, input), resume.bucket, resume.manifestKey)).toString('utf8')
    ) as BackupManifest
  } catch (err) {
    throw new OperationError(
      `The manifest ${resume.manifestUri} cannot be read: ${errorMessage(err)}`,
      `Nothing was changed. Check the object (s3:GetObject) and run again.`,
      { cause: err }
    )
  }
  if (
    manifest.serverSide === undefined ||
    typeof manifest.itemCount !== 'number' ||
    typeof manifest.contentDigest?.value !== 'string'
  )
    throw new OperationError(
      `${resume.manifestUri} is not a copy for ImportTable (no serverSide, itemCount or contentDigest)`,
      'Nothing was changed. phase restore can load the copy after the deploy.'
    )
  return {
    table: input.finding.tableName,
    timestamp: resume.timestamp,
    bucket: resume.bucket,
    folder: resume.folder,
    manifest,
    manifestUri: resume.manifestUri,
    localDir: null,
    backupArn: resume.backupArn
  }
}

/**
 * A server-side restore an earlier run left unfinished (the plan's resume): ImportTable from the
 * set when there is no table; the earlier import waited for, verified and adopted when it created
 * the table; the table that a FAILED import left deleted (after checking it is that import's, and
 * that no stack owns it) and ImportTable run again.
 */
export async function resumeServerSide(
  clients: AwsClients,
  input: ServerSideInput,
  resume: ServerSideResume
): Promise<ServerSideResult | null> {
  const spec = specOf(input)
  const table = input.finding.tableName
  input = { ...input, serverSide: true }
  if (input.dryRun) {
    input.steps.planned(
      table,
      'resume',
      `${resume.live === 'from-import' ? `DescribeImport ${resume.import?.arn ?? ''}: wait for it, or (FAILED) DeleteTable ${table} that it created and ImportTable again` : 'ImportTable'} from ${resume.manifestUri}`
    )
    return null
  }
  const set = await readSet(clients, input, resume)
  input.steps.done(
    table,
    'resume',
    `the server-side restore from ${resume.manifestUri} is resumed${resume.import ? ` (import ${resume.import.arn}, ${resume.import.status})` : ''}`
  )
  if (resume.live === 'from-import' && resume.import !== null) {
    const now = await describeImport(clients.dynamodb, resume.import.arn)
    if (now.status === 'IN_PROGRESS' || now.status === 'COMPLETED') {
      const imported = await awaitImport(clients, input, set, resume.import.arn)
      return verifyRecordAdopt(clients, input, set, imported, {
        verifiedEarlier: resume.verified && now.status === 'COMPLETED'
      })
    }
    await dropFailedImport(clients, input, set, now, resume.importRequestedAt)
  }
  return importAndAdopt(clients, input, set, spec)
}

/** Deletes the table a FAILED import created, after checking that it is that import's and that no stack owns it. */
async function dropFailedImport(
  clients: AwsClients,
  input: ServerSideInput,
  set: ServerSideSet,
  imported: ImportState,
  requestedAt: string | null
): Promise<void> {
  const table = set.table
  const described = await describeTableOrNull(clients.dynamodb, table)
  if (described === null) return
  const createdAt = described.CreationDateTime?.getTime() ?? NaN
  // DescribeImport's StartTime, else when the earlier run requested the import (it starts after).
  const began = imported.startTime ?? requestedAt
  const started = began === null ? NaN : Date.parse(began)
  if (described.TableArn !== imported.tableArn || !(createdAt >= started - 1000))
    throw new OperationError(
      `Refusing to delete ${table}: it is not the table that import ${imported.arn} created (created ${described.CreationDateTime?.toISOString() ?? '?'}, the import began ${began ?? '?'})`,
      owedState(
        set,
        `Nothing was deleted. Find out who made ${table}; phase restore can load the copy into it after the deploy.`
      )
    )
  // The one table an owed restore's own import made: deleted to import again, so no owed check.
  if (!(await assertMayTouch(clients, guardOf(input.finding, input.policy, null)))) return
  try {
    await deleteTableAndWait(clients.dynamodb, table, input.wait)
  } catch (err) {
    throw new OperationError(
      `Deleting ${table}, which the failed import ${imported.arn} created, failed: ${errorMessage(err)}`,
      owedState(set, 'Delete it yourself and run the action again: it imports the copy again.'),
      { cause: err }
    )
  }
  input.steps.done(
    table,
    'delete',
    `deleted the table import ${imported.arn} (${imported.status}) had created with part of the items; ImportTable runs again from ${set.manifestUri}`
  )
}

/**
 * The restore of a table an earlier run's server-side path created by ImportTable, verified (its
 * IMPORTED_TAG, set only after the verification scan) and imported into its stack, but stopped
 * before recording (the plan's recordRestore): recorded now, as step 7 would have, after checking
 * that the table is still the one that import created. Nothing is copied or scanned.
 */
export async function recordAdoptedRestore(
  clients: AwsClients,
  input: ServerSideInput,
  resume: ServerSideResume
): Promise<void> {
  const table = input.finding.tableName
  const imp = resume.import
  if (input.dryRun) {
    input.steps.planned(
      table,
      'record restore',
      `TagResource ${RESTORED_TAG}=${restoredTagValue(input.stage, resume.timestamp)}; PutObject ${s3Uri(resume.bucket, `${resume.folder}${RESTORED_MARKER}`)}: ${table} was created by import ${imp?.arn ?? '?'} from ${resume.manifestUri}, verified and imported into its stack by an earlier run`
    )
    return
  }
  const set = await readSet(clients, input, resume)
  const live = await describeTableOrNull(clients.dynamodb, table)
  if (imp === null || live?.TableArn === undefined || live.TableArn !== imp.tableArn)
    throw new OperationError(
      `${table} is no longer the table import ${imp?.arn ?? '?'} created from ${resume.manifestUri}: its restore is not recorded`,
      `Nothing was changed, and the restore stays owed. Run the action again: it looks at the table as it is then (phase restore loads the copy into a table the deploy created).`
    )
  await recordImported(clients, input, set, {
    arn: imp.arn,
    importedItems: set.manifest.serverSide?.items ?? set.manifest.itemCount,
    tableArn: live.TableArn
  })
}

// ───────────────────────────── dry run ─────────────────────────────

/** The calls the server-side path would make, as planned steps (and the change set, as strategy import lists it). */
async function listServerSideCalls(
  clients: AwsClients,
  input: ServerSideInput,
  spec: ImportTableSpec
): Promise<ImportResult> {
  const { finding, steps } = input
  const table = finding.tableName
  const at = input.wait.now()
  const folder = s3ExportFolder(input.s3Bucket, input.stage, table, timestamp(at))
  const ctx: OpContext = { table, steps, wait: input.wait }
  const pitr = finding.live?.pitr === true
  steps.planned(
    table,
    'write fence',
    callText('PutResourcePolicy', {
      ResourceArn: finding.live?.arn ?? `<${table}>`,
      Policy: `<deny ${FENCED_ACTIONS.join(', ')} to all but ${input.identity?.userId ?? 'this session'}>`
    })
  )
  if (pitr) {
    steps.planned(table, 'scan', 'Scan (parallel segments, ConsistentRead): item count and content digest')
    steps.planned(
      table,
      'export',
      `${callText('ExportTableToPointInTime', {
        TableArn: finding.live?.arn ?? `<${table}>`,
        S3Bucket: input.s3Bucket.bucket,
        S3Prefix: folder.replace(/\/$/, ''),
        ExportFormat: 'DYNAMODB_JSON',
        ExportType: 'FULL_EXPORT'
      })}, then DescribeExport until COMPLETED and ${MANIFEST_FILE} to ${s3Uri(input.s3Bucket.bucket, folder)}`
    )
  } else {
    steps.planned(
      table,
      'export',
      `Scan (parallel segments, ConsistentRead) into ${input.backupDir}/${table}/…, each data file and then ${MANIFEST_FILE} to ${s3Uri(input.s3Bucket.bucket, folder)} (point-in-time recovery is off), checked, and the table scanned again behind the fence`
    )
  }
  listDeleteForRestoreCalls(ctx, {
    backupName: input.awsBackup ? onDemandBackupName(input.stage, 'restore', at) : null,
    s3: { bucket: input.s3Bucket.bucket, folder },
    protectionOn: finding.live?.deletionProtection === true
  })
  const prefix = pitr ? `${folder}AWSDynamoDB/<ExportId>/data/` : `${folder}data/`
  steps.planned(
    table,
    'import table',
    `${callText('ImportTable', {
      S3BucketSource: { S3Bucket: input.s3Bucket.bucket, S3KeyPrefix: prefix },
      InputFormat: 'DYNAMODB_JSON',
      InputCompressionType: 'GZIP',
      TableCreationParameters: tableCreationParameters(spec)
    })}, then DescribeImport until COMPLETED (ErrorCount 0, ImportedItemCount = the copy's count)`
  )
  steps.planned(
    table,
    'verify import',
    `Scan: item count and content digest must equal the copy; then TagResource ${IMPORTED_TAG}`
  )
  const result = await executeImports(clients, {
    stack: finding.stack ?? { name: finding.spec.stack ?? '', exists: false },
    stackName: finding.spec.stack as string,
    tables: [
      { tableName: table, spec: finding.spec, live: importedLive(spec, finding), region: finding.region }
    ],
    dryRun: true,
    ...importSettings(input, finding.region)
  })
  for (const call of result.calls) {
    const { TemplateBody, ...shown } = call.input
    steps.planned(
      table,
      call.command,
      `${callText(call.command, TemplateBody === undefined ? shown : { ...shown, TemplateBody: '<the import template below>' })}: ${call.note}`
    )
  }
  steps.planned(
    table,
    'record restore',
    `TagResource ${RESTORED_TAG}; PutObject ${s3Uri(input.s3Bucket.bucket, `${folder}${RESTORED_MARKER}`)}`
  )
  return result
}

/** The table ImportTable would create from `spec` (for the dry run's import template: it does not exist yet). */
function importedLive(spec: ImportTableSpec, finding: ServerSideInput['finding']): LiveTable {
  const arn = finding.live?.arn ?? `arn:aws:dynamodb:${finding.region}:000000000000:table/${spec.tableName}`
  return {
    tableName: spec.tableName,
    keys: spec.keys.map(({ name, type }) => ({ name, type })),
    attributeTypes: spec.attributeTypes,
    billingMode: spec.billingMode,
    ...(spec.throughput ? { throughput: spec.throughput } : {}),
    gsis: spec.gsis,
    lsis: [],
    sse: spec.sse,
    stream: { enabled: false },
    ttl: { enabled: false },
    pitr: false,
    deletionProtection: false,
    tableClass: 'STANDARD',
    tags: {},
    arn,
    status: 'ACTIVE',
    itemCountEstimate: 0,
    sizeBytesEstimate: 0,
    allTags: {}
  }
}

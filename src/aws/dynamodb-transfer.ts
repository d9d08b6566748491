/**
 * DynamoDB's own copies between a table and S3: ExportTableToPointInTime (needs point-in-time
 * recovery; consumes no read capacity) and ImportTable (always creates a new table; consumes no
 * write capacity), each with its Describe call and a wait on the injected clock (the SDK has no
 * waiter for either). Nothing here decides whether a call is allowed: execute/ does.
 *
 * Where the export puts its files (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html):
 * `<S3Prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json` (ExportManifest names it), whose
 * `manifestFilesS3Key` names `manifest-files.json`: one JSON line per data file with its
 * `itemCount`, `md5Checksum`, `etag` and `dataFileS3Key`, the data files lying in
 * `<S3Prefix>/AWSDynamoDB/<ExportId>/data/`. moto writes one data file there and no manifest
 * files (and an ExportArn unrelated to the folder), so exportDataFiles falls back to listing the
 * folder when ExportManifest is absent.
 */
import { createHash } from 'node:crypto'
import {
  DescribeExportCommand,
  DescribeImportCommand,
  ExportTableToPointInTimeCommand,
  ImportTableCommand,
  ListImportsCommand,
  type DynamoDBClient,
  type ExportDescription,
  type ImportTableDescription,
  type TableCreationParameters
} from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import { Interrupted, OperationError, errorMessage } from '../errors.js'
import type { ImportTableSpec, IndexConfig, WaitOptions } from '../types.js'
import type { Sender } from './clients.js'
import { getObjectBytes, headObject, listObjects, s3Uri } from './s3.js'

/** A client token (at most 64 characters) that names one request: the SDK's own retries reuse it. */
export function clientToken(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex')
}

function iso(d: Date | undefined): string | null {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null
}

// ───────────────────────────── export ─────────────────────────────

export interface ExportState {
  arn: string
  /** IN_PROGRESS | COMPLETED | FAILED */
  status: string
  itemCount: number | null
  /** The S3 key of manifest-summary.json (absent on moto). */
  manifestKey: string | null
  exportTime: string | null
  failure: string | null
}

function exportState(d: ExportDescription | undefined): ExportState {
  if (d?.ExportArn === undefined) throw new Error('the answer holds no ExportDescription')
  return {
    arn: d.ExportArn,
    status: d.ExportStatus ?? 'UNKNOWN',
    itemCount: d.ItemCount ?? null,
    manifestKey: d.ExportManifest ?? null,
    exportTime: iso(d.ExportTime),
    failure:
      d.FailureCode || d.FailureMessage
        ? `${d.FailureCode ?? ''}${d.FailureCode && d.FailureMessage ? ': ' : ''}${d.FailureMessage ?? ''}`
        : null
  }
}

/**
 * ExportTableToPointInTime of the table as it is now (no ExportTime: the request's time), full,
 * DYNAMODB_JSON (gzip), to `s3://bucket/prefix/AWSDynamoDB/<ExportId>/`.
 */
export async function exportTableToS3(
  ddb: Sender<DynamoDBClient>,
  opts: { tableArn: string; bucket: string; prefix: string; clientToken: string }
): Promise<ExportState> {
  const out = await ddb.send(
    new ExportTableToPointInTimeCommand({
      TableArn: opts.tableArn,
      S3Bucket: opts.bucket,
      S3Prefix: opts.prefix,
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
      ClientToken: opts.clientToken
    })
  )
  return exportState(out.ExportDescription)
}

export async function describeExport(ddb: Sender<DynamoDBClient>, arn: string): Promise<ExportState> {
  return exportState((await ddb.send(new DescribeExportCommand({ ExportArn: arn }))).ExportDescription)
}

/** Polls DescribeExport until the export is no longer IN_PROGRESS (or the wait runs out: an OperationError). */
export async function waitForExport(
  ddb: Sender<DynamoDBClient>,
  arn: string,
  wait: WaitOptions,
  signal?: AbortSignal
): Promise<ExportState> {
  return waitFor(wait, () => describeExport(ddb, arn), `Export ${arn}`, signal)
}

/** One data file of an export: its key, size, and what DynamoDB's manifest-files.json says of it (null on moto). */
export interface ExportDataFile {
  key: string
  bytes: number
  items: number | null
  /** manifest-files.json's `md5Checksum`: the base64 MD5 of the object's bytes. */
  md5: string | null
}

export interface ExportFiles {
  /** The key prefix (ending in '/') holding exactly the data files: what ImportTable reads. */
  dataPrefix: string
  files: ExportDataFile[]
  /** Whether DynamoDB's manifest files listed them (else the folder was listed: moto). */
  fromManifest: boolean
}

/**
 * The export's data files, each confirmed to exist: with DynamoDB's manifest files (real AWS), the
 * files they list, each HeadObject'd and its ETag compared; without them (moto), the data objects
 * found under `<folder>AWSDynamoDB/`. Throws naming what does not match.
 */
export async function exportDataFiles(
  s3: Sender<S3Client>,
  opts: {
    bucket: string
    folder: string
    manifestKey: string | null
    /** manifest-summary.json's bytes when the caller has read them already (else they are fetched from manifestKey). */
    manifestBytes?: Buffer
    /** Without manifest files: only the objects under this prefix (one export's `data/`), not every export in the folder. */
    dataPrefix?: string
  }
): Promise<ExportFiles> {
  const { bucket } = opts
  const problems: string[] = []
  if (opts.manifestKey !== null) {
    const bytes = opts.manifestBytes ?? (await getObjectBytes(s3, bucket, opts.manifestKey))
    const summary = JSON.parse(bytes.toString('utf8')) as { manifestFilesS3Key?: string }
    if (typeof summary.manifestFilesS3Key !== 'string')
      throw new Error(`${s3Uri(bucket, opts.manifestKey)} names no manifestFilesS3Key`)
    const lines = (await getObjectBytes(s3, bucket, summary.manifestFilesS3Key))
      .toString('utf8')
      .split('\n')
      .filter(l => l.trim() !== '')
    const files: ExportDataFile[] = []
    for (const line of lines) {
      const entry = JSON.parse(line) as {
        dataFileS3Key?: string
        itemCount?: number
        etag?: string
        md5Checksum?: string
      }
      if (typeof entry.dataFileS3Key !== 'string')
        throw new Error(`a line of manifest-files.json names no file`)
      const head = await headObject(s3, bucket, entry.dataFileS3Key)
      if (head === null) problems.push(`${s3Uri(bucket, entry.dataFileS3Key)} does not exist`)
      else if (entry.etag && head.etag && head.etag.replace(/"/g, '') !== entry.etag.replace(/"/g, ''))
        problems.push(
          `${s3Uri(bucket, entry.dataFileS3Key)} has ETag ${head.etag}, the export says ${entry.etag}`
        )
      else
        files.push({
          key: entry.dataFileS3Key,
          bytes: head.bytes,
          items: entry.itemCount ?? null,
          md5: entry.md5Checksum ?? null
        })
    }
    if (problems.length > 0) throw new Error(problems.join('; '))
    return { dataPrefix: commonDataPrefix(files, bucket), files, fromManifest: true }
  }
  const files: ExportDataFile[] = []
  for await (const page of listObjects(s3, {
    bucket,
    prefix: opts.dataPrefix ?? `${opts.folder}AWSDynamoDB/`
  })) {
    for (const o of page.objects)
      if (/\/data\/[^/]+$/.test(o.key)) files.push({ key: o.key, bytes: o.bytes, items: null, md5: null })
  }
  if (files.length === 0) throw new Error(`no data file of the export under ${s3Uri(bucket, opts.folder)}`)
  return { dataPrefix: commonDataPrefix(files, bucket), files, fromManifest: false }
}

/** The one `…/data/` folder all files lie in. */
function commonDataPrefix(files: ExportDataFile[], bucket: string): string {
  const folders = new Set(files.map(f => f.key.slice(0, f.key.lastIndexOf('/') + 1)))
  if (folders.size !== 1)
    throw new Error(
      `the export's data files lie in ${folders.size} folders (${[...folders].map(f => s3Uri(bucket, f)).join(', ')}), not one`
    )
  return [...folders][0] as string
}

// ───────────────────────────── import ─────────────────────────────

export interface ImportState {
  arn: string
  /** IN_PROGRESS | COMPLETED | CANCELLING | CANCELLED | FAILED */
  status: string
  tableArn: string | null
  importedItems: number
  processedItems: number
  errorCount: number
  failure: string | null
  startTime: string | null
  endTime: string | null
  /** Where DynamoDB logs the items that failed (CloudWatch Logs). */
  logGroupArn: string | null
}

function importState(d: ImportTableDescription | undefined): ImportState {
  if (d?.ImportArn === undefined) throw new Error('the answer holds no ImportTableDescription')
  return {
    arn: d.ImportArn,
    status: d.ImportStatus ?? 'UNKNOWN',
    tableArn: d.TableArn ?? null,
    importedItems: d.ImportedItemCount ?? 0,
    processedItems: d.ProcessedItemCount ?? 0,
    errorCount: d.ErrorCount ?? 0,
    failure:
      d.FailureCode || d.FailureMessage
        ? `${d.FailureCode ?? ''}${d.FailureCode && d.FailureMessage ? ': ' : ''}${d.FailureMessage ?? ''}`
        : null,
    startTime: iso(d.StartTime),
    endTime: iso(d.EndTime),
    logGroupArn: d.CloudWatchLogGroupArn ?? null
  }
}

function index(i: IndexConfig, provisioned: boolean) {
  return {
    IndexName: i.name,
    KeySchema: i.keys.map(k => ({ AttributeName: k.name, KeyType: k.type })),
    Projection: {
      ProjectionType: i.projection.type as 'ALL' | 'KEYS_ONLY' | 'INCLUDE',
      ...(i.projection.nonKeyAttributes ? { NonKeyAttributes: i.projection.nonKeyAttributes } : {})
    },
    ...(provisioned && i.throughput
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: i.throughput.read,
            WriteCapacityUnits: i.throughput.write
          }
        }
      : {})
  }
}

/** ImportTable's TableCreationParameters for the template's table. */
export function tableCreationParameters(spec: ImportTableSpec): TableCreationParameters {
  const provisioned = spec.billingMode === 'PROVISIONED'
  return {
    TableName: spec.tableName,
    KeySchema: spec.keys.map(k => ({ AttributeName: k.name, KeyType: k.type })),
    AttributeDefinitions: Object.entries(spec.attributeTypes)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    BillingMode: spec.billingMode,
    ...(provisioned && spec.throughput
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: spec.throughput.read,
            WriteCapacityUnits: spec.throughput.write
          }
        }
      : {}),
    ...(spec.gsis.length > 0 ? { GlobalSecondaryIndexes: spec.gsis.map(g => index(g, provisioned)) } : {}),
    ...(spec.sse.enabled
      ? {
          SSESpecification: {
            Enabled: true,
            SSEType: (spec.sse.type ?? 'KMS') as 'KMS' | 'AES256',
            ...(spec.sse.kmsKeyId ? { KMSMasterKeyId: spec.sse.kmsKeyId } : {})
          }
        }
      : {})
  }
}

/**
 * ImportTable: a new table `spec.tableName` from the gzip DynamoDB JSON files under
 * `s3://bucket/keyPrefix`. Returns at once (IN_PROGRESS).
 */
export async function importTableFromS3(
  ddb: Sender<DynamoDBClient>,
  opts: { bucket: string; keyPrefix: string; spec: ImportTableSpec; clientToken: string }
): Promise<ImportState> {
  const out = await ddb.send(
    new ImportTableCommand({
      S3BucketSource: { S3Bucket: opts.bucket, S3KeyPrefix: opts.keyPrefix },
      InputFormat: 'DYNAMODB_JSON',
      InputCompressionType: 'GZIP',
      TableCreationParameters: tableCreationParameters(opts.spec),
      ClientToken: opts.clientToken
    })
  )
  return importState(out.ImportTableDescription)
}

export async function describeImport(ddb: Sender<DynamoDBClient>, arn: string): Promise<ImportState> {
  return importState((await ddb.send(new DescribeImportCommand({ ImportArn: arn }))).ImportTableDescription)
}

/**
 * The imports into a table (ListImports by TableArn, every page), newest first, each with its S3
 * source: how a run that lost the ARN of its import finds it again.
 */
export async function listTableImports(
  ddb: Sender<DynamoDBClient>,
  tableArn: string
): Promise<
  Array<{
    arn: string
    status: string
    bucket: string | null
    keyPrefix: string | null
    startTime: string | null
  }>
> {
  const found = []
  let next: string | undefined
  do {
    const out = await ddb.send(new ListImportsCommand({ TableArn: tableArn, NextToken: next }))
    for (const s of out.ImportSummaryList ?? []) {
      if (s.ImportArn === undefined) continue
      found.push({
        arn: s.ImportArn,
        status: s.ImportStatus ?? 'UNKNOWN',
        bucket: s.S3BucketSource?.S3Bucket ?? null,
        keyPrefix: s.S3BucketSource?.S3KeyPrefix ?? null,
        startTime: iso(s.StartTime)
      })
    }
    next = out.NextToken
  } while (next !== undefined)
  return found.sort((a, b) => ((a.startTime ?? '') < (b.startTime ?? '') ? 1 : -1))
}

/** Polls DescribeImport until the import is no longer IN_PROGRESS or CANCELLING. */
export async function waitForImport(
  ddb: Sender<DynamoDBClient>,
  arn: string,
  wait: WaitOptions,
  signal?: AbortSignal
): Promise<ImportState> {
  return waitFor(wait, () => describeImport(ddb, arn), `Import ${arn}`, signal)
}

/** The first poll of an export or import comes this soon; each next one 1.5 times later, up to `pollMs`. */
const FIRST_POLL_MS = 2_000

async function waitFor<T extends { status: string }>(
  wait: WaitOptions,
  describe: () => Promise<T>,
  what: string,
  signal?: AbortSignal
): Promise<T> {
  const deadline = wait.now() + wait.maxWaitMs
  let delay = Math.min(FIRST_POLL_MS, wait.pollMs)
  for (;;) {
    // Only the wait stops: what DynamoDB started goes on.
    if (signal?.aborted === true)
      throw new Interrupted(`${what}: waiting for it was interrupted`, 'it goes on in DynamoDB')
    let state: T
    try {
      state = await describe()
    } catch (err) {
      throw new OperationError(
        `${what}: its status could not be read (${errorMessage(err)})`,
        'it may still be running in DynamoDB',
        { cause: err }
      )
    }
    if (state.status !== 'IN_PROGRESS' && state.status !== 'CANCELLING') return state
    if (wait.now() >= deadline)
      throw new OperationError(
        `${what} is still ${state.status} after ${Math.round(wait.maxWaitMs / 60_000)} min`,
        'it is still running in DynamoDB'
      )
    await wait.sleep(Math.min(delay, Math.max(1, deadline - wait.now())))
    delay = Math.min(wait.pollMs, Math.round(delay * 1.5))
  }
}

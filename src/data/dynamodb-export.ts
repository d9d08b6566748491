/**
 * DynamoDB's own export in S3 (ExportTableToPointInTime: the server-side path's copy when
 * point-in-time recovery is on) made into a backup folder that the restore (data/restore.ts) reads
 * like the action's own export: what phase restore loads when such a restore is owed and the
 * server-side path is not resumed (the import failed and the template changed to what ImportTable
 * cannot create, copy-mode runner, a table in the way).
 *
 * The export's layout (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html):
 * `<S3Prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json` names `manifest-files.json`, one JSON
 * line per data file (`dataFileS3Key`, `itemCount`, `md5Checksum`, `etag`); the data files lie in
 * `…/<ExportId>/data/`, gzip, one `{"Item":{...}}` per line (DYNAMODB_JSON; moto writes
 * `{"Item": {...}}`, with spaces, which the reader accepts). moto writes one data file and no
 * manifest files: the data folder is listed instead.
 *
 * What is checked, since the action's manifest records no sha256 for files it never wrote:
 *  - each data file, where DynamoDB's manifest files list it: its ETag (HeadObject), and the MD5
 *    of the bytes downloaded against `md5Checksum`; its item count against `itemCount`;
 *  - the number of data files against the count the server-side path recorded when it confirmed
 *    the export (`serverSide.export.files`), the export's ARN against manifest-summary.json's;
 *  - all files: their items counted (against the export's own count, `serverSide.items`) and their
 *    content digest computed, then compared with the manifest's count and digest, which come from
 *    the Scan behind the write fence that the export was checked against before the delete (with
 *    TTL on, the items alive past the manifest's cutoff, as every verification compares them).
 * Only then is the local manifest written (the digest and sha256 of what was downloaded), so the
 * restore's own checks (each file's sha256 before the first write, count and digest of the table
 * after the last) hold it to the same content. Any mismatch throws before anything is written.
 */
import { mkdir, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Sender } from '../aws/clients.js'
import { exportDataFiles, type ExportDataFile } from '../aws/dynamodb-transfer.js'
import { downloadObject, getObjectBytesOrNull, s3Uri } from '../aws/s3.js'
import { errorMessage } from '../errors.js'
import { ContentDigest, DIGEST_ALGORITHM } from './digest.js'
import {
  MANIFEST_FILE,
  writeManifest,
  type BackupManifest,
  type DataFileEntry,
  type ServerSideCopy
} from './manifest.js'
import { readDataLines, parseLine } from './readers.js'
import { ExpiringItems } from './ttl.js'
import { copyDifferences, type CopySide } from './verify.js'

/** Where DynamoDB's summary of the export that wrote `dataPrefix` (`…/AWSDynamoDB/<ExportId>/data/`) lies. */
export function exportSummaryKey(dataPrefix: string): string {
  return `${dataPrefix.replace(/data\/$/, '')}manifest-summary.json`
}

export interface DownloadedExport {
  /** The local manifest (in this action's format) the restore reads. */
  manifestPath: string
  files: number
  /** Bytes fetched (every file, each time: the runner keeps no sha256 of them to trust an earlier download by). */
  bytes: number
  /** Whether DynamoDB's manifest files listed the data files (else the folder was listed: moto). */
  fromManifest: boolean
}

/**
 * Downloads the export a server-side manifest names into `dir` (`data/<file>`, then
 * `manifest.json`), checking it as the header says. Throws naming the first mismatch.
 */
export async function downloadDynamoDBExport(
  s3: Sender<S3Client>,
  opts: { manifest: BackupManifest; manifestUri: string; dir: string }
): Promise<DownloadedExport> {
  const { manifest, dir } = opts
  const copy = manifest.serverSide
  if (copy?.source !== 'dynamodb-export' || !/\/AWSDynamoDB\/[^/]+\/data\/$/.test(copy.dataPrefix))
    throw new Error(`${opts.manifestUri} names no export of DynamoDB's (serverSide.dataPrefix)`)
  const exported = await exportFiles(s3, copy)

  await mkdir(join(dir, 'data'), { recursive: true })
  const entries: DataFileEntry[] = []
  const digest = new ContentDigest()
  const window = manifest.ttl
    ? { attribute: manifest.ttl.attribute, startedAt: manifest.ttl.startedAt, cutoff: manifest.ttl.cutoff }
    : null
  const expiring = window ? new ExpiringItems(window) : null
  let fetched = 0
  let uncompressed = 0
  for (const file of exported.files) {
    const uri = s3Uri(copy.bucket, file.key)
    // An empty partition's file may hold no bytes at all (not even a gzip header): nothing to load.
    if (file.bytes === 0 && (file.items ?? 0) === 0) continue
    const name = basename(file.key)
    const path = join(dir, 'data', name)
    const got = await downloadObject(s3, { bucket: copy.bucket, key: file.key }, path)
    fetched += got.bytes
    if (got.bytes !== file.bytes)
      throw new Error(`${uri}: ${got.bytes} bytes downloaded, the object has ${file.bytes}`)
    if (file.md5 !== null && got.md5 !== file.md5)
      throw new Error(
        `${uri} has MD5 ${got.md5}, DynamoDB's manifest-files.json says ${file.md5}: the file changed or is damaged since the export`
      )
    let items = 0
    let textBytes = 0
    for await (const lines of readDataLines(path)) {
      for (const { line, text } of lines) {
        const { item } = parseLine(path, line, text)
        digest.add(item)
        expiring?.addItem(item)
        textBytes += Buffer.byteLength(text) + 1
        items++
      }
    }
    if (file.items !== null && items !== file.items)
      throw new Error(`${uri} holds ${items} items, DynamoDB's manifest-files.json says ${file.items}`)
    uncompressed += textBytes
    entries.push({
      path: `data/${name}`,
      sha256: got.sha256,
      items,
      bytes: got.bytes,
      uncompressedBytes: textBytes
    })
  }
  const total = entries.reduce((n, e) => n + e.items, 0)
  if (total !== copy.items)
    throw new Error(
      `the export's data files hold ${total} items, but the export counted ${copy.items} (${opts.manifestUri} serverSide.items)`
    )
  const files: CopySide = {
    itemCount: total,
    contentDigest: digest.hex(),
    ...(expiring ? { ttl: expiring.split(digest) } : {})
  }
  const scanned: CopySide = {
    itemCount: manifest.itemCount,
    contentDigest: manifest.contentDigest.value,
    ...(manifest.ttl ? { ttl: manifest.ttl } : {})
  }
  const differences = copyDifferences(scanned, files, {
    expected: 'the table as scanned',
    found: 'the export'
  })
  if (differences.length > 0) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(
      `the export's items are not the ones the table held when it was scanned behind the write fence: ${differences.join('; ')}`
    )
  }
  const local: BackupManifest = {
    ...manifest,
    dataFormat: 'DYNAMODB_JSON_LINES_GZIP',
    scan: {
      ...manifest.scan,
      note: `${manifest.scan.note}; downloaded from ${s3Uri(copy.bucket, copy.dataPrefix)} for a restore: count and content digest of the files equal the scan's`
    },
    itemCount: total,
    bytes: { uncompressed, compressed: entries.reduce((n, e) => n + e.bytes, 0) },
    dataFiles: entries,
    contentDigest: { algorithm: DIGEST_ALGORITHM, value: files.contentDigest },
    ...(window && files.ttl ? { ttl: { ...window, ...files.ttl } } : {})
  }
  const manifestPath = join(dir, MANIFEST_FILE)
  // Written last, as an export writes its manifest: a folder without one is unfinished.
  await writeManifest(manifestPath, local)
  return { manifestPath, files: entries.length, bytes: fetched, fromManifest: exported.fromManifest }
}

/** The export's data files: from DynamoDB's manifest files when there are any, checked against what was recorded. */
async function exportFiles(
  s3: Sender<S3Client>,
  copy: ServerSideCopy
): Promise<{ files: ExportDataFile[]; fromManifest: boolean }> {
  const summaryKey = exportSummaryKey(copy.dataPrefix)
  const summaryBytes = await getObjectBytesOrNull(s3, copy.bucket, summaryKey)
  if (summaryBytes !== null && copy.export) {
    let arn: unknown
    try {
      arn = (JSON.parse(summaryBytes.toString('utf8')) as { exportArn?: unknown }).exportArn
    } catch (err) {
      throw new Error(`${s3Uri(copy.bucket, summaryKey)} is not JSON (${errorMessage(err)})`)
    }
    if (typeof arn === 'string' && arn !== copy.export.arn)
      throw new Error(
        `${s3Uri(copy.bucket, summaryKey)} is the summary of export ${arn}, not of ${copy.export.arn}`
      )
  }
  const found = await exportDataFiles(s3, {
    bucket: copy.bucket,
    folder: copy.dataPrefix.replace(/AWSDynamoDB\/[^/]+\/data\/$/, ''),
    manifestKey: summaryBytes === null ? null : summaryKey,
    // Read once: the bytes whose exportArn was checked are the ones that name manifest-files.json.
    ...(summaryBytes === null ? {} : { manifestBytes: summaryBytes }),
    dataPrefix: copy.dataPrefix
  })
  if (found.dataPrefix !== copy.dataPrefix)
    throw new Error(
      `the export's data files lie in ${s3Uri(copy.bucket, found.dataPrefix)}, not in ${s3Uri(copy.bucket, copy.dataPrefix)}`
    )
  if (copy.export && found.files.length !== copy.export.files)
    throw new Error(
      `${found.files.length} data file(s) under ${s3Uri(copy.bucket, copy.dataPrefix)}, but the export had ${copy.export.files} when it was confirmed`
    )
  return { files: found.files, fromManifest: found.fromManifest }
}

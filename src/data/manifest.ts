/**
 * The backup manifest (manifest.json next to the data files) and its reading/writing.
 * The manifest is written last, atomically: a directory without one is an unfinished export.
 */
import { open, readFile, rename } from 'node:fs/promises'
import packageJson from '../../package.json' with { type: 'json' }
import { FileError, errorMessage } from '../errors.js'
import type { KeyElement, ScalarAttrType } from '../types.js'
import type { TtlSplit, TtlWindow } from './ttl.js'

/**
 * package.json's version, the one place it is written. The bundler inlines it (webpack keeps only
 * the `version` field of the JSON), so dist/ carries the version of the sources it was built from.
 */
export const TOOL_VERSION: string = packageJson.version
export const TOOL_NAME = 'dynamodb-orphan-guard'
export const MANIFEST_FILE = 'manifest.json'
export const MANIFEST_FORMAT = 'dynamodb-orphan-guard/backup@1'
/** How each line of a data file starts (DynamoDB's S3-export line format: `{"Item":{...}}`). */
export const LINE_PREFIX = '{"Item":'

export interface KeyAttribute extends KeyElement {
  attributeType: ScalarAttrType
}

export interface DataFileEntry {
  /** Relative to the manifest's directory, '/'-separated. */
  path: string
  sha256: string
  items: number
  /** Size on disk (gzip). */
  bytes: number
  /** Size of the NDJSON text inside. */
  uncompressedBytes: number
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT
  tool: { name: string; version: string }
  /**
   * The stage (the `stage` input) whose run took the export; null when exported outside a run
   * (tests, the bench). Absent in manifests written before it was recorded.
   */
  stage?: string | null
  table: {
    name: string
    arn: string | null
    region: string
    accountId: string | null
    /**
     * DescribeTable's CreationDateTime (ISO 8601): with the ARN it names the table instance (a table
     * deleted and created again under the same name has the same ARN and a new creation time).
     * Absent in manifests written before it was recorded.
     */
    createdAt?: string | null
    keySchema: KeyAttribute[]
    /** DescribeTable's `Table` as returned (dates as ISO text). */
    description: Record<string, unknown>
  }
  /**
   * `DYNAMODB_JSON_LINES_GZIP`: the action's own data files (`dataFiles`), DynamoDB's S3-export line
   * format (one `{"Item":{...}}` per line, DynamoDB JSON, gzip). `DYNAMODB_EXPORT`: the items are in
   * the files of DynamoDB's own ExportTableToPointInTime (`serverSide.export`), same line format, and
   * `dataFiles` is empty: the action never read them.
   */
  dataFormat: 'DYNAMODB_JSON_LINES_GZIP' | 'DYNAMODB_EXPORT'
  scan: { segments: number; consistentRead: boolean; note: string }
  itemCount: number
  /** NDJSON bytes (uncompressed) and on-disk bytes. */
  bytes: { uncompressed: number; compressed: number }
  dataFiles: DataFileEntry[]
  contentDigest: { algorithm: string; value: string }
  /**
   * With TTL on: the window the copy's verification used and how the items split by it (data/ttl.ts).
   * A restore verifies against `alive` with the same window. Absent when TTL is off.
   */
  ttl?: TtlWindow & TtlSplit
  /**
   * Salt of the key hashes that name this backup's items in messages (data/key-fit.ts keyHash);
   * random per export. Absent in manifests written before it existed.
   */
  keyHashSalt?: string
  startedAt: string
  finishedAt: string
  /**
   * Set on a copy made for the server-side path of backup-restore (ImportTable creates the new table
   * from it before the deploy): where ImportTable reads the items, and how many it must import.
   */
  serverSide?: ServerSideCopy
}

export interface ServerSideCopy {
  /** The action's streamed export (point-in-time recovery off), or DynamoDB's ExportTableToPointInTime. */
  source: 'streamed-export' | 'dynamodb-export'
  /** Bucket and key prefix (ending in '/') of exactly the data files: ImportTable's S3BucketSource. */
  bucket: string
  dataPrefix: string
  /**
   * Items ImportTable must import: itemCount for the streamed export; DynamoDB's export's own count
   * (with TTL on, items that expired between the scan and the export are not in it).
   */
  items: number
  export?: {
    arn: string
    /** The export's point in time. */
    exportTime: string | null
    files: number
    bytes: number
  }
}

/** Writes a file so that readers see either the old or the new content, never a torn one. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(content)
    // fsync: rename is atomic against a killed process; sync makes it survive a power cut too.
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
}

export async function writeManifest(path: string, manifest: BackupManifest): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`)
}

function invalid(path: string, what: string): never {
  throw new FileError(path, `not a backup manifest: ${what}`)
}

export async function readManifest(path: string): Promise<BackupManifest> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new FileError(path, `cannot read the backup manifest (${errorMessage(err)})`)
  }
  return parseManifest(text, path)
}

/** A manifest's text checked for the fields a restore relies on; `path` (a file or an S3 URI) names it in errors. */
export function parseManifest(text: string, path: string): BackupManifest {
  let m: unknown
  try {
    m = JSON.parse(text)
  } catch (err) {
    throw new FileError(path, `the backup manifest is not valid JSON (${errorMessage(err)})`)
  }
  if (m === null || typeof m !== 'object') invalid(path, 'not a JSON object')
  const r = m as Partial<BackupManifest>
  if (r.format !== MANIFEST_FORMAT)
    invalid(path, `format is ${JSON.stringify(r.format)}, expected "${MANIFEST_FORMAT}"`)
  if (!Array.isArray(r.dataFiles)) invalid(path, 'dataFiles is missing')
  for (const f of r.dataFiles) {
    if (typeof f?.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.items !== 'number')
      invalid(path, 'a dataFiles entry lacks path, sha256 or items')
    if (f.path.startsWith('/') || f.path.split('/').includes('..'))
      invalid(path, `data file path ${JSON.stringify(f.path)} leaves the backup directory`)
  }
  if (typeof r.itemCount !== 'number') invalid(path, 'itemCount is missing')
  if (typeof r.contentDigest?.value !== 'string') invalid(path, 'contentDigest is missing')
  if (!Array.isArray(r.table?.keySchema)) invalid(path, 'table.keySchema is missing')
  if (typeof r.table.name !== 'string') invalid(path, 'table.name is missing')
  return r as BackupManifest
}

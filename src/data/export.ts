/**
 * Export: a parallel segmented Scan streamed into gzip NDJSON data files in DynamoDB's S3-export
 * line format (`{"Item":{...}}`, DynamoDB JSON untouched), plus manifest.json written last.
 *
 * Memory is flat in the table size: each segment holds at most one Scan page (≤ 1 MB) and waits
 * for its gzip stream to drain before asking for the next page.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { createGzip, constants as zlibConstants } from 'node:zlib'
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import {
  DescribeTableCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TableDescription
} from '@aws-sdk/client-dynamodb'
import { OperationError, errorMessage } from '../errors.js'
import type { Logger } from '../types.js'
import { ContentDigest, DIGEST_ALGORITHM } from './digest.js'
import { scanPageWire } from './raw-scan.js'
import type { WireItem } from './dynamodb-json.js'
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  TOOL_NAME,
  TOOL_VERSION,
  writeManifest,
  type BackupManifest,
  type DataFileEntry,
  type KeyAttribute
} from './manifest.js'
import { Progress } from './progress.js'
import { realSleep, withRetries, type Sleep } from './retry.js'

/** The narrow client surface the data engine needs. */
export type DynamoSender = Pick<DynamoDBClient, 'send'>

export interface ExportProgress {
  items: number
  bytes: number
}

export interface ExportOptions {
  table: string
  /** Directory for manifest.json and data/ (created). */
  dir: string
  /** Scan segments; default chosen from the table's size estimate (see chooseSegments). */
  segments?: number
  region: string
  /** Defaults to the account in the table ARN. */
  accountId?: string
  logger: Logger
  onProgress?: (p: ExportProgress) => void
  clock?: () => number
  sleep?: Sleep
  random?: () => number
  /** zlib level; 1 keeps gzip off the critical path (DynamoDB JSON still shrinks ~4-6×). */
  gzipLevel?: number
  progressIntervalMs?: number
  /**
   * Items per Scan page (default 500). DynamoDB pages stop at 1 MB anyway; smaller pages cost
   * the same read capacity (it is counted by size) and a few more round trips, and keep the
   * data in flight small, so memory stays low and flat whatever the table size.
   */
  pageItems?: number
}

const SEGMENT_BYTES = 512 * 1024 * 1024
export const DEFAULT_SEGMENTS = 4
export const MAX_SEGMENTS = 256
export const DEFAULT_PAGE_ITEMS = 500
/** Characters of data-file lines handed to gzip at a time. */
const WRITE_CHARS = 32 * 1024

/**
 * Segments from DescribeTable's TableSizeBytes (refreshed ~6 h, 0 on emulators): one per 512 MiB,
 * at least 4 so that page latency overlaps even on small tables, at most 256.
 */
export function chooseSegments(tableSizeBytes: number | undefined): number {
  const bySize = Math.ceil((tableSizeBytes ?? 0) / SEGMENT_BYTES)
  return Math.min(MAX_SEGMENTS, Math.max(DEFAULT_SEGMENTS, bySize))
}

export function keyAttributes(t: TableDescription): KeyAttribute[] {
  const types = new Map((t.AttributeDefinitions ?? []).map(d => [d.AttributeName, d.AttributeType]))
  return (t.KeySchema ?? []).map(k => {
    const attributeType = types.get(k.AttributeName)
    if (attributeType !== 'S' && attributeType !== 'N' && attributeType !== 'B') {
      throw new OperationError(
        `Table ${t.TableName}: key attribute ${k.AttributeName} has no S/N/B type in AttributeDefinitions`,
        'nothing was written'
      )
    }
    return { name: k.AttributeName as string, type: k.KeyType as 'HASH' | 'RANGE', attributeType }
  })
}

/** Counts and hashes the bytes that pass through (the gzip output on its way to disk). */
class Tap extends Transform {
  readonly hash = createHash('sha256')
  bytes = 0
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    this.push(chunk)
    cb()
  }
}

class DataFileWriter {
  private readonly gzip
  private readonly tap = new Tap()
  private readonly done: Promise<void>
  items = 0
  uncompressedBytes = 0

  constructor(
    readonly absPath: string,
    readonly relPath: string,
    level: number
  ) {
    this.gzip = createGzip({ level, chunkSize: 256 * 1024, strategy: zlibConstants.Z_DEFAULT_STRATEGY })
    this.done = pipeline(this.gzip, this.tap, createWriteStream(absPath))
    // A failure surfaces through `done`; keep write() from also raising an unhandled 'error'.
    this.done.catch(() => undefined)
  }

  /** Writes the lines of `items` items; returns their size in bytes (UTF-8). */
  async write(text: string, items: number): Promise<number> {
    const bytes = Buffer.from(text)
    this.items += items
    this.uncompressedBytes += bytes.length
    if (!this.gzip.write(bytes)) await Promise.race([once(this.gzip, 'drain'), this.done])
    return bytes.length
  }

  async close(): Promise<DataFileEntry> {
    this.gzip.end()
    await this.done
    return {
      path: this.relPath,
      sha256: this.tap.hash.digest('hex'),
      items: this.items,
      bytes: this.tap.bytes,
      uncompressedBytes: this.uncompressedBytes
    }
  }
}

function describeForManifest(t: TableDescription): Record<string, unknown> {
  return JSON.parse(JSON.stringify(t)) as Record<string, unknown>
}

function accountFromArn(arn: string | undefined): string | null {
  const account = arn?.split(':')[4]
  return account !== undefined && account !== '' ? account : null
}

export async function exportTable(ddb: DynamoSender, opts: ExportOptions): Promise<BackupManifest> {
  const clock = opts.clock ?? Date.now
  const sleep = opts.sleep ?? realSleep
  const random = opts.random ?? Math.random
  const startedAt = new Date(clock()).toISOString()
  const retry = {
    sleep,
    random,
    onRetry: (err: unknown) =>
      opts.logger.debug(`export of ${opts.table}: retrying after ${errorMessage(err)}`)
  }

  let table: TableDescription
  try {
    const out = await withRetries(() => ddb.send(new DescribeTableCommand({ TableName: opts.table })), retry)
    table = out.Table as TableDescription
  } catch (err) {
    throw new OperationError(
      `Export of ${opts.table} failed: DescribeTable: ${errorMessage(err)}`,
      'nothing was exported',
      { cause: err }
    )
  }
  const keySchema = keyAttributes(table)
  const segments = opts.segments ?? chooseSegments(table.TableSizeBytes)
  if (!Number.isInteger(segments) || segments < 1 || segments > 1_000_000)
    throw new OperationError(
      `Export of ${opts.table}: segments must be an integer from 1, got ${segments}`,
      'nothing was exported'
    )

  const dataDir = join(opts.dir, 'data')
  await mkdir(dataDir, { recursive: true })
  // A manifest left by an earlier export must not vouch for the files this one overwrites.
  await rm(join(opts.dir, MANIFEST_FILE), { force: true })
  const width = String(segments - 1).length
  const pageItems = opts.pageItems ?? DEFAULT_PAGE_ITEMS
  const digest = new ContentDigest()
  // ItemCount is an estimate (refreshed ~6 h; 0 on emulators): only a hint for the ETA.
  const progress = new Progress({
    label: `Export ${opts.table}`,
    logger: opts.logger,
    clock,
    total: (table.ItemCount ?? 0) > 0 ? table.ItemCount : null,
    intervalMs: opts.progressIntervalMs
  })
  let items = 0
  let bytes = 0
  opts.logger.info(`Exporting ${opts.table} with ${segments} parallel scan segments into ${opts.dir}`)

  const scanSegment = async (segment: number): Promise<DataFileEntry | null> => {
    let writer: DataFileWriter | null = null
    let startKey: Record<string, AttributeValue> | undefined
    try {
      do {
        const page = await withRetries(
          () =>
            scanPageWire(ddb, {
              TableName: opts.table,
              Segment: segment,
              TotalSegments: segments,
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
              Limit: pageItems
            }),
          retry
        )
        const texts = page.texts
        if (texts.length > 0) {
          if (writer === null) {
            const name = `segment-${String(segment).padStart(width, '0')}-of-${segments}.json.gz`
            writer = new DataFileWriter(join(dataDir, name), `data/${name}`, opts.gzipLevel ?? 1)
          }
          // Written in pieces of ~32 K characters: no page-sized string (see splitTopLevelArrayBytes).
          let text = ''
          let pending = 0
          let pageBytes = 0
          for (const itemText of texts) {
            // Digested from its text: the item is only built (parsed) when the text is unusual.
            digest.addText(itemText)
            // The service's own text goes to the file; it is compact JSON (a line break could only
            // be insignificant whitespace, and would break the one-item-per-line format).
            text += `{"Item":${itemText.includes('\n') || itemText.includes('\r') ? JSON.stringify(JSON.parse(itemText) as WireItem) : itemText}}\n`
            pending++
            if (text.length >= WRITE_CHARS) {
              pageBytes += await writer.write(text, pending)
              text = ''
              pending = 0
            }
          }
          if (pending > 0) pageBytes += await writer.write(text, pending)
          items += texts.length
          bytes += pageBytes
          progress.add(texts.length)
          opts.onProgress?.({ items, bytes })
        }
        startKey = page.lastEvaluatedKey
      } while (startKey !== undefined)
      return writer === null ? null : await writer.close()
    } catch (err) {
      if (writer !== null) await writer.close().catch(() => undefined)
      throw err
    }
  }

  const results = await Promise.allSettled(Array.from({ length: segments }, (_, i) => scanSegment(i)))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) {
    throw new OperationError(
      `Export of ${opts.table} failed: ${errorMessage(failed.reason)}`,
      `no manifest was written; the partial files in ${dataDir} are not a backup`,
      { cause: failed.reason }
    )
  }
  const dataFiles = results
    .map(r => (r as PromiseFulfilledResult<DataFileEntry | null>).value)
    .filter((f): f is DataFileEntry => f !== null)
  progress.finish()

  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    table: {
      name: opts.table,
      arn: table.TableArn ?? null,
      region: opts.region,
      accountId: opts.accountId ?? accountFromArn(table.TableArn),
      keySchema,
      description: describeForManifest(table)
    },
    dataFormat: 'DYNAMODB_JSON_LINES_GZIP',
    scan: {
      segments,
      consistentRead: true,
      note: 'a Scan is not a point-in-time snapshot: writes during the export may or may not be included'
    },
    itemCount: items,
    bytes: { uncompressed: bytes, compressed: dataFiles.reduce((s, f) => s + f.bytes, 0) },
    dataFiles,
    contentDigest: { algorithm: DIGEST_ALGORITHM, value: digest.hex() },
    startedAt,
    finishedAt: new Date(clock()).toISOString()
  }
  await writeManifest(join(opts.dir, MANIFEST_FILE), manifest)
  opts.logger.info(
    `Exported ${items} items of ${opts.table} (${dataFiles.length} data files, digest ${manifest.contentDigest.value.slice(0, 16)}…)`
  )
  return manifest
}

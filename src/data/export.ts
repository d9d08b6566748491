/**
 * Export: a parallel segmented Scan streamed into gzip NDJSON data files in DynamoDB's S3-export
 * line format (`{"Item":{...}}`, DynamoDB JSON untouched), plus manifest.json written last.
 *
 * Memory is flat in the table size: at most MAX_PARALLEL_SEGMENTS segments are scanned at a time;
 * each holds one Scan page (≤ 1 MB), digested and encoded into its data file's reused buffer the
 * moment the response body arrives, and waits until gzip has consumed it before asking for the
 * next page.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
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
import { Interrupted, OperationError, errorMessage, stopIfInterrupted } from '../errors.js'
import { systemClock, type Clock, type Logger } from '../types.js'
import { ContentDigest, DIGEST_ALGORITHM } from './digest.js'
import { ExpiringItems, type TtlWindow } from './ttl.js'
import { scanSegmentPage } from './raw-scan.js'
import type { WireItem } from './dynamodb-json.js'
import type { PageItems } from './json-scan.js'
import {
  LINE_PREFIX,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  TOOL_NAME,
  TOOL_VERSION,
  writeManifest,
  type BackupManifest,
  type DataFileEntry,
  type KeyAttribute,
  type ServerSideCopy
} from './manifest.js'
import { newKeyHashSalt } from './key-fit.js'
import { Progress } from './progress.js'
import { withRetries } from './retry.js'
import type { Sender } from '../aws/clients.js'

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
  /** Timestamps, progress and retry backoff (default: the system clock). */
  clock?: Clock
  random?: () => number
  /** zlib level; 1 keeps gzip off the critical path (DynamoDB JSON still shrinks ~4-6×). */
  gzipLevel?: number
  progressIntervalMs?: number
  /**
   * Items per Scan page (Scan's Limit). Default: none, the service's own page of up to 1 MB, the
   * fewest round trips. Memory does not depend on it: a page is at most 1 MB whatever the limit,
   * and its buffers are reused from page to page.
   */
  pageItems?: number
  /** Segments scanned at the same time (default 16, at most `segments`). */
  parallelSegments?: number
  /** The stage recorded in the manifest (default null). */
  stage?: string | null
  /** The table's TTL attribute and the window its verification uses (data/ttl.ts); none when TTL is off. */
  ttl?: TtlWindow
  /**
   * Called once per data file, the moment it is complete on disk (closed, its sha256 known),
   * while other segments are still being scanned: the S3 copy starts its upload there.
   */
  onDataFile?: (file: DataFileEntry, absPath: string) => void
  /** Stops the export at the next page (Interrupted; no manifest is written, nothing else changes). */
  signal?: AbortSignal
  /** The manifest's keyHashSalt (default: a new random one). */
  keyHashSalt?: string
  /** Recorded in the manifest when the copy is meant for ImportTable (the item count is filled in). */
  serverSide?: Omit<ServerSideCopy, 'items' | 'export'>
}

const SEGMENT_BYTES = 512 * 1024 * 1024
export const DEFAULT_SEGMENTS = 4
export const MAX_SEGMENTS = 256
/** Segments scanned at the same time (each holds one page and one open data file). */
export const MAX_PARALLEL_SEGMENTS = 16

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

const LINE_START = Buffer.from(LINE_PREFIX)
const LINE_END = Buffer.from('}\n')

/** Copies a few bytes (cheaper in a loop than through a native copy). Returns the new offset. */
function putSmall(to: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) to[at + i] = bytes[i] as number
  return at + bytes.length
}
const SLAB_STEP = 64 * 1024

/**
 * One gzip NDJSON data file. A page's lines are encoded into a reusable buffer (a slab) and handed
 * to gzip as a whole. There are two slabs: the next page is scanned into one while gzip still
 * compresses the other, and a slab is filled again only once gzip has consumed it. So the file
 * costs two pages of memory outside the JS heap whatever the table size, and no per-page garbage.
 */
export class DataFileWriter {
  private readonly gzip
  private readonly tap = new Tap()
  private readonly done: Promise<void>
  /** Each grows to the largest page (a Scan page is ≤ 1 MB of item data), then is reused. */
  private readonly slabs = [Buffer.alloc(0), Buffer.alloc(0)]
  /** gzip's consumption of each slab's last page, while it lasts (resolves to its error or null). */
  private readonly inGzip: (Promise<Error | null> | null)[] = [null, null]
  private current = 0
  private used = 0
  private pageItems = 0
  items = 0
  uncompressedBytes = 0

  constructor(
    readonly absPath: string,
    readonly relPath: string,
    level: number
  ) {
    this.gzip = createGzip({ level, chunkSize: 64 * 1024, strategy: zlibConstants.Z_DEFAULT_STRATEGY })
    this.done = pipeline(this.gzip, this.tap, createWriteStream(absPath))
    // A failure surfaces through `done`; keep write() from also raising an unhandled 'error'.
    this.done.catch(() => undefined)
  }

  /** Room for `bytes` more in the current slab: grown to what is needed (in 64 KiB steps), not doubled. */
  private reserve(bytes: number): void {
    const slab = this.slabs[this.current] as Buffer
    if (this.used + bytes <= slab.length) return
    const size = Math.max(this.used + bytes, Math.floor(slab.length * 1.25))
    const bigger = Buffer.allocUnsafeSlow(Math.ceil(size / SLAB_STEP) * SLAB_STEP)
    slab.copy(bigger, 0, 0, this.used)
    this.slabs[this.current] = bigger
  }

  /** Waits until gzip no longer reads the slab that the next page goes into. */
  async ready(): Promise<void> {
    const pending = this.inGzip[this.current]
    if (pending === null || pending === undefined) return
    this.inGzip[this.current] = null
    const err = await pending
    if (err !== null) throw err
  }

  /**
   * Encodes a page's lines into the current slab (replacing any page not yet flushed, so that a
   * page consumed twice is written once) and adds its items to `digest`, synchronously. Call
   * ready() before the page is fetched. Returns the lines' size in bytes (UTF-8).
   */
  addPage(page: PageItems, digest: ContentDigest): number {
    if (this.inGzip[this.current] !== null) throw new Error('DataFileWriter.addPage before ready()')
    this.used = 0
    // Compact lines take the page's bytes (which hold every item) plus the line framing.
    this.reserve(page.bytes.length + page.length * (LINE_START.length + LINE_END.length))
    for (let i = 0; i < page.length; i++) {
      // Digested from its bytes: the item is only built (parsed) when the text is unusual. A
      // compact one (no whitespace, so no line break) goes to the file as the service's bytes;
      // any other as its text, unless a line break (insignificant whitespace) would break the
      // one-item-per-line format.
      const compact = digest.addPageItem(page, i)
      let text: string | null = null
      if (!compact) {
        text = page.text(i)
        if (text.includes('\n') || text.includes('\r')) text = JSON.stringify(JSON.parse(text) as WireItem)
      }
      const start = page.start(i)
      const end = page.end(i)
      // A UTF-16 code unit is at most 3 bytes of UTF-8.
      this.reserve(LINE_START.length + (text === null ? end - start : text.length * 3) + LINE_END.length)
      const slab = this.slabs[this.current] as Buffer
      this.used = putSmall(slab, this.used, LINE_START)
      this.used +=
        text === null ? page.bytes.copy(slab, this.used, start, end) : slab.write(text, this.used, 'utf8')
      this.used = putSmall(slab, this.used, LINE_END)
    }
    this.pageItems = page.length
    return this.used
  }

  /** Hands the page in the current slab to gzip (without waiting) and moves to the other slab. */
  flushPage(): void {
    if (this.used === 0) return
    const page = (this.slabs[this.current] as Buffer).subarray(0, this.used)
    this.items += this.pageItems
    this.uncompressedBytes += this.used
    this.used = 0
    this.pageItems = 0
    this.inGzip[this.current] = Promise.race([
      new Promise<Error | null>(resolve => this.gzip.write(page, err => resolve(err ?? null))),
      this.done.then(
        () => null,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err)))
      )
    ])
    this.current = 1 - this.current
  }

  async close(): Promise<DataFileEntry> {
    this.flushPage()
    for (const pending of this.inGzip) {
      const err = await pending
      if (err !== null && err !== undefined) throw err
    }
    this.inGzip[0] = null
    this.inGzip[1] = null
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

/** The manifest's `table`: what DescribeTable said of the table the copy was taken of. */
export function manifestTable(
  table: TableDescription,
  region: string,
  accountId?: string
): BackupManifest['table'] {
  return {
    name: table.TableName ?? '',
    arn: table.TableArn ?? null,
    region,
    accountId: accountId ?? accountFromArn(table.TableArn),
    createdAt: isoDate(table.CreationDateTime),
    keySchema: keyAttributes(table),
    description: describeForManifest(table)
  }
}

function describeForManifest(t: TableDescription): Record<string, unknown> {
  return JSON.parse(JSON.stringify(t)) as Record<string, unknown>
}

function isoDate(value: Date | undefined): string | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : null
}

function accountFromArn(arn: string | undefined): string | null {
  const account = arn?.split(':')[4]
  return account !== undefined && account !== '' ? account : null
}

export async function exportTable(ddb: Sender<DynamoDBClient>, opts: ExportOptions): Promise<BackupManifest> {
  const { now, sleep } = opts.clock ?? systemClock
  const random = opts.random ?? Math.random
  const startedAt = new Date(now()).toISOString()
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
  // A key attribute without an S/N/B type fails here, before anything is scanned.
  keyAttributes(table)
  const segments = opts.segments ?? chooseSegments(table.TableSizeBytes)
  if (!Number.isInteger(segments) || segments < 1 || segments > 1_000_000)
    throw new OperationError(
      `Export of ${opts.table}: segments must be an integer from 1, got ${segments}`,
      'nothing was exported'
    )

  const parallelSegments = opts.parallelSegments ?? MAX_PARALLEL_SEGMENTS
  for (const [name, value] of [
    ['parallelSegments', parallelSegments],
    ['pageItems', opts.pageItems ?? 1]
  ] as const)
    if (!Number.isInteger(value) || value < 1)
      throw new OperationError(
        `Export of ${opts.table}: ${name} must be an integer from 1, got ${value}`,
        'nothing was exported'
      )

  const dataDir = join(opts.dir, 'data')
  await mkdir(dataDir, { recursive: true })
  // A manifest left by an earlier export must not vouch for the files this one overwrites.
  await rm(join(opts.dir, MANIFEST_FILE), { force: true })
  const width = String(segments - 1).length
  const pageItems = opts.pageItems
  const digest = new ContentDigest()
  const expiring = opts.ttl ? new ExpiringItems(opts.ttl) : null
  // ItemCount is an estimate (refreshed ~6 h; 0 on emulators): only a hint for the ETA.
  const progress = new Progress({
    label: `Export ${opts.table}`,
    task: 'export',
    table: opts.table,
    logger: opts.logger,
    now,
    total: (table.ItemCount ?? 0) > 0 ? table.ItemCount : null,
    intervalMs: opts.progressIntervalMs
  })
  let items = 0
  let bytes = 0
  const parallel = Math.min(segments, parallelSegments)
  opts.logger.info(
    `Exporting ${opts.table} with ${segments} scan segments (${parallel} at a time) into ${opts.dir}`
  )

  /**
   * One Scan page of `segment` into the segment's writer (made on its first item). The item texts
   * do not outlive this call.
   */
  const scanPageInto = async (
    segment: number,
    startKey: Record<string, AttributeValue> | undefined,
    /** The segment's writer; made on the first item when `create`. */
    writerFor: (create: boolean) => DataFileWriter | null
  ): Promise<{ items: number; bytes: number; lastEvaluatedKey: typeof startKey }> => {
    const page = await withRetries(
      () =>
        scanSegmentPage(ddb, { table: opts.table, segment, segments, startKey, limit: pageItems }, page => {
          const pageDigest = new ContentDigest()
          // Even an empty page replaces what an earlier attempt of it left in the writer.
          const bytes = writerFor(page.length > 0)?.addPage(page, pageDigest) ?? 0
          const pageExpiring = opts.ttl ? new ExpiringItems(opts.ttl) : null
          if (pageExpiring) for (let i = 0; i < page.length; i++) pageExpiring.addPageItem(page, i)
          return { digest: pageDigest, bytes, items: page.length, expiring: pageExpiring }
        }),
      retry
    )
    digest.merge(page.result.digest)
    if (expiring && page.result.expiring) expiring.merge(page.result.expiring)
    return { items: page.result.items, bytes: page.result.bytes, lastEvaluatedKey: page.lastEvaluatedKey }
  }

  const scanSegment = async (segment: number): Promise<DataFileEntry | null> => {
    // Held in an object: the closure below assigns it.
    const file: { writer: DataFileWriter | null } = { writer: null }
    const writerFor = (create: boolean): DataFileWriter | null => {
      if (file.writer === null && create) {
        const name = `segment-${String(segment).padStart(width, '0')}-of-${segments}.json.gz`
        file.writer = new DataFileWriter(join(dataDir, name), `data/${name}`, opts.gzipLevel ?? 1)
      }
      return file.writer
    }
    let startKey: Record<string, AttributeValue> | undefined
    try {
      do {
        stopIfInterrupted(opts.signal, `Export of ${opts.table} interrupted`, '')
        await file.writer?.ready()
        const page = await scanPageInto(segment, startKey, writerFor)
        startKey = page.lastEvaluatedKey
        // gzip compresses this page while the next one is fetched.
        file.writer?.flushPage()
        items += page.items
        bytes += page.bytes
        progress.add(page.items)
        if (page.items > 0) opts.onProgress?.({ items, bytes })
      } while (startKey !== undefined)
      if (file.writer === null) return null
      const entry = await file.writer.close()
      opts.onDataFile?.(entry, file.writer.absPath)
      return entry
    } catch (err) {
      await file.writer?.close().catch(() => undefined)
      throw err
    }
  }

  // Segments are scanned at most `parallel` at a time, so memory (a page and a data file per
  // segment being scanned) stays flat however many segments a big table gets.
  const files: (DataFileEntry | null)[] = []
  let failure: { reason: unknown } | null = null
  let nextSegment = 0
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (failure === null && nextSegment < segments) {
        const segment = nextSegment++
        try {
          files[segment] = await scanSegment(segment)
        } catch (err) {
          failure ??= { reason: err }
        }
      }
    })
  )
  if (failure !== null) {
    const reason = (failure as { reason: unknown }).reason
    progress.finish('stopped')
    const state = `no manifest was written; the partial files in ${dataDir} are not a backup`
    if (reason instanceof Interrupted) throw new Interrupted(reason.message, state)
    throw new OperationError(`Export of ${opts.table} failed: ${errorMessage(reason)}`, state, {
      cause: reason
    })
  }
  const dataFiles = files.filter((f): f is DataFileEntry => f !== null && f !== undefined)
  progress.finish()

  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    stage: opts.stage ?? null,
    table: manifestTable(table, opts.region, opts.accountId),
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
    ...(expiring && opts.ttl ? { ttl: { ...opts.ttl, ...expiring.split(digest) } } : {}),
    keyHashSalt: opts.keyHashSalt ?? newKeyHashSalt(),
    startedAt,
    finishedAt: new Date(now()).toISOString(),
    ...(opts.serverSide ? { serverSide: { ...opts.serverSide, items } } : {})
  }
  await writeManifest(join(opts.dir, MANIFEST_FILE), manifest)
  opts.logger.info(
    `Exported ${items} items of ${opts.table} (${dataFiles.length} data files, digest ${manifest.contentDigest.value.slice(0, 16)}…)`
  )
  return manifest
}

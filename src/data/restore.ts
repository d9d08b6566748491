/**
 * Restore: puts a backup (our manifest + gzip NDJSON files, or a legacy `{"Items":[...]}` file)
 * into a table without losing an item.
 *
 * 1. Pre-checks, before anything is written: the target exists and is ACTIVE; every data file
 *    matches its sha256 in the manifest, gunzips, parses line by line, and every item is valid
 *    DynamoDB JSON whose key attributes fit the target's key schema (names and types); the item
 *    counts match the manifest; the target is empty unless `merge` (or we are resuming our own
 *    checkpoint).
 * 2. Streaming write: 25-item BatchWriteItem requests, as many in flight as an AIMD window allows
 *    (slow start, halve on throttling / UnprocessedItems / 5xx, +1 per round trip when clean).
 *    UnprocessedItems and retryable errors are re-sent with full-jitter exponential backoff;
 *    a non-retryable error (ValidationException) is narrowed down to the item and stops the
 *    restore naming its key, file and line.
 * 3. A checkpoint next to the backup records the low-water mark (see checkpoint.ts) at least every
 *    CHECKPOINT_EVERY_ITEMS items and every second, and no batch starts more than
 *    MAX_BATCHES_AHEAD batches past the mark: a restore killed at any point writes at most a few
 *    thousand items a second time when it resumes.
 * 4. With `verify`, the table is scanned after the writes and must hold exactly the backup's items
 *    (count and content digest); only then does the checkpoint say `verified`. With TTL on the
 *    target (or on the backup's table), the verification sets apart the items whose TTL lies
 *    before a cutoff six hours after this run started (data/ttl.ts: a window of the restore's own,
 *    however old the backup is); the backup's part for it is computed from the data files in
 *    step 1, whose whole digest must then equal the manifest's.
 */
import { dirname, join, resolve } from 'node:path'
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  type BatchWriteItemCommandInput,
  type TableDescription,
  type WriteRequest
} from '@aws-sdk/client-dynamodb'
import { FileError, Interrupted, OperationError, errorMessage } from '../errors.js'
import { systemClock, type Clock, type Sleep, type Logger } from '../types.js'
import {
  CHECKPOINT_FORMAT,
  readCheckpoint,
  sameInstance,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointState,
  type TargetInstance
} from './checkpoint.js'
import { ContentDigest, DIGEST_ALGORITHM } from './digest.js'
import { WireFormatError, checkWireItem, sdkItemToWire, type WireItem } from './dynamodb-json.js'
import { keyAttributes } from './export.js'
import { itemRef, keyHash, keyProblem, runKeyHashSalt, schemaText, withoutItemValues } from './key-fit.js'
import { describeTtlStatus, listAllTags, tableHoldsData } from '../aws/dynamodb-read.js'
import { tagTable } from '../aws/dynamodb-write.js'
import { readManifest, type DataFileEntry, type KeyAttribute } from './manifest.js'
import { Progress } from './progress.js'
import { keyText, scanItemLine } from './item-line.js'
import { BODY_TEXT, withDataMiddleware } from './wire-middleware.js'
import {
  parseLine,
  readDataFile,
  readDataLines,
  readLegacyFile,
  sha256File,
  type SourceItem
} from './readers.js'
import { backoffDelay, classifyError, withRetries } from './retry.js'
import { ExpiringItems, restoreTtlAttribute, ttlWindow, type TtlSplit, type TtlWindow } from './ttl.js'
import { verifyTable, type CopySide } from './verify.js'
import type { Sender } from '../aws/clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

export interface RestoreOptions {
  /** Our backup: path of manifest.json. Exactly one of manifestPath / legacyFile. */
  manifestPath?: string
  /** A `{"Items":[...]}` file written by `aws dynamodb scan` (plain or gzip). */
  legacyFile?: string
  table: string
  /** Write into a table that already holds items (existing items with the same key are overwritten). */
  merge?: boolean
  logger: Logger
  /** Timing, checkpoint pacing and retry backoff (default: the system clock). */
  clock?: Clock
  random?: () => number
  /** Most 25-item batches in flight (default 16). */
  concurrency?: number
  /** Batches in flight at the start (default 4); the window grows from there. */
  initialConcurrency?: number
  /** Engine-level attempts per batch without any progress before giving up (default 12). */
  maxAttempts?: number
  /** Longest time between checkpoint writes while items complete (default 1000 ms). */
  checkpointIntervalMs?: number
  /** A checkpoint is written at least every this many items (default CHECKPOINT_EVERY_ITEMS). */
  checkpointEveryItems?: number
  /**
   * After the writes, scan the table and require exactly the backup's items (count and content
   * digest) before the checkpoint says `verified`. Without it the restore ends at `written`.
   */
  verify?: boolean
  /** Default: restore-checkpoint.json next to the manifest, or `<legacy file>.restore-checkpoint.json`. */
  checkpointPath?: string
  /**
   * The mark of this restore on the target table instance (a tag naming the backup it restores),
   * for a resume on a runner that has no checkpoint (a fresh runner after a killed or cancelled
   * job). Put on the target before the first write. A target that holds items, has no checkpoint
   * here and carries this very tag was being written by an earlier run of this restore: it is
   * written again from the first item (a put of the same item overwrites it) instead of refused,
   * and the verification decides. Tags live and die with the instance, so a re-created table is
   * never taken for it.
   */
  restartMark?: { key: string; value: string }
  progressIntervalMs?: number
  /**
   * Stops the copy at the next batch (Ctrl-C, a cancelled job): the batches in flight complete, the
   * checkpoint is written and Interrupted is thrown; a later run resumes from the checkpoint.
   */
  signal?: AbortSignal
}

export interface RestoreReport {
  table: string
  source: string
  itemsTotal: number
  /** Items put by this run. */
  itemsWritten: number
  /** Items a previous run had already written (skipped thanks to the checkpoint). */
  itemsSkipped: number
  resumed: boolean
  /** No checkpoint, but the target carried restartMark: every item was written again. */
  restartedWithoutCheckpoint: boolean
  batches: number
  requests: number
  retries: { unprocessedItems: number; throttled: number; transient: number; sdkRetries: number }
  peakConcurrency: number
  durationMs: number
  checkpointPath: string
  /** What verifyTable should find afterwards (for a merge: what was restored, not the table). */
  expected: { itemCount: number; contentDigest: string; algorithm: string }
  /** The table instance written into (what the checkpoint is bound to). */
  target: TargetInstance
  /** `verified` only when this run or an earlier one verified the table after the writes. */
  state: Exclude<CheckpointState, 'writing'>
  /** The checkpoint said verified before this call: an earlier run finished this restore. */
  alreadyVerified: boolean
  /** With TTL on: what the verification compared and set apart (null without TTL, or not verified here). */
  verifyNote: string | null
}

/** An item of a sound backup does not fit the target's keys (any copy of the backup has it too). */
export class ItemDoesNotFitError extends FileError {
  constructor(file: string, message: string) {
    super(file, message)
    this.name = 'ItemDoesNotFitError'
  }
}

/** The target already holds items and no checkpoint of this backup for this table instance says why. */
export class TargetHoldsDataError extends OperationError {
  /**
   * @param backup What the backup holds, checked against its files, and with TTL on, its part
   *   alive past the restore's own window: what the table must hold to be this backup restored.
   */
  constructor(
    message: string,
    readonly backup: CopySide & { ttl?: TtlWindow & TtlSplit }
  ) {
    super(message, 'nothing was written')
    this.name = 'TargetHoldsDataError'
  }
}

interface SourceFile {
  path: string
  display: string
  items: number
}

interface Source {
  display: string
  kind: 'manifest' | 'legacy'
  files: SourceFile[]
  id: string
  itemCount: number
  digest: string
  checkpointPath: string
  /** Parsed items (the precheck). */
  read(file: SourceFile, skip: number): AsyncGenerator<SourceItem[]>
  /** What the write path sends: each item's text and key, parsed only when it must be. */
  entries(file: SourceFile, skip: number, keys: KeyAttribute[]): AsyncGenerator<Entry[]>
  /** Our manifest's entries (sha256 per file) and key schema; absent for a legacy file. */
  manifestFiles?: DataFileEntry[]
  backupKeys?: KeyAttribute[]
  /** Salt of the key hashes that name items in messages: the manifest's, else one for this run. */
  keyHashSalt: string
  /** The TTL attribute of the backup's table (its manifest's `ttl`); null when off or unknown. */
  ttlAttribute: string | null
  /** This restore's TTL window and the backup's split by it (set by the precheck, from the data files). */
  ttl?: TtlWindow & TtlSplit
}

const BATCH_SIZE = 25
/** A checkpoint at least every this many items (and every checkpointIntervalMs). */
export const CHECKPOINT_EVERY_ITEMS = 1000
/**
 * Batches started but not yet behind the low-water mark (in flight, or done after one still in
 * flight): the most items a resume can write twice beyond the last checkpoint's position.
 */
export const MAX_BATCHES_AHEAD = 40

/** Our data file's lines as entries: scanned when compact (the usual case), parsed otherwise. */
async function* dataFileEntries(path: string, skip: number, keys: KeyAttribute[]): AsyncGenerator<Entry[]> {
  for await (const lines of readDataLines(path, { skipLines: skip })) {
    yield lines.map(({ line, text }) => {
      const scanned = scanItemLine(text, keys)
      if (scanned !== null) return { line, text: scanned.text, key: scanned.key }
      const parsed = parseLine(path, line, text)
      return { line, text: parsed.text, key: keyText(parsed.item, keys) }
    })
  }
}

async function loadSource(opts: RestoreOptions): Promise<Source> {
  if ((opts.manifestPath === undefined) === (opts.legacyFile === undefined)) {
    throw new OperationError(
      'restoreTable needs exactly one of manifestPath or legacyFile',
      'nothing was written'
    )
  }
  if (opts.manifestPath !== undefined) {
    const manifestPath = resolve(opts.manifestPath)
    const m = await readManifest(manifestPath)
    const dir = dirname(manifestPath)
    return {
      display: manifestPath,
      kind: 'manifest',
      files: m.dataFiles.map(f => ({ path: join(dir, f.path), display: f.path, items: f.items })),
      id: `${m.contentDigest.value}:${m.dataFiles.map(f => f.sha256).join(',')}`,
      itemCount: m.itemCount,
      digest: m.contentDigest.value,
      checkpointPath: opts.checkpointPath ?? join(dir, 'restore-checkpoint.json'),
      read: (file, skip) => readDataFile(file.path, { skipLines: skip }),
      entries: (file, skip, keys) => dataFileEntries(file.path, skip, keys),
      manifestFiles: m.dataFiles,
      backupKeys: m.table.keySchema,
      keyHashSalt: m.keyHashSalt ?? runKeyHashSalt(),
      ttlAttribute: m.ttl?.attribute ?? null
    }
  }
  const legacy = resolve(opts.legacyFile as string)
  return {
    display: legacy,
    kind: 'legacy',
    files: [{ path: legacy, display: legacy, items: -1 }],
    id: '',
    itemCount: -1,
    digest: '',
    checkpointPath: opts.checkpointPath ?? `${legacy}.restore-checkpoint.json`,
    read: (file, skip) => readLegacyFile(file.path, { skipItems: skip }),
    entries: async function* (file, skip, keys) {
      for await (const chunk of readLegacyFile(file.path, { skipItems: skip }))
        yield chunk.map(({ line, item, text }) => ({ line, text, key: keyText(item, keys) }))
    },
    keyHashSalt: runKeyHashSalt(),
    ttlAttribute: null
  }
}

/**
 * Reads every file once: checksums, gzip, JSON, DynamoDB JSON shape, key attributes, counts.
 * Any defect throws naming the file (and line) before a single write. With a TTL window, also the
 * files' content digest (which must be the manifest's: the verification subtracts the set-apart
 * part from the manifest's whole) and the items the window sets apart (`source.ttl`).
 */
async function precheck(
  source: Source,
  keys: KeyAttribute[],
  table: string,
  window: TtlWindow | null
): Promise<void> {
  const manifestFiles = source.manifestFiles
  const backupKeys = source.backupKeys ?? null
  if (manifestFiles !== undefined) {
    for (const [i, f] of source.files.entries()) {
      const { sha256 } = await sha256File(f.path)
      const expected = manifestFiles[i]?.sha256
      if (sha256 !== expected)
        throw new FileError(
          f.path,
          `sha256 is ${sha256} but the manifest says ${expected}: the file changed or is damaged since the export`
        )
    }
  }
  const digest = source.kind === 'legacy' || window !== null ? new ContentDigest() : null
  const expiring = window !== null ? new ExpiringItems(window) : null
  let total = 0
  for (const f of source.files) {
    let count = 0
    for await (const chunk of source.read(f, 0)) {
      for (const { line, item } of chunk) {
        try {
          checkWireItem(item)
        } catch (err) {
          if (err instanceof WireFormatError) throw new FileError(f.path, `line ${line}: ${err.message}`)
          throw err
        }
        const problem = keyProblem(item, keys)
        if (problem !== null) {
          const backup = backupKeys !== null ? `; the backup's key schema is ${schemaText(backupKeys)}` : ''
          const hash = keyHash(item, backupKeys ?? keys, source.keyHashSalt)
          throw new ItemDoesNotFitError(
            f.path,
            `line ${line}: the item (key hash ${hash}) cannot go into ${table}: ${problem} (target key schema: ${schemaText(keys)}${backup})`
          )
        }
        digest?.add(item)
        expiring?.addItem(item)
        count++
      }
    }
    if (f.items >= 0 && count !== f.items)
      throw new FileError(f.path, `holds ${count} items but the manifest says ${f.items}`)
    f.items = count
    total += count
  }
  if (source.itemCount >= 0 && total !== source.itemCount)
    throw new FileError(
      source.display,
      `the data files hold ${total} items but the manifest says ${source.itemCount}`
    )
  if (digest !== null && source.kind === 'legacy') {
    source.itemCount = total
    source.digest = digest.hex()
    source.id = `legacy:${(await sha256File(source.files[0]?.path as string)).sha256}`
  } else if (digest !== null && digest.hex() !== source.digest) {
    throw new FileError(
      source.display,
      `the data files' content digest is ${digest.hex()} but the manifest says ${source.digest}: the files are not the backup the manifest describes`
    )
  }
  if (window !== null && expiring !== null && digest !== null)
    source.ttl = { ...window, ...expiring.split(digest) }
}

async function describeTarget(
  ddb: Sender<DynamoDBClient>,
  table: string,
  retry: { sleep: Sleep; random: () => number }
): Promise<TableDescription> {
  try {
    const out = await withRetries(() => ddb.send(new DescribeTableCommand({ TableName: table })), retry)
    return out.Table as TableDescription
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') {
      throw new OperationError(
        `Restore target table ${table} does not exist: create it (deploy the stack) first`,
        'nothing was written',
        { cause: err }
      )
    }
    throw new OperationError(
      `Restore into ${table}: DescribeTable failed: ${errorMessage(err)}`,
      'nothing was written',
      { cause: err }
    )
  }
}

/** One item on its way: its text only (parsed items are not kept, so they die young). */
interface Entry {
  line: number
  /** DynamoDB JSON of the item, sent as is. */
  text: string
  key: string
}

interface Batch {
  fileIndex: number
  file: SourceFile
  /** Offset (items into the file) after the batch's last item. */
  endOffset: number
  entries: Entry[]
  done: boolean
}

/**
 * A BatchWriteItem of PutRequests whose items travel exactly as the backup holds them.
 *
 * The items are DynamoDB JSON already; decoding them into SDK values only for the SDK to encode
 * them back would cost more CPU than the rest of the restore and could only lose precision, never
 * add any. So the request body is the items' text, put in place by the client-level middleware
 * of wire-middleware.ts (build step, after the SDK's serializer and before signing). Retries,
 * signing, endpoints and response parsing stay the SDK's. (The command's own input therefore
 * lists no items: a client whose middleware does not run, like aws-sdk-client-mock, sees an
 * empty request; test restores against an emulator.)
 */
export function batchWriteCommand(table: string, entries: { text: string }[]): BatchWriteItemCommand {
  let body = `{"RequestItems":{${JSON.stringify(table)}:[`
  for (let i = 0; i < entries.length; i++)
    body += `${i > 0 ? ',' : ''}{"PutRequest":{"Item":${(entries[i] as { text: string }).text}}}`
  body += ']}}'
  return new BatchWriteItemCommand({
    RequestItems: { [table]: [] },
    [BODY_TEXT]: body
  } as BatchWriteItemCommandInput)
}

/**
 * The window of batches in flight.
 * - Throttling (UnprocessedItems, throughput exceptions, SDK-level retries, 5xx): halve it
 *   (multiplicative decrease), at most once per burst.
 * - Clean round trips: grow it (slow start: +1 per batch up to the last halving point, then about
 *   +1 per window), but only while more requests in flight still buy throughput. Like TCP Vegas,
 *   the smoothed round-trip time is compared with the best one seen: a saturated server answers
 *   later the more requests queue at it, so `window × (1 − best / smoothed)` estimates the
 *   batches waiting there. Above QUEUE_HIGH the window shrinks by about one per window, below
 *   QUEUE_LOW it may grow; against DynamoDB (latency flat under load) this never binds and the
 *   window reaches its maximum, against a saturated endpoint it stops piling up requests.
 */
export class AimdWindow {
  static readonly QUEUE_LOW = 2
  static readonly QUEUE_HIGH = 4
  private cwnd: number
  private ssthresh: number
  private cutSeq = -1
  private bestRtt = Infinity
  private smoothedRtt = 0
  peak: number

  constructor(
    initial: number,
    readonly max: number
  ) {
    this.cwnd = Math.max(1, Math.min(initial, max))
    this.ssthresh = max
    this.peak = this.cwnd
  }

  get size(): number {
    return Math.max(1, Math.floor(this.cwnd))
  }

  /** Batches estimated to wait at the server (0 until round-trip times are known). */
  get queued(): number {
    if (this.smoothedRtt <= 0 || !Number.isFinite(this.bestRtt)) return 0
    return this.cwnd * (1 - this.bestRtt / this.smoothedRtt)
  }

  /** A batch went through on the first try, in `rttMs` (when measured). */
  clean(rttMs?: number): void {
    if (rttMs !== undefined && rttMs > 0) {
      // The best time of the whole restore (one restore is short enough for the network to stay put).
      this.bestRtt = Math.min(rttMs, this.bestRtt)
      this.smoothedRtt = this.smoothedRtt === 0 ? rttMs : this.smoothedRtt * 0.9 + rttMs * 0.1
    }
    const queued = this.queued
    if (queued > AimdWindow.QUEUE_HIGH) this.cwnd = Math.max(1, this.cwnd - 1 / this.cwnd)
    else if (queued < AimdWindow.QUEUE_LOW)
      this.cwnd = Math.min(this.max, this.cwnd < this.ssthresh ? this.cwnd + 1 : this.cwnd + 1 / this.cwnd)
    this.peak = Math.max(this.peak, this.size)
  }

  /**
   * Throttling seen by the request numbered `seq`. Only requests sent after the last cut may cut
   * again: one burst of throttling halves the window once, not once per batch in flight.
   */
  congestion(seq: number, nextSeq: number): void {
    if (seq < this.cutSeq) return
    this.ssthresh = Math.max(1, this.cwnd / 2)
    this.cwnd = this.ssthresh
    this.cutSeq = nextSeq
  }
}

/** An AWS message about a batch, with the values of every item of the batch taken out. */
function withoutBatchValues(message: string, entries: Entry[], keys: KeyAttribute[]): string {
  return entries.reduce((text, e) => withoutItemValues(text, JSON.parse(e.text) as WireItem, keys), message)
}

export async function restoreTable(
  ddb: Sender<DynamoDBClient>,
  opts: RestoreOptions
): Promise<RestoreReport> {
  const { now: clock, sleep } = opts.clock ?? systemClock
  const random = opts.random ?? Math.random
  const started = clock()
  const retry = { sleep, random }
  const table = opts.table

  const source = await loadSource(opts)
  const target = await describeTarget(ddb, table, retry)
  if (target.TableStatus !== 'ACTIVE') {
    throw new OperationError(
      `Restore target table ${table} is ${target.TableStatus}, not ACTIVE: wait for it and run again`,
      'nothing was written'
    )
  }
  const keys = keyAttributes(target)
  // The restore's own TTL window, from now: the backup may be days old, and the items that expire
  // meanwhile are written all the same (DynamoDB deletes them again; the verification says so).
  const targetTtl = await withRetries(() => describeTtlStatus(ddb, table), retry)
  const attribute = restoreTtlAttribute(targetTtl, source.ttlAttribute)
  const expiryWindow = attribute !== null ? ttlWindow(attribute, started) : null
  const instance: TargetInstance = {
    arn: target.TableArn ?? '',
    createdAt: target.CreationDateTime instanceof Date ? target.CreationDateTime.toISOString() : ''
  }
  opts.logger.info(`Checking ${source.display} before writing anything into ${table}`)
  await precheck(source, keys, table, expiryWindow)

  // The full check (it follows LastEvaluatedKey): an empty target voids any checkpoint that says
  // items were written, since they are not there (the table was emptied or is another instance).
  const holdsData = await withRetries(() => tableHoldsData(ddb, table), retry)
  const saved = await readCheckpoint(source.checkpointPath)
  const ours =
    saved !== null &&
    saved.table === table &&
    saved.sourceId === source.id &&
    sameInstance(saved.target, instance)
  const checkpoint: Checkpoint | null = ours && (holdsData || saved.itemsDone === 0) ? saved : null
  const mark = opts.restartMark
  const marked =
    mark !== undefined &&
    instance.arn !== '' &&
    (
      await withRetries(() => listAllTags(ddb, instance.arn), retry).catch((): Record<string, string> => ({}))
    )[mark.key] === mark.value
  const restartedWithoutCheckpoint = checkpoint === null && holdsData && opts.merge !== true && marked
  const expected = { itemCount: source.itemCount, contentDigest: source.digest, algorithm: DIGEST_ALGORITHM }
  const stats = { unprocessedItems: 0, throttled: 0, transient: 0, sdkRetries: 0 }
  let finalState: Exclude<CheckpointState, 'writing'> = 'written'
  let verifyNote: string | null = null
  const report = (
    written: number,
    skipped: number,
    batches: number,
    requests: number,
    peak: number
  ): RestoreReport => ({
    table,
    source: source.display,
    itemsTotal: source.itemCount,
    itemsWritten: written,
    itemsSkipped: skipped,
    resumed: checkpoint !== null || restartedWithoutCheckpoint,
    restartedWithoutCheckpoint,
    batches,
    requests,
    retries: stats,
    peakConcurrency: peak,
    durationMs: clock() - started,
    checkpointPath: source.checkpointPath,
    expected,
    target: instance,
    state: finalState,
    alreadyVerified: checkpoint?.state === 'verified',
    verifyNote
  })

  if (checkpoint?.state === 'verified') {
    opts.logger.info(
      `${source.checkpointPath} says this backup was already restored into this instance of ${table} and verified; nothing to do`
    )
    finalState = 'verified'
    return report(0, source.itemCount, 0, 0, 0)
  }
  if (checkpoint === null && holdsData && opts.merge !== true && !restartedWithoutCheckpoint) {
    const other =
      saved !== null && saved.table === table && !sameInstance(saved.target, instance)
        ? ` (the checkpoint ${source.checkpointPath} is of another instance of ${table}, created ${saved.target.createdAt}; this one was created ${instance.createdAt})`
        : ''
    throw new TargetHoldsDataError(
      `Restore target table ${table} already holds items: refusing to mix them with the backup${other}`,
      { ...expected, ...(source.ttl ? { ttl: source.ttl } : {}) }
    )
  }

  if (restartedWithoutCheckpoint && opts.verify === true) {
    // The earlier run may have written and verified everything and stopped before its restore was
    // recorded: a table already equal to the backup is complete and is not written again (that
    // would put back the backup's version of any item changed since). Otherwise: rewritten.
    const equal = await verifyTable(ddb, {
      table,
      expected,
      logger: opts.logger,
      clock: opts.clock,
      random,
      signal: opts.signal,
      ...(source.ttl ? { ttl: source.ttl } : {})
    }).then(
      verified => verified,
      (err: unknown) => {
        if (err instanceof OperationError && !(err instanceof Interrupted)) return null
        throw err
      }
    )
    if (equal !== null) {
      opts.logger.info(
        `${table} carries ${mark?.key}=${mark?.value} and already holds exactly the backup: an earlier run restored and verified it; nothing is written`
      )
      verifyNote = equal.ttlNote
      finalState = 'verified'
      return { ...report(0, source.itemCount, 0, 0, 0), alreadyVerified: true }
    }
  }

  let position = { fileIndex: checkpoint?.fileIndex ?? 0, offset: checkpoint?.offset ?? 0 }
  const skipped = checkpoint?.itemsDone ?? 0
  let itemsDone = skipped
  if (checkpoint?.state === 'written')
    opts.logger.info(
      `Every item of ${source.display} was written into ${table} by an earlier run; only the verification is left`
    )
  else if (checkpoint !== null)
    opts.logger.info(
      `Resuming the restore into ${table}: ${skipped} of ${source.itemCount} items were written by an earlier run`
    )
  else if (restartedWithoutCheckpoint)
    opts.logger.info(
      `Resuming the restore into ${table} without a checkpoint (none on this runner): the table carries ${mark?.key}=${mark?.value}, so an earlier run of this restore wrote into this very table; all ${source.itemCount} items are written again (a put overwrites the same item) and the verification decides`
    )
  else opts.logger.info(`Restoring ${source.itemCount} items into ${table}`)
  // The mark goes on before the first write, so that a run that dies mid-way can be resumed anywhere.
  if (mark !== undefined && !marked && checkpoint?.state !== 'written' && instance.arn !== '') {
    try {
      await withRetries(() => tagTable(ddb, instance.arn, { [mark.key]: mark.value }), retry)
    } catch (err) {
      opts.logger.warning(
        `Could not tag ${table} with ${mark.key}=${mark.value} (${errorMessage(err)}): if this restore is cut short, only a run on this runner (its checkpoint) can resume it; grant dynamodb:TagResource`
      )
    }
  }

  // Checkpoint writes are serialised (one tmp file), at least every checkpointEveryItems items and
  // every checkpointIntervalMs (by the injected clock).
  let lastCheckpointAt = clock()
  let lastCheckpointItems = itemsDone
  let checkpointChain: Promise<void> = Promise.resolve()
  const saveCheckpoint = (state: CheckpointState): Promise<void> => {
    const snapshot: Checkpoint = {
      format: CHECKPOINT_FORMAT,
      table,
      target: instance,
      sourceId: source.id,
      fileIndex: position.fileIndex,
      offset: position.offset,
      itemsDone,
      state,
      updatedAt: new Date(clock()).toISOString()
    }
    lastCheckpointAt = clock()
    lastCheckpointItems = itemsDone
    checkpointChain = checkpointChain.then(() => writeCheckpoint(source.checkpointPath, snapshot))
    return checkpointChain
  }
  const everyItems = opts.checkpointEveryItems ?? CHECKPOINT_EVERY_ITEMS
  const everyMs = opts.checkpointIntervalMs ?? 1000

  const window = new AimdWindow(opts.initialConcurrency ?? 4, opts.concurrency ?? 16)
  const maxAttempts = opts.maxAttempts ?? 12
  const progress = new Progress({
    label: `Restore ${table}`,
    task: 'restore',
    table,
    logger: opts.logger,
    now: clock,
    total: source.itemCount,
    initial: skipped,
    intervalMs: opts.progressIntervalMs
  })
  const launched: Batch[] = []
  let seq = 0
  let batches = 0
  let requests = 0
  let written = 0

  const complete = async (b: Batch): Promise<void> => {
    b.done = true
    written += b.entries.length
    progress.add(b.entries.length)
    while (launched[0]?.done === true) {
      const head = launched.shift() as Batch
      position = { fileIndex: head.fileIndex, offset: head.endOffset }
      itemsDone += head.entries.length
    }
    if (itemsDone - lastCheckpointItems >= everyItems || clock() - lastCheckpointAt >= everyMs)
      await saveCheckpoint('writing')
  }

  const send = async (entries: Entry[]): Promise<{ unprocessed: WriteRequest[]; attempts: number }> => {
    requests++
    const out = await ddb.send(withDataMiddleware(ddb, batchWriteCommand(table, entries)))
    return { unprocessed: out.UnprocessedItems?.[table] ?? [], attempts: out.$metadata.attempts ?? 1 }
  }

  /** A batch was refused as invalid: find the item (one request per item) and name it. */
  const isolate = async (b: Batch, entries: Entry[], err: unknown): Promise<never> => {
    for (const e of entries) {
      try {
        await withRetries(() => send([e]), retry)
      } catch (itemErr) {
        if (classifyError(itemErr) !== 'fatal') continue
        const item = JSON.parse(e.text) as WireItem
        const named = itemRef(
          b.file.display,
          e.line,
          keyHash(item, source.backupKeys ?? keys, source.keyHashSalt)
        )
        throw new OperationError(
          `Restore into ${table} stopped: ${named} was refused: ${withoutBatchValues(withoutItemValues(errorMessage(itemErr), item, keys), entries, keys)}`,
          `${itemsDone} items are confirmed written (checkpoint ${source.checkpointPath}); fix or remove that item and run the restore again to resume`,
          { cause: itemErr }
        )
      }
    }
    throw new OperationError(
      `Restore into ${table} stopped: a batch from ${b.file.display} was refused (${withoutBatchValues(errorMessage(err), entries, keys)}) but no single item of it is`,
      `checkpoint ${source.checkpointPath}; run again to resume`,
      { cause: err }
    )
  }

  const runBatch = async (b: Batch): Promise<void> => {
    let pending = b.entries
    let stalled = 0
    for (;;) {
      const mySeq = seq++
      try {
        const sentAt = clock()
        const { unprocessed, attempts } = await send(pending)
        const rtt = clock() - sentAt
        if (attempts > 1) {
          stats.sdkRetries += attempts - 1
          window.congestion(mySeq, seq)
        }
        if (unprocessed.length === 0) {
          if (attempts === 1) window.clean(rtt)
          break
        }
        stats.unprocessedItems += unprocessed.length
        window.congestion(mySeq, seq)
        // Map what came back to our entries (to keep file/line for messages); anything that does
        // not match (e.g. the service spelled a number differently) is re-sent as returned.
        const byKey = new Map(pending.map(e => [e.key, e]))
        const next = unprocessed.map((w): Entry => {
          const item = sdkItemToWire(w.PutRequest?.Item ?? {})
          const key = keyText(item, keys)
          return byKey.get(key) ?? { line: -1, text: JSON.stringify(item), key }
        })
        stalled = next.length < pending.length ? 0 : stalled + 1
        pending = next
      } catch (err) {
        const kind = classifyError(err)
        if (kind === 'fatal') {
          if ((err as { name?: string }).name === 'ValidationException') await isolate(b, pending, err)
          throw new OperationError(
            `Restore into ${table} stopped: BatchWriteItem failed: ${withoutBatchValues(errorMessage(err), pending, keys)}`,
            `${itemsDone} items are confirmed written (checkpoint ${source.checkpointPath}); run the restore again to resume`,
            { cause: err }
          )
        }
        if (kind === 'throttle') stats.throttled++
        else stats.transient++
        window.congestion(mySeq, seq)
        stalled++
      }
      if (stalled >= maxAttempts) {
        throw new OperationError(
          `Restore into ${table} stopped: ${pending.length} items of a batch from ${b.file.display} made no progress in ${stalled} attempts`,
          `${itemsDone} items are confirmed written (checkpoint ${source.checkpointPath}); run the restore again to resume`
        )
      }
      // The exponent grows with rounds that made no progress at all; a round that got part of
      // the batch through only waits a base delay, so a rate-limited table stays busy.
      await sleep(backoffDelay(stalled + 1, random))
    }
    await complete(b)
  }

  const inFlight = new Set<Promise<void>>()
  let failure: unknown = null
  let interrupted = false
  /** Whether to stop sending: a batch failed, or the run was asked to stop. */
  const stopping = (): boolean => {
    if (opts.signal?.aborted === true) interrupted = true
    return failure !== null || interrupted
  }
  const launch = (b: Batch): void => {
    launched.push(b)
    batches++
    const p: Promise<void> = runBatch(b).then(
      () => {
        inFlight.delete(p)
      },
      (err: unknown) => {
        inFlight.delete(p)
        failure ??= err
      }
    )
    inFlight.add(p)
  }

  try {
    outer: for (let fi = position.fileIndex; fi < source.files.length; fi++) {
      if (checkpoint?.state === 'written') break
      const file = source.files[fi] as SourceFile
      let offset = fi === position.fileIndex ? position.offset : 0
      let batch: Batch | null = null
      let keysInBatch = new Set<string>()
      const flush = async (): Promise<void> => {
        if (batch === null) return
        // The window bounds the requests in flight; MAX_BATCHES_AHEAD bounds how far the batches
        // started may run ahead of the low-water mark (one slow batch holds the mark back).
        while ((inFlight.size >= window.size || launched.length >= MAX_BATCHES_AHEAD) && failure === null)
          await Promise.race(inFlight)
        if (stopping()) return
        launch(batch)
        batch = null
        keysInBatch = new Set()
      }
      for await (const chunk of source.entries(file, offset, keys)) {
        for (const entry of chunk) {
          const key = entry.key
          // Two puts of one key in one request are refused by DynamoDB: start a new batch.
          if (batch !== null && keysInBatch.has(key)) await flush()
          if (stopping()) break outer
          batch ??= { fileIndex: fi, file, endOffset: offset, entries: [], done: false }
          batch.entries.push(entry)
          keysInBatch.add(key)
          offset++
          batch.endOffset = offset
          if (batch.entries.length === BATCH_SIZE) await flush()
          if (stopping()) break outer
        }
      }
      await flush()
      if (stopping()) break
      // A file with nothing left to send still moves the mark past it.
      if (launched.length === 0) position = { fileIndex: fi + 1, offset: 0 }
    }
    await Promise.all(inFlight)
    if (failure === null && !interrupted && launched.length === 0)
      position = { fileIndex: source.files.length, offset: 0 }
  } catch (err) {
    failure ??= err
    await Promise.allSettled(inFlight)
  }
  if (failure !== null || interrupted) {
    await saveCheckpoint('writing')
    progress.finish('stopped')
    if (failure !== null) throw failure instanceof Error ? failure : new Error(errorMessage(failure))
    throw new Interrupted(
      `Restore into ${table} interrupted`,
      `${itemsDone} of ${source.itemCount} items are confirmed written (checkpoint ${source.checkpointPath}); run phase restore again to resume from there`
    )
  }
  if (checkpoint?.state !== 'written') {
    position = { fileIndex: source.files.length, offset: 0 }
    await saveCheckpoint('written')
    progress.finish()
  }
  if (opts.verify === true) {
    // Throws on any difference; the checkpoint stays `written`, so running again verifies again.
    const verified = await verifyTable(ddb, {
      table,
      expected,
      logger: opts.logger,
      clock: opts.clock,
      random,
      signal: opts.signal,
      ...(source.ttl ? { ttl: source.ttl } : {}),
      pastCutoff:
        'nothing was changed by the verification; run the restore again: it verifies again, with a new cutoff from its own start'
    })
    verifyNote = verified.ttlNote
      ? `${verified.ttl?.alive.itemCount ?? 0} items alive past the TTL cutoff, content digest equal to the backup's; ${verified.ttlNote}`
      : null
    await saveCheckpoint('verified')
    finalState = 'verified'
  }
  return report(written, skipped, batches, requests, window.peak)
}

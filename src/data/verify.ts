/**
 * Verify: scan a table (parallel, consistent reads) and compare its item count and content
 * digest with what the backup holds. Any difference throws, naming it. With TTL on, the items
 * whose TTL may pass during the copy are set apart on both sides (data/ttl.ts) and the rest is
 * compared item for item.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { OperationError, stopIfInterrupted } from '../errors.js'
import { systemClock, type Clock, type Logger } from '../types.js'
import { ContentDigest, DIGEST_ALGORITHM } from './digest.js'
import { scanSegmentPage } from './raw-scan.js'
import { DEFAULT_SEGMENTS } from './export.js'
import { Progress } from './progress.js'
import { withRetries } from './retry.js'
import { ExpiringItems, windowHolds, type TtlSplit, type TtlWindow } from './ttl.js'
import { describeTtlStatus } from '../aws/dynamodb-read.js'
import type { Sender } from '../aws/clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

export interface TableContent {
  itemCount: number
  contentDigest: string
  algorithm: string
  /** With a TTL window: the items split by it. */
  ttl?: TtlSplit
}

export interface DigestOptions {
  table: string
  segments?: number
  clock?: Clock
  random?: () => number
  /** Progress of the scan (a verification scan can take as long as the copy it checks). */
  progress?: { logger: Logger; label: string; total: number | null; intervalMs?: number }
  /** Stops the scan at the next page (Interrupted); a scan changes nothing, so it can run again. */
  signal?: AbortSignal
  /** The TTL window that sets expiring items apart (data/ttl.ts); none when TTL is off. */
  ttl?: TtlWindow
}

/** Count and content digest of a table, by parallel consistent Scan (memory flat). */
export async function digestTable(ddb: Sender<DynamoDBClient>, opts: DigestOptions): Promise<TableContent> {
  const window = opts.ttl
  const segments = opts.segments ?? DEFAULT_SEGMENTS
  const clock = opts.clock ?? systemClock
  const retry = { sleep: clock.sleep, random: opts.random ?? Math.random }
  const progress =
    opts.progress &&
    new Progress({
      label: opts.progress.label,
      task: 'verify',
      table: opts.table,
      logger: opts.progress.logger,
      now: clock.now,
      total: opts.progress.total,
      intervalMs: opts.progress.intervalMs
    })
  const scans = Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const d = new ContentDigest()
      const expiring = window ? new ExpiringItems(window) : null
      let startKey: Record<string, AttributeValue> | undefined
      do {
        stopIfInterrupted(
          opts.signal,
          `The scan of ${opts.table} was interrupted`,
          'a scan changes nothing: run again to scan the table again'
        )
        const page = await withRetries(
          () =>
            scanSegmentPage(ddb, { table: opts.table, segment, segments, startKey }, page => {
              const pageDigest = new ContentDigest()
              const pageExpiring = window ? new ExpiringItems(window) : null
              for (let i = 0; i < page.length; i++) {
                pageDigest.addPageItem(page, i)
                pageExpiring?.addPageItem(page, i)
              }
              return { digest: pageDigest, expiring: pageExpiring }
            }),
          retry
        )
        d.merge(page.result.digest)
        if (expiring && page.result.expiring) expiring.merge(page.result.expiring)
        progress?.add(page.result.digest.count)
        startKey = page.lastEvaluatedKey
      } while (startKey !== undefined)
      return { digest: d, expiring }
    })
  )
  const digests = await scans.catch((err: unknown) => {
    progress?.finish('stopped')
    throw err
  })
  progress?.finish()
  const total = new ContentDigest()
  const expiring = window ? new ExpiringItems(window) : null
  for (const d of digests) {
    total.merge(d.digest)
    if (expiring && d.expiring) expiring.merge(d.expiring)
  }
  return {
    itemCount: total.count,
    contentDigest: total.hex(),
    algorithm: DIGEST_ALGORITHM,
    ...(expiring ? { ttl: expiring.split(total) } : {})
  }
}

/** One side of a copy: all its items, and with TTL on, how they split by the window. */
export interface CopySide {
  itemCount: number
  contentDigest: string
  ttl?: TtlSplit
}

/** The parts of a copy's two sides that are compared: everything, or with TTL on, what is alive past the cutoff. */
export function comparedParts(
  expected: CopySide,
  found: CopySide
): {
  want: { itemCount: number; contentDigest: string }
  got: { itemCount: number; contentDigest: string }
  alive: boolean
} {
  return expected.ttl && found.ttl
    ? { want: expected.ttl.alive, got: found.ttl.alive, alive: true }
    : { want: expected, got: found, alive: false }
}

/**
 * What differs between the two sides of a copy (`expected`: the source, e.g. the export; `found`:
 * the copy's target or the source scanned again). With a TTL split on both, only the items alive
 * on both sides are compared. Empty when they match.
 */
export function copyDifferences(
  expected: CopySide,
  found: CopySide,
  names: { expected: string; found: string }
): string[] {
  const differences: string[] = []
  const { want, got, alive } = comparedParts(expected, found)
  const what = alive ? ' of the items alive past the TTL cutoff' : ''
  if (got.itemCount !== want.itemCount)
    differences.push(
      `item count${what}: ${names.expected} ${want.itemCount}, ${names.found} ${got.itemCount}`
    )
  if (got.contentDigest !== want.contentDigest)
    differences.push(
      `content digest${what}: ${names.expected} ${want.contentDigest}, ${names.found} ${got.contentDigest}`
    )
  return differences
}

/**
 * "TTL on expiresAt: 3 items whose TTL had passed were carried over, 1 expired during the copy (gone
 * from the table)": what happened to the set-apart items; null without TTL.
 */
export function ttlNote(window: TtlWindow | undefined, expected: CopySide, found: CopySide): string | null {
  if (!window || !expected.ttl || !found.ttl) return null
  const dropped = Math.max(0, expected.ttl.expiring - found.ttl.expiring)
  return `TTL on ${window.attribute}: ${expected.ttl.expired} item(s) whose TTL had passed were carried over, ${dropped} expired during the copy (gone by the time it was verified); ${expected.ttl.expiring} item(s) with a TTL before ${new Date(window.cutoff * 1000).toISOString()} were compared by presence only`
}

/** A verification that ended after its TTL cutoff on a table whose TTL may delete items. */
export class PastTtlCutoffError extends OperationError {
  constructor(message: string, state: string) {
    super(message, state)
    this.name = 'PastTtlCutoffError'
  }
}

/** Throws when the window no longer holds: items compared as alive may have expired since. */
export function assertWindowHolds(
  window: TtlWindow | undefined,
  nowMs: number,
  what: string,
  state = 'nothing was changed by the verification; run it again (a new copy gets a new cutoff)'
): void {
  if (!window || windowHolds(window, nowMs)) return
  throw new PastTtlCutoffError(
    `${what} ran past its TTL cutoff (${new Date(window.cutoff * 1000).toISOString()}): items compared as alive may have expired since, so it cannot tell a lost item from an expired one`,
    state
  )
}

/** The table's TTL status, or null when it cannot be read (unknown: the unsafe case). */
async function ttlStatusOrNull(ddb: Sender<DynamoDBClient>, table: string): Promise<string | null> {
  try {
    return (await describeTtlStatus(ddb, table))?.status ?? null
  } catch {
    return null
  }
}

export async function verifyTable(
  ddb: Sender<DynamoDBClient>,
  opts: {
    table: string
    expected: { itemCount: number; contentDigest: string }
    logger: Logger
    segments?: number
    clock?: Clock
    random?: () => number
    /** A TTL window and the backup's split by it: the table is split by the same window. */
    ttl?: TtlWindow & TtlSplit
    /** The error's state when the verification ends after the window's cutoff (see assertWindowHolds). */
    pastCutoff?: string
    progressIntervalMs?: number
    signal?: AbortSignal
  }
): Promise<TableContent & { ttlNote: string | null }> {
  const window = opts.ttl
    ? { attribute: opts.ttl.attribute, startedAt: opts.ttl.startedAt, cutoff: opts.ttl.cutoff }
    : undefined
  // Read before and after the scan: a table whose TTL is off throughout had no item deleted by it.
  const ttlBefore = window ? await ttlStatusOrNull(ddb, opts.table) : null
  const found = await digestTable(ddb, {
    ...opts,
    ttl: window,
    progress: {
      logger: opts.logger,
      label: `Verify ${opts.table}`,
      total: opts.expected.itemCount,
      intervalMs: opts.progressIntervalMs
    }
  })
  const now = (opts.clock ?? systemClock).now()
  if (window && !windowHolds(window, now)) {
    // Past the cutoff, an item compared as alive may have expired, unless the table's TTL was off
    // before and after the scan (DISABLED, not DISABLING): then DynamoDB deleted nothing from it (a
    // table created by ImportTable has no TTL until the deploy sets it). Turning TTL on and off
    // again unseen between the two reads takes two UpdateTimeToLive calls, which DynamoDB accepts
    // only an hour apart (API_UpdateTimeToLive: further calls "during this one hour duration
    // result in a ValidationException").
    const off = ttlBefore === 'DISABLED' && (await ttlStatusOrNull(ddb, opts.table)) === 'DISABLED'
    if (off)
      opts.logger.info(
        `${opts.table} has TTL off: no item can have expired from it, so its verification holds past the TTL cutoff`
      )
    else assertWindowHolds(window, now, `Verification of ${opts.table}`, opts.pastCutoff)
  }
  const expected: CopySide = { ...opts.expected, ...(opts.ttl ? { ttl: opts.ttl } : {}) }
  const differences = copyDifferences(expected, found, { expected: 'backup', found: 'table' })
  if (differences.length > 0) {
    throw new OperationError(
      `Verification of ${opts.table} failed: ${differences.join('; ')}`,
      `the table holds ${found.itemCount} items that differ from the backup; the backup files are untouched: restore again into an empty table`
    )
  }
  const note = ttlNote(window, expected, found)
  opts.logger.info(
    found.ttl
      ? `Verified ${opts.table}: the ${found.ttl.alive.itemCount} items alive past the TTL cutoff equal the backup's (${note ?? ''})`
      : `Verified ${opts.table}: ${found.itemCount} items, content digest ${found.contentDigest.slice(0, 16)}… equals the backup's`
  )
  return { ...found, ttlNote: note }
}

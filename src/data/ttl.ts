/**
 * Items whose TTL may pass during a copy. DynamoDB deletes an item some time after its TTL
 * attribute (epoch seconds) has passed, at any moment, so an item present in the export may be
 * gone when the table (or the restored table) is scanned to verify it. Verification therefore sets
 * apart, on both sides, the items whose TTL is at or before a cutoff chosen when the copy starts,
 * and compares the rest item for item (count and content digest): an item with a later TTL cannot
 * have been removed by TTL before the cutoff. The digest is a sum, so the rest is the whole digest
 * without the set-apart part, and nothing needs to be held in memory.
 *
 * A restore can run long after its backup (a deploy that failed on Friday, restored on Monday), so
 * it does not reuse the backup's window: it opens a window of its own when it starts (resumed or
 * not), by the attribute that can delete items from the table it writes (restoreTtlAttribute), and
 * sets apart the backup's part for that window from the backup's data files, which it reads anyway.
 */
import type { TtlStatus } from '../aws/dynamodb-read.js'
import { ContentDigest } from './digest.js'
import type { WireItem } from './dynamodb-json.js'
import { topLevelMember, type PageItems } from './json-scan.js'

/**
 * How long after the copy starts the cutoff lies: GitHub ends a job after 6 hours, so a copy and
 * its verification in one job finish before it. A check that ends later fails rather than guess.
 */
export const TTL_WINDOW_SECONDS = 6 * 60 * 60

/** The table's TTL attribute and the cutoff the copy's verification uses. */
export interface TtlWindow {
  attribute: string
  /** Epoch seconds when the copy started: items with a TTL before it had expired already. */
  startedAt: number
  /** Epoch seconds: items with a TTL at or before it may expire during the copy and are set apart. */
  cutoff: number
}

export function ttlWindow(attribute: string, nowMs: number): TtlWindow {
  const startedAt = Math.floor(nowMs / 1000)
  return { attribute, startedAt, cutoff: startedAt + TTL_WINDOW_SECONDS }
}

/** What a side of the copy held, split by the window: compared item for item, and set apart. */
export interface TtlSplit {
  /** Items whose TTL lies after the cutoff (or that have none): compared by count and digest. */
  alive: { itemCount: number; contentDigest: string }
  /** Items set apart (TTL at or before the cutoff). */
  expiring: number
  /** Of those, the ones whose TTL had passed when the copy started. */
  expired: number
}

/** The TTL of item i of a page in epoch seconds, or null when it has none DynamoDB would act on. */
function ttlOf(page: PageItems, i: number, name: Buffer): number | null {
  const at = topLevelMember(page.bytes, page.start(i), page.end(i), name)
  if (at === null) return null
  let value: unknown
  try {
    value = JSON.parse(page.bytes.toString('utf8', at[0], at[1]))
  } catch {
    return null
  }
  // TTL acts only on a Number attribute.
  const n = (value as { N?: unknown }).N
  if (typeof n !== 'string') return null
  const seconds = Number(n)
  return Number.isFinite(seconds) ? seconds : null
}

/** The items of one side of a copy that the window sets apart, gathered page by page. */
export class ExpiringItems {
  readonly digest = new ContentDigest()
  expired = 0
  private readonly name: Buffer

  constructor(readonly window: TtlWindow) {
    this.name = Buffer.from(JSON.stringify(window.attribute))
  }

  /** Sets item i of the page apart when its TTL is at or before the cutoff. */
  addPageItem(page: PageItems, i: number): void {
    const ttl = ttlOf(page, i, this.name)
    if (ttl === null || ttl > this.window.cutoff) return
    this.digest.addPageItem(page, i)
    if (ttl < this.window.startedAt) this.expired++
  }

  /** Sets the item apart when its TTL is at or before the cutoff (an item parsed from a data file). */
  addItem(item: WireItem): void {
    const n = (item[this.window.attribute] as { N?: unknown } | undefined)?.N
    // TTL acts only on a Number attribute.
    const ttl = typeof n === 'string' && Number.isFinite(Number(n)) ? Number(n) : null
    if (ttl === null || ttl > this.window.cutoff) return
    this.digest.add(item)
    if (ttl < this.window.startedAt) this.expired++
  }

  merge(other: ExpiringItems): void {
    this.digest.merge(other.digest)
    this.expired += other.expired
  }

  /** The side's whole digest split into what is compared and what is set apart. */
  split(all: ContentDigest): TtlSplit {
    const alive = all.without(this.digest)
    return {
      alive: { itemCount: alive.count, contentDigest: alive.hex() },
      expiring: this.digest.count,
      expired: this.expired
    }
  }
}

/** Whether the window still holds at `nowMs` (else items compared as alive may have expired). */
export function windowHolds(window: TtlWindow, nowMs: number): boolean {
  return nowMs / 1000 <= window.cutoff
}

/** Whether DynamoDB may delete expired items of a table whose TTL is in this state (while it is being turned off too). */
export function ttlMayDelete(status: string): boolean {
  return status === 'ENABLED' || status === 'ENABLING' || status === 'DISABLING'
}

/**
 * The attribute a restore's window sets items apart by: the target's TTL attribute when its TTL
 * can delete items (that is what removes restored items before the verification scan); else the
 * backup's (its table's TTL: the deploy or a user may turn it on at any time, and setting apart
 * costs only the comparison of the items that expire within the window); else none. `target` is
 * null when the endpoint cannot say.
 */
export function restoreTtlAttribute(target: TtlStatus | null, backup: string | null): string | null {
  if (target !== null && ttlMayDelete(target.status) && target.attributeName !== null)
    return target.attributeName
  return backup
}

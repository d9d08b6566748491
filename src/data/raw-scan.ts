/**
 * Scan pages as DynamoDB sent them.
 *
 * The SDK turns every attribute value of a page into objects (and binary into Uint8Array) that
 * the export would only turn back into DynamoDB JSON; on big tables that round trip costs more
 * CPU than everything else the export does. The deserialize-step middleware of
 * wire-middleware.ts takes the text of each item of the page's "Items" out of the raw response
 * body (attribute values stay exactly as the service spelled them) and hands the SDK the rest of
 * the body (Count, LastEvaluatedKey, ...). Error responses are not touched. Retries, signing and
 * endpoints are the SDK's as usual. With a client whose middleware does not run (e.g.
 * aws-sdk-client-mock) the deserialized Items are converted instead.
 */
import { ScanCommand, type AttributeValue, type ScanCommandInput } from '@aws-sdk/client-dynamodb'
import { sdkItemToWire } from './dynamodb-json.js'
import { PageItems } from './json-scan.js'
import { WIRE_ITEMS, withDataMiddleware, type WireItemsSlot } from './wire-middleware.js'
import type { Sender } from '../aws/clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

export interface WirePage<R> {
  /** What `consume` made of the page's items. */
  result: R
  /** `wire`: the items' bytes as the service sent them; `sdk`: re-encoded from the SDK's decoded items (no middleware ran). */
  via: 'wire' | 'sdk'
  lastEvaluatedKey: Record<string, AttributeValue> | undefined
}

/**
 * One Scan page whose items go to `consume` as their DynamoDB JSON, exactly as the service sent
 * it (UTF-8 bytes of the response body; text on demand). `consume` runs synchronously the moment
 * the body is read, and the items are not valid after it returns: the body's buffer is reused (so
 * nothing of a page is held across awaits, where it would be promoted to V8's old generation and
 * the heap would grow with the table). It may run more than once for one page (a response that
 * failed later and was retried): only its last result counts, so it must have no effect beyond
 * what it returns and state it resets itself.
 */
export async function scanPageWire<R>(
  ddb: Sender<DynamoDBClient>,
  input: ScanCommandInput,
  consume: (items: PageItems) => R
): Promise<WirePage<R>> {
  const slot: WireItemsSlot<R> = { consume, consumed: null }
  const command = new ScanCommand({ ...input, [WIRE_ITEMS]: slot } as ScanCommandInput)
  const out = await ddb.send(withDataMiddleware(ddb, command))
  const taken = slot.consumed
  if (taken !== null) {
    assertSplitCount(taken.items, out.Count, input.TableName)
    return { result: taken.result, via: 'wire', lastEvaluatedKey: out.LastEvaluatedKey }
  }
  // No middleware ran (a test double), or the body had no Items array: the SDK's decoded items.
  return {
    result: consume(PageItems.fromTexts((out.Items ?? []).map(i => JSON.stringify(sdkItemToWire(i))))),
    via: 'sdk',
    lastEvaluatedKey: out.LastEvaluatedKey
  }
}

/**
 * Thrown when the items split from a page are not as many as the page's own `Count`. The export,
 * the verification scan and the restore's checks all read pages through the same splitter, so a
 * splitter bug would agree with itself; the service's `Count` is the independent witness.
 */
export class SplitCountError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SplitCountError'
  }
}

function assertSplitCount(split: number, count: number | undefined, table: string | undefined): void {
  if (count === undefined || split === count) return
  throw new SplitCountError(
    `Scan page of ${table ?? 'the table'}: ${split} items were split from the response, but its Count is ${count}. The page was not read correctly (a bug in the byte-level splitter, or a response changed on the way); nothing read from it is used.`
  )
}

/** Which page of a consistent parallel Scan: the table, the segment and the key to start after. */
export interface SegmentPage {
  table: string
  segment: number
  segments: number
  startKey: Record<string, AttributeValue> | undefined
  /** Items per page (the service stops at 1 MB anyway). */
  limit?: number
}

/** scanPageWire for one page of segment `segment` of `segments`, read consistently. */
export function scanSegmentPage<R>(
  ddb: Sender<DynamoDBClient>,
  page: SegmentPage,
  consume: (items: PageItems) => R
): Promise<WirePage<R>> {
  return scanPageWire(
    ddb,
    {
      TableName: page.table,
      Segment: page.segment,
      TotalSegments: page.segments,
      ConsistentRead: true,
      ExclusiveStartKey: page.startKey,
      Limit: page.limit
    },
    consume
  )
}

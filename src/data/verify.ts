/**
 * Verify: scan a table (parallel, consistent reads) and compare its item count and content
 * digest with what the backup holds. Any difference throws, naming it.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { OperationError } from '../errors.js'
import { systemClock, type Clock, type Logger } from '../types.js'
import { ContentDigest, DIGEST_ALGORITHM } from './digest.js'
import { scanSegmentPage } from './raw-scan.js'
import { DEFAULT_SEGMENTS } from './export.js'
import { withRetries } from './retry.js'
import type { Sender } from '../aws/clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

export interface TableContent {
  itemCount: number
  contentDigest: string
  algorithm: string
}

/** Count and content digest of a table, by parallel consistent Scan (memory flat). */
export async function digestTable(
  ddb: Sender<DynamoDBClient>,
  opts: { table: string; segments?: number; clock?: Clock; random?: () => number }
): Promise<TableContent> {
  const segments = opts.segments ?? DEFAULT_SEGMENTS
  const retry = { sleep: (opts.clock ?? systemClock).sleep, random: opts.random ?? Math.random }
  const digests = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const d = new ContentDigest()
      let startKey: Record<string, AttributeValue> | undefined
      do {
        const page = await withRetries(
          () =>
            scanSegmentPage(ddb, { table: opts.table, segment, segments, startKey }, page => {
              const pageDigest = new ContentDigest()
              for (let i = 0; i < page.length; i++) pageDigest.addPageItem(page, i)
              return pageDigest
            }),
          retry
        )
        d.merge(page.result)
        startKey = page.lastEvaluatedKey
      } while (startKey !== undefined)
      return d
    })
  )
  const total = new ContentDigest()
  for (const d of digests) total.merge(d)
  return { itemCount: total.count, contentDigest: total.hex(), algorithm: DIGEST_ALGORITHM }
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
  }
): Promise<TableContent> {
  const found = await digestTable(ddb, opts)
  const differences: string[] = []
  if (found.itemCount !== opts.expected.itemCount)
    differences.push(`item count: backup ${opts.expected.itemCount}, table ${found.itemCount}`)
  if (found.contentDigest !== opts.expected.contentDigest)
    differences.push(`content digest: backup ${opts.expected.contentDigest}, table ${found.contentDigest}`)
  if (differences.length > 0) {
    throw new OperationError(
      `Verification of ${opts.table} failed: ${differences.join('; ')}`,
      `the table holds ${found.itemCount} items that differ from the backup; the backup files are untouched: restore again into an empty table`
    )
  }
  opts.logger.info(
    `Verified ${opts.table}: ${found.itemCount} items, content digest ${found.contentDigest.slice(0, 16)}… equals the backup's`
  )
  return found
}

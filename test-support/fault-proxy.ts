/**
 * A loopback HTTP proxy in front of a DynamoDB emulator that misbehaves the way DynamoDB does
 * under load, which no emulator does on its own. Per BatchWriteItem, with seeded probabilities:
 * - `unprocessed`: forward a random subset, return the rest as UnprocessedItems;
 * - `throttle`: answer 400 ProvisionedThroughputExceededException;
 * - `serverError`: answer HTTP 500;
 * - `drop`: destroy the socket, half of the time before forwarding and half after (the write
 *   happened but the client never hears of it).
 * `writeUnitsPerSecond` adds a token bucket (`burst` capacity, default 1 s worth): items beyond it come back as
 * UnprocessedItems, or the whole request is throttled when the bucket is empty.
 * Other operations pass through untouched. `stats` counts everything it did.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { forward, readBody, relay, sendAwsJson } from './http-proxy.js'
import type { AddressInfo, Socket } from 'node:net'

const ID = 'fault-proxy'

/** Small seeded PRNG (mulberry32): reproducible fault sequences. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface FaultOptions {
  /** Emulator endpoint, e.g. http://127.0.0.1:4567. */
  target: string
  seed?: number
  unprocessed?: number
  throttle?: number
  serverError?: number
  drop?: number
  /** Token bucket: write units per second (1 WCU per started KB of item JSON). */
  writeUnitsPerSecond?: number
  /** Bucket capacity in write units (default: one second's worth). */
  burst?: number
  clock?: () => number
}

export interface FaultStats {
  requests: number
  batchWrites: number
  itemsForwarded: number
  itemsUnprocessed: number
  throttled: number
  serverErrors: number
  droppedBeforeForward: number
  droppedAfterForward: number
}

export interface RunningFaultProxy {
  endpoint: string
  stats: FaultStats
  stop(): Promise<void>
}

type Json = Record<string, unknown>

export async function startFaultProxy(opts: FaultOptions): Promise<RunningFaultProxy> {
  const target = new URL(opts.target)
  const random = seededRandom(opts.seed ?? 1)
  const clock = opts.clock ?? (() => performance.now())
  const stats: FaultStats = {
    requests: 0,
    batchWrites: 0,
    itemsForwarded: 0,
    itemsUnprocessed: 0,
    throttled: 0,
    serverErrors: 0,
    droppedBeforeForward: 0,
    droppedAfterForward: 0
  }
  const rate = opts.writeUnitsPerSecond
  const capacity = opts.burst ?? rate ?? 0
  let tokens = capacity
  let refilledAt = clock()
  const sockets = new Set<Socket>()

  const takeTokens = (costs: number[]): number => {
    if (rate === undefined) return costs.length
    const now = clock()
    tokens = Math.min(capacity, tokens + ((now - refilledAt) * rate) / 1000)
    refilledAt = now
    let n = 0
    while (n < costs.length && tokens >= (costs[n] as number)) tokens -= costs[n++] as number
    return n
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++
    const body = await readBody(req)
    const op = String(req.headers['x-amz-target'] ?? '').split('.')[1]
    if (op !== 'BatchWriteItem') {
      const out = await forward(target, req, body)
      relay(res, out)
      return
    }
    stats.batchWrites++
    if (opts.drop !== undefined && random() < opts.drop / 2) {
      stats.droppedBeforeForward++
      req.socket.destroy()
      return
    }
    if (opts.throttle !== undefined && random() < opts.throttle) {
      stats.throttled++
      sendAwsJson(
        res,
        400,
        {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded (fault proxy)'
        },
        ID
      )
      return
    }
    if (opts.serverError !== undefined && random() < opts.serverError) {
      stats.serverErrors++
      sendAwsJson(
        res,
        500,
        {
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: 'Internal server error (fault proxy)'
        },
        ID
      )
      return
    }
    const parsed = JSON.parse(body.toString('utf8')) as { RequestItems: Record<string, Json[]> } & Json
    const forwardItems: Record<string, Json[]> = {}
    const unprocessed: Record<string, Json[]> = {}
    const partial = opts.unprocessed !== undefined && random() < opts.unprocessed
    const entries = Object.entries(parsed.RequestItems).flatMap(([table, reqs]) =>
      reqs.map(r => ({ table, r }))
    )
    const costs = entries.map(({ r }) => Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(r)) / 1024)))
    const allowed = takeTokens(costs)
    if (allowed === 0 && entries.length > 0 && rate !== undefined) {
      stats.throttled++
      sendAwsJson(
        res,
        400,
        {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'Throughput exceeds the current capacity (fault proxy token bucket)'
        },
        ID
      )
      return
    }
    entries.forEach(({ table, r }, i) => {
      const keep = i < allowed && (!partial || random() < 0.5)
      const into = keep ? forwardItems : unprocessed
      ;(into[table] ??= []).push(r)
    })
    if (rate !== undefined) {
      // Give back the tokens of items we refuse for other reasons.
      const refused =
        entries.length -
        Object.values(forwardItems).reduce((s, a) => s + a.length, 0) -
        (entries.length - allowed)
      tokens = Math.min(capacity, tokens + refused)
    }
    const nForward = Object.values(forwardItems).reduce((s, a) => s + a.length, 0)
    const nUnprocessed = entries.length - nForward
    let result: Json = { UnprocessedItems: {} }
    if (nForward > 0) {
      const out = await forward(
        target,
        req,
        Buffer.from(JSON.stringify({ ...parsed, RequestItems: forwardItems }))
      )
      if (out.status !== 200) {
        relay(res, out)
        return
      }
      result = JSON.parse(out.body.toString('utf8')) as Json
      stats.itemsForwarded += nForward
      if (opts.drop !== undefined && random() < opts.drop / 2) {
        stats.droppedAfterForward++
        req.socket.destroy()
        return
      }
    }
    const merged = { ...((result.UnprocessedItems as Record<string, Json[]> | undefined) ?? {}) }
    for (const [table, reqs] of Object.entries(unprocessed))
      merged[table] = [...(merged[table] ?? []), ...reqs]
    stats.itemsUnprocessed += nUnprocessed
    sendAwsJson(res, 200, { ...result, UnprocessedItems: merged }, ID)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendAwsJson(res, 500, { __type: 'InternalFailure', message: `fault proxy: ${String(err)}` }, ID)
      else res.destroy()
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

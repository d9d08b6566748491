/**
 * A loopback HTTP proxy in front of a DynamoDB/CloudFormation emulator for the safety tests:
 * - `dropOneScanItem`: removes one item from the first segmented (parallel) Scan page that holds
 *   items, once. The export reads its pages first, so the export misses an item that the
 *   verification scan then finds: an export that does not match the table.
 * - `fail`: answers a chosen operation (e.g. `DeleteTable`, `Scan`, `CreateBackup`,
 *   `BatchWriteItem`) with an error instead of forwarding it; `after` lets the first N such
 *   requests through, `times` limits how often it fails (default: always).
 * - `expireFromScanPass`: from the N-th parallel Scan pass on (a pass starts with segment 0's
 *   first page; the export is pass 1, its verification pass 2), items whose TTL attribute (a
 *   Number, epoch seconds) lies before `before` are left out of Scan pages, as if DynamoDB's TTL had
 *   deleted them meanwhile (`Count` follows); with `table`, only in Scans of that table (a
 *   temporary table restored from a backup has no TTL: DynamoDB deletes nothing from it).
 * - `miscountScan`: adds one to the `Count` of every Scan page that holds items, body otherwise
 *   untouched: what a splitter that lost an item would see.
 * Everything else is forwarded untouched. `operations` lists every operation seen, in order.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { forward, readBody, sendAwsJson } from './http-proxy.js'
import type { AddressInfo, Socket } from 'node:net'

export interface FailRule {
  /** DynamoDB operation name without the service prefix, e.g. `DeleteTable`. */
  operation: string
  status: number
  /** Error type, e.g. `InternalServerError` or `ValidationException`. */
  type: string
  /** The error's message; a function gets the request's JSON (to quote from it, as DynamoDB may). */
  message?: string | ((request: unknown) => string)
  /** Let this many matching requests through before failing (default 0). */
  after?: number
  /** Fail at most this many times (default: every matching request). */
  times?: number
}

export interface TamperOptions {
  target: string
  dropOneScanItem?: boolean
  fail?: FailRule[]
  expireFromScanPass?: { pass: number; attribute: string; before: number; table?: string }
  miscountScan?: boolean
}

export interface TamperProxy {
  endpoint: string
  operations: string[]
  /** The item dropped from the export's Scan page (DynamoDB JSON), once it happened. */
  dropped: Record<string, unknown> | null
  /** How many requests each fail rule answered with an error. */
  failures: number[]
  /** Items left out by `expireFromScanPass` (counted per page served). */
  expired: number
  /** Parallel Scan passes seen. */
  scanPasses: number
  stop(): Promise<void>
}

function operationOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target']
  return typeof target === 'string' ? (target.split('.')[1] ?? '') : ''
}

export async function startTamperProxy(opts: TamperOptions): Promise<TamperProxy> {
  const target = new URL(opts.target)
  const rules = opts.fail ?? []
  const seen = rules.map(() => 0)
  const proxy: TamperProxy = {
    endpoint: '',
    operations: [],
    dropped: null,
    failures: rules.map(() => 0),
    expired: 0,
    scanPasses: 0,
    stop: async () => {}
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req)
    const op = operationOf(req)
    proxy.operations.push(op)
    for (const [i, rule] of rules.entries()) {
      if (rule.operation !== op) continue
      seen[i] = (seen[i] ?? 0) + 1
      const failed = proxy.failures[i] ?? 0
      if ((seen[i] ?? 0) > (rule.after ?? 0) && failed < (rule.times ?? Infinity)) {
        proxy.failures[i] = failed + 1
        const error = {
          __type: `com.amazonaws.dynamodb.v20120810#${rule.type}`,
          message:
            typeof rule.message === 'function'
              ? rule.message(JSON.parse(body.toString('utf8')) as unknown)
              : (rule.message ?? `${op} failed (scan-tamper-proxy)`)
        }
        sendAwsJson(res, rule.status, error, 'scan-tamper-proxy')
        return
      }
    }
    const scanInput =
      op === 'Scan'
        ? (JSON.parse(body.toString('utf8')) as {
            TableName?: string
            TotalSegments?: number
            Segment?: number
            ExclusiveStartKey?: unknown
          })
        : null
    if (scanInput?.TotalSegments !== undefined && scanInput.Segment === 0 && !scanInput.ExclusiveStartKey)
      proxy.scanPasses++
    const out = await forward(target, req, body)
    let payload = out.body
    const headers = { ...out.headers }
    const rewrite = (
      change: (page: { Items?: Record<string, unknown>[]; Count?: number; ScannedCount?: number }) => boolean
    ) => {
      const page = JSON.parse(payload.toString('utf8')) as {
        Items?: Record<string, unknown>[]
        Count?: number
      }
      if (!change(page)) return
      payload = Buffer.from(JSON.stringify(page))
      // The body changed: its checksum header would no longer match.
      delete headers['x-amz-crc32']
    }
    const expire = opts.expireFromScanPass
    if (
      expire &&
      scanInput?.TotalSegments !== undefined &&
      proxy.scanPasses >= expire.pass &&
      (expire.table === undefined || expire.table === scanInput.TableName) &&
      out.status === 200
    ) {
      rewrite(page => {
        const before = page.Items?.length ?? 0
        page.Items = (page.Items ?? []).filter(item => {
          const n = (item[expire.attribute] as { N?: string } | undefined)?.N
          return n === undefined || Number(n) >= expire.before
        })
        proxy.expired += before - page.Items.length
        page.Count = page.Items.length
        return before !== page.Items.length
      })
    }
    if (opts.miscountScan && op === 'Scan' && out.status === 200) {
      rewrite(page => {
        if ((page.Items?.length ?? 0) === 0) return false
        page.Count = (page.Count ?? 0) + 1
        return true
      })
    }
    if (opts.dropOneScanItem && proxy.dropped === null && op === 'Scan' && out.status === 200) {
      const input = JSON.parse(body.toString('utf8')) as { TotalSegments?: number }
      const page = JSON.parse(out.body.toString('utf8')) as {
        Items?: Record<string, unknown>[]
        Count?: number
        ScannedCount?: number
      }
      if (input.TotalSegments !== undefined && (page.Items?.length ?? 0) > 0) {
        proxy.dropped = page.Items?.pop() ?? null
        page.Count = page.Items?.length ?? 0
        page.ScannedCount = page.Count
        payload = Buffer.from(JSON.stringify(page))
        // The body changed: its checksum header would no longer match.
        delete headers['x-amz-crc32']
      }
    }
    // A HEAD answer has no body but tells the size of the object it describes (S3 HeadObject).
    if (req.method !== 'HEAD') {
      headers['content-length'] = String(payload.length)
      delete headers['transfer-encoding']
    }
    res.writeHead(out.status, headers)
    res.end(payload)
  }

  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(502)
        res.end(String(err))
      } else res.destroy()
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
  proxy.endpoint = `http://127.0.0.1:${port}`
  proxy.stop = () =>
    new Promise<void>(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  return proxy
}

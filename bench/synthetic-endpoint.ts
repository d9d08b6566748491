/**
 * A synthetic DynamoDB endpoint for measuring the engine's memory at 1M items within the bench's
 * time budget (dynalite stores ~5k items/s on this machine: 1M in and 1M back out would take
 * most of ten minutes). It speaks just enough of the protocol:
 * - DescribeTable: any table, ACTIVE, key pk (S) + sk (S);
 * - Scan of `synthetic-<N>`: the bench items 0..N-1 generated on the fly, split by Segment /
 *   TotalSegments, ~1 MB pages, LastEvaluatedKey; Scan of any other table: empty;
 * - BatchWriteItem: items are checked, counted and folded into a content digest, then dropped
 *   (GET /stats/<table> returns { items, distinctKeys, digest } so the bench can check that a
 *   restore delivered exactly the backup).
 * Prints its endpoint on stdout; stops when stdin closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ContentDigest } from '../src/data/digest.js'
import { sdkItemToWire, type WireItem } from '../src/data/dynamodb-json.js'
import { benchItem } from './generate.js'

const PAGE_ITEMS = 2500
const sinks = new Map<string, { digest: ContentDigest; keys: Set<string> }>()

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

function indexOf(sk: string): number {
  return Number(sk.slice('order#'.length))
}

function handle(op: string, input: Record<string, unknown>, res: ServerResponse): void {
  const table = typeof input.TableName === 'string' ? input.TableName : ''
  switch (op) {
    case 'DescribeTable':
      return reply(res, 200, {
        Table: {
          TableName: table,
          TableStatus: 'ACTIVE',
          TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' }
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' }
          ],
          ItemCount: 0,
          TableSizeBytes: 0
        }
      })
    case 'Scan': {
      const m = /^synthetic-(\d+)$/.exec(table)
      if (m === null) return reply(res, 200, { Items: [], Count: 0, ScannedCount: 0 })
      const n = Number(m[1])
      const total = Number(input.TotalSegments ?? 1)
      const segment = Number(input.Segment ?? 0)
      const start =
        input.ExclusiveStartKey !== undefined
          ? indexOf(((input.ExclusiveStartKey as Record<string, { S: string }>).sk as { S: string }).S) +
            total
          : segment
      const lines: string[] = []
      let i = start
      for (; i < n && lines.length < Math.min(PAGE_ITEMS, Number(input.Limit ?? PAGE_ITEMS)); i += total)
        lines.push(JSON.stringify(sdkItemToWire(benchItem(i))))
      const last = i - total
      const lek =
        i < n
          ? `,"LastEvaluatedKey":${JSON.stringify({ pk: benchItem(last).pk, sk: benchItem(last).sk })}`
          : ''
      return reply(
        res,
        200,
        `{"Items":[${lines.join(',')}],"Count":${lines.length},"ScannedCount":${lines.length}${lek}}`
      )
    }
    case 'BatchWriteItem': {
      for (const [t, reqs] of Object.entries(
        input.RequestItems as Record<string, { PutRequest: { Item: WireItem } }[]>
      )) {
        let sink = sinks.get(t)
        if (sink === undefined) sinks.set(t, (sink = { digest: new ContentDigest(), keys: new Set() }))
        for (const r of reqs) {
          const item = r.PutRequest.Item
          sink.keys.add(`${(item.pk as { S: string }).S}|${(item.sk as { S: string }).S}`)
          sink.digest.add(item)
        }
      }
      return reply(res, 200, { UnprocessedItems: {} })
    }
    default:
      return reply(res, 400, {
        __type: 'com.amazon.coral.service#UnknownOperationException',
        message: `synthetic endpoint: ${op} not supported`
      })
  }
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    if (req.method === 'GET' && req.url?.startsWith('/stats/') === true) {
      const sink = sinks.get(decodeURIComponent(req.url.slice('/stats/'.length)))
      return reply(res, 200, {
        items: sink?.digest.count ?? 0,
        distinctKeys: sink?.keys.size ?? 0,
        digest: sink?.digest.hex() ?? null
      })
    }
    const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? ''
    handle(op, JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, res)
  })
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`
  )
})
process.stdin.resume()
process.stdin.on('end', () => server.close(() => process.exit(0)))

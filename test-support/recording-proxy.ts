import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { forward, readBody, relay } from './http-proxy.js'

export interface RecordedCall {
  /** `DynamoDB.DescribeTable`, `CloudFormation.DescribeStacks`, … */
  operation: string
  status: number
}

export interface RecordingProxy {
  endpoint: string
  calls: RecordedCall[]
  operations(): string[]
  stop(): Promise<void>
}

/** The operation an AWS SDK request names: JSON protocols use X-Amz-Target, query protocols Action=. */
function operationOf(req: http.IncomingMessage, body: Buffer): string {
  const target = req.headers['x-amz-target']
  if (typeof target === 'string') {
    const [service, op] = target.split('.')
    const name = service?.startsWith('DynamoDB') ? 'DynamoDB' : (service ?? 'unknown')
    return `${name}.${op ?? '?'}`
  }
  const query = new URLSearchParams(body.toString('utf8'))
  const action = query.get('Action') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('Action')
  if (action) return `CloudFormation.${action}`
  const smithy = /\/service\/([^/]+)\/operation\/([^/?]+)/.exec(req.url ?? '')
  if (smithy) return `${smithy[1]}.${smithy[2]}`
  return `unknown ${req.method} ${req.url}`
}

/**
 * A loopback HTTP proxy in front of an emulator that records the operation of every request,
 * so a test can assert which AWS calls a run made (e.g. report mode makes no mutating call).
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target)
  const calls: RecordedCall[] = []
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req)
    const call: RecordedCall = { operation: operationOf(req, body), status: 0 }
    calls.push(call)
    try {
      const up = await forward(upstream, req, body)
      call.status = up.status
      relay(res, up)
    } catch (err) {
      call.status = 502
      res.writeHead(502)
      res.end(String(err))
    }
  }
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    operations: () => calls.map(c => c.operation),
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** Operations that cannot change anything. */
export function isReadOnlyOperation(operation: string): boolean {
  const op = operation.split('.')[1] ?? ''
  return /^(Describe|List|Get)/.test(op) || op === 'Scan' || op === 'Query'
}

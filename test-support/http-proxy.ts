/**
 * The plumbing every loopback AWS proxy of the tests shares (recording, fault, tamper): read a
 * request body, forward it to the emulator, answer in the AWS JSON protocol.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'

export interface Upstream {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Sends the request as it came (method, path, headers) with `body` to `target`; buffers the answer. */
export function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) }
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) })
        )
        res.on('error', reject)
      }
    )
    out.on('error', reject)
    out.end(body)
  })
}

/** An answer in DynamoDB's JSON protocol (errors carry `__type`). */
export function sendAwsJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId
  })
  res.end(text)
}

/** Passes an upstream answer through unchanged. */
export function relay(res: ServerResponse, up: Upstream): void {
  res.writeHead(up.status, up.headers)
  res.end(up.body)
}

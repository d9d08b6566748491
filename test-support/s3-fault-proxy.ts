/**
 * A loopback HTTP proxy in front of moto's S3 that fails chosen object uploads (PutObject,
 * UploadPart) the way a real network and S3 do, and records what every upload that got through
 * carried. Per attempt (counted per path and part number) the test chooses:
 * - `drop`: read part of the body, then destroy the socket (the client has sent some bytes and
 *   hears nothing back: its stream is half consumed);
 * - `slowDown`: read the whole body, then answer 503 SlowDown, as S3 does under load;
 * - `{ meanwhile }`: stop reading the body for a moment (the client's sending stalls, as on a slow
 *   link), call `meanwhile` (a test changes the file being sent there), then forward it;
 * - nothing: forward it.
 * Other requests pass through untouched.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { forward, readBody, relay } from './http-proxy.js'

export type UploadFault = 'drop' | 'slowDown' | { meanwhile: () => void } | null

export interface UploadSeen {
  /** Path and part number, e.g. `/bucket/key#2` (`#0` for a PutObject). */
  upload: string
  attempt: number
  /** What happened to it. */
  outcome: 'dropped' | 'slowDown' | 'forwarded' | 'stalled'
  /** For a forwarded one: the body's size and SHA-256 (hex, base64) as received. */
  bytes?: number
  sha256Hex?: string
  sha256Base64?: string
  /** Its `x-amz-content-sha256` (the signed payload hash) and `x-amz-checksum-sha256` headers. */
  contentSha256?: string
  checksumSha256?: string
}

export interface RunningS3FaultProxy {
  endpoint: string
  seen: UploadSeen[]
  stop(): Promise<void>
}

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>s3-fault-proxy</RequestId></Error>'

export async function startS3FaultProxy(
  target: string,
  faultFor: (upload: string, attempt: number) => UploadFault
): Promise<RunningS3FaultProxy> {
  const upstream = new URL(target)
  const attempts = new Map<string, number>()
  const seen: UploadSeen[] = []
  const sockets = new Set<Socket>()

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const isUpload = req.method === 'PUT' && !req.headers['x-amz-copy-source']
    if (!isUpload) return relay(res, await forward(upstream, req, await readBody(req)))
    const upload = `${url.pathname}#${url.searchParams.get('partNumber') ?? '0'}`
    const attempt = (attempts.get(upload) ?? 0) + 1
    attempts.set(upload, attempt)
    const fault = faultFor(upload, attempt)
    if (fault === 'drop') {
      seen.push({ upload, attempt, outcome: 'dropped' })
      let received = 0
      req.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received >= 64 * 1024) req.socket.destroy()
      })
      req.on('end', () => req.socket.destroy())
      return
    }
    if (fault !== null && typeof fault === 'object') {
      seen.push({ upload, attempt, outcome: 'stalled' })
      req.pause()
      await new Promise(resolve => setTimeout(resolve, 300))
      fault.meanwhile()
      req.resume()
    }
    const body = await readBody(req)
    if (fault === 'slowDown') {
      seen.push({ upload, attempt, outcome: 'slowDown' })
      res.writeHead(503, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(SLOW_DOWN)
      })
      res.end(SLOW_DOWN)
      return
    }
    const header = (name: string): string | undefined => {
      const v = req.headers[name]
      return Array.isArray(v) ? v[0] : v
    }
    const sha256 = createHash('sha256').update(body).digest()
    seen.push({
      upload,
      attempt,
      outcome: 'forwarded',
      bytes: body.length,
      sha256Hex: sha256.toString('hex'),
      sha256Base64: sha256.toString('base64'),
      contentSha256: header('x-amz-content-sha256'),
      checksumSha256: header('x-amz-checksum-sha256')
    })
    relay(res, await forward(upstream, req, body))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(err))
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

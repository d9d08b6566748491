/**
 * A loopback stand-in for the GitHub Actions artifact service, speaking as much of its protocol
 * as @actions/artifact v6 uses to upload: the results service's Twirp JSON calls
 * (`CreateArtifact` → a signed upload URL, `FinalizeArtifact` → an id) and the Azure Blob Storage
 * calls of that URL (`Put Block` and `Put Block List`, or a single `Put Blob`). It records every
 * request and keeps each artifact's zip, whose entries `entries()` reads (central directory:
 * names, compression method, sizes). Point the runner's variables at it:
 * `ACTIONS_RUNTIME_TOKEN=<runtimeToken>`, `ACTIONS_RESULTS_URL=<url>`.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { inflateRawSync } from 'node:zlib'

export interface ZipEntry {
  name: string
  /** 0 = stored (not compressed), 8 = deflate. */
  method: number
  compressedSize: number
  size: number
  content: Buffer
}

export interface UploadedArtifactRecord {
  name: string
  /** CreateArtifact's request body as sent (snake_case fields, as the client sends them). */
  create: Record<string, unknown>
  finalize?: Record<string, unknown>
  id: number
  zip: Buffer | null
}

export interface ArtifactService {
  url: string
  /** A JWT whose claims @actions/artifact reads the run and job ids from (not signed: not checked). */
  runtimeToken: string
  requests: { method: string; path: string }[]
  artifacts: UploadedArtifactRecord[]
  /** The zip entries of an uploaded artifact. */
  entries(name: string): ZipEntry[]
  stop(): Promise<void>
}

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/'

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url')
}

/** Reads a zip's central directory (no zip64: the tests' artifacts are small). */
export function readZip(zip: Buffer): ZipEntry[] {
  let end = -1
  for (let i = zip.length - 22; i >= 0; i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i
      break
    }
  }
  if (end < 0) throw new Error('not a zip: no end of central directory')
  const count = zip.readUInt16LE(end + 10)
  let at = zip.readUInt32LE(end + 16)
  const entries: ZipEntry[] = []
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry')
    const method = zip.readUInt16LE(at + 10)
    const compressedSize = zip.readUInt32LE(at + 20)
    const size = zip.readUInt32LE(at + 24)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const local = zip.readUInt32LE(at + 42)
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8')
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    const raw = zip.subarray(dataAt, dataAt + compressedSize)
    entries.push({
      name,
      method,
      compressedSize,
      size,
      content: method === 0 ? Buffer.from(raw) : inflateRawSync(raw)
    })
    at += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

export async function startArtifactService(): Promise<ArtifactService> {
  const requests: { method: string; path: string }[] = []
  const artifacts: UploadedArtifactRecord[] = []
  const blocks = new Map<string, Map<string, Buffer>>()
  const blobs = new Map<string, Buffer>()
  let nextId = 4001
  let baseUrl = ''

  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
  const created = (res: http.ServerResponse): void => {
    res.writeHead(201, {
      etag: '"0x8D0000000000000"',
      'last-modified': new Date().toUTCString(),
      'x-ms-request-id': 'fake-artifact-service',
      'x-ms-version': '2025-01-05',
      'x-ms-request-server-encrypted': 'true',
      'content-length': '0'
    })
    res.end()
  }

  const handle = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const method = req.method ?? 'GET'
    requests.push({ method, path: `${url.pathname}${url.search}` })

    if (method === 'POST' && url.pathname.startsWith(TWIRP)) {
      if (!/^Bearer .+/.test(req.headers.authorization ?? '')) return json(res, 401, { msg: 'no token' })
      const call = url.pathname.slice(TWIRP.length)
      const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>
      const name = typeof request.name === 'string' ? request.name : ''
      if (call === 'CreateArtifact') {
        artifacts.push({ name, create: request, id: nextId++, zip: null })
        return json(res, 200, {
          ok: true,
          signed_upload_url: `${baseUrl}/devstoreaccount1/actions-results/${encodeURIComponent(name)}.zip?sig=fake-signature`
        })
      }
      if (call === 'FinalizeArtifact') {
        const artifact = artifacts.find(a => a.name === name)
        if (!artifact) return json(res, 404, { msg: `no artifact ${name}` })
        artifact.finalize = request
        artifact.zip = blobs.get(`${name}.zip`) ?? null
        return json(res, 200, { ok: true, artifact_id: String(artifact.id) })
      }
      return json(res, 404, { msg: `unknown call ${call}` })
    }

    const blob = /^\/devstoreaccount1\/actions-results\/(.+)$/.exec(url.pathname)
    if (method === 'PUT' && blob) {
      const key = decodeURIComponent(blob[1] ?? '')
      const comp = url.searchParams.get('comp')
      if (comp === 'block') {
        const id = url.searchParams.get('blockid') ?? ''
        const staged = blocks.get(key) ?? new Map<string, Buffer>()
        staged.set(id, body)
        blocks.set(key, staged)
        return created(res)
      }
      if (comp === 'blocklist') {
        const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)</g)].map(
          m => m[1] ?? ''
        )
        const staged = blocks.get(key) ?? new Map<string, Buffer>()
        blobs.set(key, Buffer.concat(ids.map(id => staged.get(id) ?? Buffer.alloc(0))))
        return created(res)
      }
      blobs.set(key, body)
      return created(res)
    }
    json(res, 404, { msg: `not handled: ${method} ${url.pathname}` })
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle(req, Buffer.concat(chunks), res))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const claims = { scp: 'Actions.ExampleScope Actions.Results:run-backend-id:job-backend-id' }
  return {
    url: baseUrl,
    runtimeToken: `${base64url('{"alg":"none","typ":"JWT"}')}.${base64url(JSON.stringify(claims))}.sig`,
    requests,
    artifacts,
    entries(name) {
      const zip = artifacts.find(a => a.name === name)?.zip
      if (!zip) throw new Error(`no uploaded zip for artifact ${name}`)
      return readZip(zip)
    },
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

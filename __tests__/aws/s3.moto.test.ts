/**
 * The S3 adapters against moto's S3 (same port as DynamoDB and the rest), plus the answers real S3
 * gives that moto does not (a 301 from another region, a 403), pinned with aws-sdk-client-mock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { createClients, s3PathStyle, type AwsClients, type Sender } from '../../src/aws/clients.js'
import {
  compositeSha256,
  headBucket,
  listObjects,
  objectSha256,
  partSizeFor,
  putObject,
  sameChecksum,
  uploadFile,
  verifyObject
} from '../../src/aws/s3.js'
import { InputError } from '../../src/errors.js'
import { assertBackupBucket } from '../../src/execute/backup-bucket.js'
import { destroyClients, recordCommandNames, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  startS3FaultProxy,
  type RunningS3FaultProxy,
  type UploadFault
} from '../../test-support/s3-fault-proxy.js'

const BUCKET = 'orphan-guard-backups'
const EU_BUCKET = 'orphan-guard-backups-eu'
const MIB = 1024 * 1024

let moto: MotoServer
let clients: AwsClients
let dir: string

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
  dir = mkdtempSync(join(tmpdir(), 'orphan-guard-s3-'))
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  const eu = testClients(moto.endpoint, { region: 'eu-west-1' })
  await eu.s3.send(
    new CreateBucketCommand({
      Bucket: EU_BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' }
    })
  )
  destroyClients(eu)
})
afterAll(async () => {
  destroyClients(clients)
  rmSync(dir, { recursive: true, force: true })
  await moto?.stop()
})

function fileOf(name: string, bytes: number, seed: number): { path: string; sha256: string; bytes: number } {
  const body = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i += 4096) body[i] = (i / 4096 + seed) % 251
  const path = join(dir, name)
  writeFileSync(path, body)
  return { path, sha256: createHash('sha256').update(body).digest('hex'), bytes }
}

/** The object under `key` reads back as the file, byte for byte. */
async function expectObjectIsFile(key: string, file: { sha256: string; bytes: number }): Promise<void> {
  expect(await objectSha256(clients.s3, BUCKET, key)).toEqual({ sha256: file.sha256, bytes: file.bytes })
}

/** A Sender that fails the n-th command of a kind, once. */
function failingNth(s3: S3Client, kind: string, n: number): Sender<S3Client> {
  let seen = 0
  return {
    send: ((command: { constructor: { name: string } }) => {
      if (command.constructor.name === kind && ++seen === n)
        return Promise.reject(new Error(`injected failure of ${kind} #${n}`))
      return s3.send(command as never)
    }) as S3Client['send']
  }
}

describe('headBucket and assertBackupBucket (moto)', () => {
  it("answers the bucket's region from x-amz-bucket-region", async () => {
    expect(await headBucket(clients.s3, BUCKET)).toEqual({
      exists: true,
      readable: true,
      region: 'us-east-1',
      problem: null
    })
    expect((await headBucket(clients.s3, EU_BUCKET)).region).toBe('eu-west-1')
  })

  it('a bucket in the run region passes', async () => {
    await expect(
      assertBackupBucket(clients.s3, { bucket: BUCKET, prefix: 'x' }, 'us-east-1')
    ).resolves.toBeUndefined()
  })

  it('a missing bucket is an InputError naming s3-bucket', async () => {
    const err = await assertBackupBucket(
      clients.s3,
      { bucket: 'no-such-bucket', prefix: '' },
      'us-east-1'
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('s3-bucket')
    expect((err as Error).message).toMatch(
      /^Input 's3-bucket': bucket no-such-bucket does not exist \(HeadBucket answered 404/
    )
  })

  it('a bucket in another region is an InputError naming both regions', async () => {
    const err = await assertBackupBucket(clients.s3, { bucket: EU_BUCKET, prefix: '' }, 'us-east-1').catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).message).toMatch(
      /Input 's3-bucket': bucket orphan-guard-backups-eu is in eu-west-1, but aws-region is us-east-1/
    )
  })
})

describe('headBucket against the answers of real S3 (aws-sdk-client-mock)', () => {
  /** How the SDK surfaces a HEAD error: no body, the status and the headers on the exception. */
  function headError(status: number, name: string, headers: Record<string, string>): S3ServiceException {
    const e = new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status } })
    Object.assign(e, { $response: { statusCode: status, headers } })
    return e
  }

  it.each([
    [
      301,
      'PermanentRedirect',
      { 'x-amz-bucket-region': 'eu-central-1' },
      /is in eu-central-1, but aws-region is us-east-1/
    ],
    [
      403,
      'Forbidden',
      { 'x-amz-bucket-region': 'us-east-1' },
      /cannot be read with these credentials \(HeadBucket answered 403 Forbidden.*Grant s3:ListBucket/
    ],
    [403, 'Forbidden', { 'x-amz-bucket-region': 'ap-south-1' }, /is in ap-south-1/],
    [400, 'BadRequest', {}, /cannot be read with these credentials \(HeadBucket answered 400/]
  ])('HTTP %i %s: an InputError before anything else', async (status, name, headers, message) => {
    const s3 = new S3Client({ region: 'us-east-1' })
    const mock = mockClient(s3)
    mock.on(HeadBucketCommand).rejects(headError(status, name, headers))
    try {
      const err = await assertBackupBucket(s3, { bucket: BUCKET, prefix: '' }, 'us-east-1').catch(
        (e: unknown) => e
      )
      expect(err).toBeInstanceOf(InputError)
      expect((err as Error).message).toMatch(message)
      expect(mock.calls()).toHaveLength(1)
    } finally {
      mock.restore()
      s3.destroy()
    }
  })
})

describe('checksums', () => {
  it('the composite checksum is the SHA-256 of the parts digests, with the part count', () => {
    const parts = [Buffer.from('a'), Buffer.from('b')].map(b => createHash('sha256').update(b).digest())
    const expected = createHash('sha256').update(Buffer.concat(parts)).digest('base64')
    expect(compositeSha256(parts)).toBe(`${expected}-2`)
    expect(sameChecksum(`${expected}-2`, `${expected}-2`)).toBe(true)
    expect(sameChecksum(`${expected}-2`, expected)).toBe(true) // moto leaves out -N
    expect(sameChecksum(`${expected}-2`, `${expected}-3`)).toBe(false)
    expect(sameChecksum(`${expected}-2`, `x${expected.slice(1)}-2`)).toBe(false)
  })

  it('parts grow past 8 MiB only when 10,000 would not hold the file', () => {
    expect(partSizeFor(1)).toBe(8 * MIB)
    expect(partSizeFor(80_000 * MIB)).toBe(8 * MIB)
    expect(partSizeFor(80_001 * MIB)).toBe(9 * MIB)
    expect(partSizeFor(100, 5 * MIB)).toBe(5 * MIB)
  })
})

describe('putObject, uploadFile and verifyObject (moto)', () => {
  it('a small object: PutObject with its SHA-256, verified by reading it back (moto reports no checksum for it)', async () => {
    const body = Buffer.from('{"format":"x"}\n')
    const stored = await putObject(clients.s3, { bucket: BUCKET, key: 'small/manifest.json', body })
    expect(stored.sha256).toBe(createHash('sha256').update(body).digest('hex'))
    expect(stored.expectedChecksum).toBe(createHash('sha256').update(body).digest('base64'))
    expect(await verifyObject(clients.s3, stored)).toEqual({ ok: true, how: 'read back' })
  })

  it('a file larger than a part: a multipart upload, one SHA-256 per part, verified by the composite checksum', async () => {
    const file = fileOf('big.bin', 11 * MIB + 123, 1)
    const names = recordCommandNames(clients.s3)
    const stored = await uploadFile(clients.s3, {
      bucket: BUCKET,
      key: 'big/data.bin',
      path: file.path,
      partBytes: 5 * MIB
    })
    expect(names).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand'
    ])
    expect(stored).toMatchObject({ bytes: 11 * MIB + 123, sha256: file.sha256, parts: 3 })
    expect(stored.expectedChecksum).toMatch(/-3$/)
    expect(await verifyObject(clients.s3, stored)).toEqual({ ok: true, how: 'checksum' })
    await expectObjectIsFile('big/data.bin', file)
  })

  it('a file that fits one part is one PutObject', async () => {
    const file = fileOf('one.bin', 300_000, 2)
    const names = recordCommandNames(clients.s3)
    const stored = await uploadFile(clients.s3, { bucket: BUCKET, key: 'one/data.bin', path: file.path })
    expect(names).toEqual(['PutObjectCommand'])
    expect(stored).toMatchObject({ bytes: 300_000, sha256: file.sha256, parts: 1 })
    expect(await verifyObject(clients.s3, stored)).toEqual({ ok: true, how: 'read back' })
  })

  it('an object changed after its upload fails verification (same size, other bytes; and a missing one)', async () => {
    const file = fileOf('changed.bin', 11 * MIB, 3)
    const multi = await uploadFile(clients.s3, {
      bucket: BUCKET,
      key: 'changed/multi.bin',
      path: file.path,
      partBytes: 5 * MIB
    })
    const single = await putObject(clients.s3, {
      bucket: BUCKET,
      key: 'changed/single.json',
      body: Buffer.from('abc')
    })
    await clients.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'changed/multi.bin', Body: Buffer.alloc(11 * MIB, 7) })
    )
    await clients.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'changed/single.json', Body: Buffer.from('abd') })
    )
    const checks = await Promise.all([verifyObject(clients.s3, multi), verifyObject(clients.s3, single)])
    expect(checks.map(c => c.ok)).toEqual([false, false])
    expect(checks.map(c => (c.ok ? '' : c.problem))).toEqual([
      expect.stringMatching(
        /^s3:\/\/orphan-guard-backups\/changed\/multi.bin read back: 11534336 bytes with sha256 /
      ),
      expect.stringMatching(/^s3:\/\/orphan-guard-backups\/changed\/single.json read back/)
    ])
    expect(await verifyObject(clients.s3, { ...single, key: 'changed/nothing-here' })).toEqual({
      ok: false,
      problem: 's3://orphan-guard-backups/changed/nothing-here does not exist'
    })
  })

  it('a failed part aborts the multipart upload: no object, no upload left behind', async () => {
    const file = fileOf('fails.bin', 11 * MIB, 4)
    await expect(
      uploadFile(failingNth(clients.s3, UploadPartCommand.name, 2), {
        bucket: BUCKET,
        key: 'fails/data.bin',
        path: file.path,
        partBytes: 5 * MIB
      })
    ).rejects.toThrow(/injected failure of UploadPartCommand #2/)
    const uploads = await clients.s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'fails/' })
    )
    expect(uploads.Uploads ?? []).toEqual([])
    expect(
      await verifyObject(clients.s3, {
        bucket: BUCKET,
        key: 'fails/data.bin',
        bytes: 1,
        sha256: '',
        expectedChecksum: '',
        parts: 1
      })
    ).toMatchObject({ ok: false })
  })
})

describe('uploadFile streams each body from disk (moto behind a proxy that drops and refuses uploads)', () => {
  let proxy: RunningS3FaultProxy | null = null
  let proxied: AwsClients | null = null
  afterEach(async () => {
    if (proxied !== null) destroyClients(proxied)
    await proxy?.stop()
    proxy = null
    proxied = null
  })

  /** Clients through a proxy that applies `faultFor`; three attempts per call, as the action's clients make. */
  async function through(faultFor: (upload: string, attempt: number) => UploadFault): Promise<AwsClients> {
    proxy = await startS3FaultProxy(moto.endpoint, faultFor)
    proxied = testClients(proxy.endpoint, { maxAttempts: 3 })
    return proxied
  }

  it('a part whose connection drops mid-body, then is refused with 503 SlowDown, is sent again whole from the file', async () => {
    const file = fileOf('retried.bin', 11 * MIB + 7, 5)
    const c = await through((upload, attempt) =>
      upload.endsWith('#2') ? ((['drop', 'slowDown', null] as const)[attempt - 1] ?? null) : null
    )
    const stored = await uploadFile(c.s3, {
      bucket: BUCKET,
      key: 'retried/data.bin',
      path: file.path,
      partBytes: 5 * MIB
    })
    expect(stored).toMatchObject({ bytes: 11 * MIB + 7, sha256: file.sha256, parts: 3 })
    const part2 = (proxy as RunningS3FaultProxy).seen.filter(s => s.upload.endsWith('/retried/data.bin#2'))
    expect(part2.map(s => s.outcome)).toEqual(['dropped', 'slowDown', 'forwarded'])
    expect(part2[2]?.bytes).toBe(5 * MIB)
    // What S3 stored is the file, byte for byte.
    expect(await verifyObject(clients.s3, stored)).toEqual({ ok: true, how: 'checksum' })
    await expectObjectIsFile('retried/data.bin', file)
  })

  it('a PutObject refused once is sent again whole', async () => {
    const file = fileOf('retried-one.bin', 700_000, 6)
    const c = await through((upload, attempt) => (upload.endsWith('#0') && attempt === 1 ? 'slowDown' : null))
    const stored = await uploadFile(c.s3, { bucket: BUCKET, key: 'retried/one.bin', path: file.path })
    expect(stored).toMatchObject({ bytes: 700_000, sha256: file.sha256, parts: 1 })
    expect((proxy as RunningS3FaultProxy).seen.map(s => s.outcome)).toEqual(['slowDown', 'forwarded'])
    await expectObjectIsFile('retried/one.bin', file)
  })

  it('every body goes out with its SHA-256 signed (x-amz-content-sha256) and as its checksum, never UNSIGNED-PAYLOAD', async () => {
    const file = fileOf('signed.bin', 11 * MIB, 7)
    const small = fileOf('signed-small.bin', 1000, 8)
    const c = await through(() => null)
    await uploadFile(c.s3, { bucket: BUCKET, key: 'signed/data.bin', path: file.path, partBytes: 5 * MIB })
    await uploadFile(c.s3, { bucket: BUCKET, key: 'signed/small.bin', path: small.path })
    const seen = (proxy as RunningS3FaultProxy).seen
    expect(seen.map(s => s.upload.replace(/^.*\/signed\//, ''))).toEqual([
      'data.bin#1',
      'data.bin#2',
      'data.bin#3',
      'small.bin#0'
    ])
    expect(seen.map(s => s.bytes)).toEqual([5 * MIB, 5 * MIB, MIB, 1000])
    for (const s of seen) {
      expect(s.contentSha256).toBe(s.sha256Hex)
      expect(s.checksumSha256).toBe(s.sha256Base64)
    }
  })

  it('a file cut short while a part is on its way fails at once with the reason (no wait for the rest of the body, no retry)', async () => {
    const file = fileOf('cut.bin', 40 * MIB, 10)
    // Part 2 (16-32 MiB) has been hashed whole; while it is being sent, the file loses its end.
    const c = await through(upload =>
      upload.endsWith('/cut/data.bin#2') ? { meanwhile: () => truncateSync(file.path, 28 * MIB) } : null
    )
    const started = Date.now()
    await expect(
      uploadFile(c.s3, { bucket: BUCKET, key: 'cut/data.bin', path: file.path, partBytes: 16 * MIB })
    ).rejects.toThrow(/cut.bin ended early \(was it changed during the upload\?\)/)
    // Not after a socket or S3 request timeout (60 s, 20 s), and part 2 was tried once.
    expect(Date.now() - started).toBeLessThan(15_000)
    const seen = (proxy as RunningS3FaultProxy).seen
    expect(seen.filter(s => s.upload.endsWith('#2')).map(s => s.outcome)).toEqual(['stalled'])
    const uploads = await clients.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'cut/' }))
    expect(uploads.Uploads ?? []).toEqual([])
  })

  it('a file that is shorter than it was when the upload began fails, and the multipart upload is aborted', async () => {
    const file = fileOf('shrinks.bin', 11 * MIB, 9)
    // Cut the file while part 1 is on its way: part 3 (its hash is read after part 2 is sent) is short.
    const c = await through(upload => {
      if (upload.endsWith('/shrinks/data.bin#1')) truncateSync(file.path, 10 * MIB + 5)
      return null
    })
    await expect(
      uploadFile(c.s3, { bucket: BUCKET, key: 'shrinks/data.bin', path: file.path, partBytes: 5 * MIB })
    ).rejects.toThrow(/shrinks.bin ended early \(was it changed during the upload\?\)/)
    const uploads = await clients.s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'shrinks/' })
    )
    expect(uploads.Uploads ?? []).toEqual([])
  })
})

describe('listObjects (moto)', () => {
  it('lists every object under a prefix across pages, and folders with a delimiter', async () => {
    for (const key of [
      'list/pr-1/t/20250101T000000Z/manifest.json',
      'list/pr-1/t/20250101T000000Z/data/a.json.gz',
      'list/pr-1/t/20250102T000000Z/manifest.json',
      'list/pr-2/u/20250101T000000Z/manifest.json'
    ])
      await putObject(clients.s3, { bucket: BUCKET, key, body: Buffer.from(key) })
    const pages = []
    for await (const page of listObjects(clients.s3, { bucket: BUCKET, prefix: 'list/pr-1/', pageSize: 2 }))
      pages.push(page)
    expect(pages.length).toBe(2)
    expect(pages.flatMap(p => p.objects.map(o => o.key)).sort()).toEqual([
      'list/pr-1/t/20250101T000000Z/data/a.json.gz',
      'list/pr-1/t/20250101T000000Z/manifest.json',
      'list/pr-1/t/20250102T000000Z/manifest.json'
    ])
    const folders = []
    for await (const page of listObjects(clients.s3, { bucket: BUCKET, prefix: 'list/', delimiter: '/' }))
      folders.push(...page.prefixes)
    expect(folders.sort()).toEqual(['list/pr-1/', 'list/pr-2/'])
  })
})

describe('path-style addressing of a loopback endpoint', () => {
  it.each([
    [undefined, {}, false],
    [undefined, { AWS_ENDPOINT_URL: 'https://s3.example.com' }, false],
    ['http://localhost:4566', {}, true],
    [undefined, { AWS_ENDPOINT_URL_S3: 'http://localhost:4566' }, true],
    [undefined, { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, true],
    [undefined, { AWS_ENDPOINT_URL: 'http://[::1]:5000' }, true],
    [
      undefined,
      { AWS_ENDPOINT_URL_S3: 'https://s3.example.com', AWS_ENDPOINT_URL: 'http://localhost:1' },
      false
    ],
    [
      undefined,
      { AWS_ENDPOINT_URL_S3: 'http://localhost:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      false
    ]
  ])('endpoint %s, env %j: path-style %s', (endpoint, env, expected) => {
    expect(s3PathStyle(endpoint, env)).toBe(expected)
  })

  it('the action clients reach moto through AWS_ENDPOINT_URL_S3=http://localhost:PORT alone (no bucket.localhost)', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: `http://localhost:${moto.port}`,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing'
    })
    const action = createClients({ region: 'us-east-1', maxAttempts: 1 })
    try {
      expect(action.s3.config.forcePathStyle).toBe(true)
      expect(await headBucket(action.s3, BUCKET)).toMatchObject({ readable: true, region: 'us-east-1' })
    } finally {
      destroyClients(action)
      for (const name of ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
    }
  })
})

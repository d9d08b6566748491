/**
 * S3 adapters for the backup store (the `s3-bucket` input): the bucket's region, objects written
 * with a SHA-256 checksum (one PutObject, or a multipart upload; a file's bytes are streamed from
 * disk, a read chunk in memory), and objects read back, listed and checked.
 *
 * Checksums. Every request body carries `x-amz-checksum-sha256`, which S3 checks on receipt
 * (a mismatch is refused). S3 keeps a SHA-256 of a single PutObject as a FULL_OBJECT checksum (the
 * SHA-256 of the bytes), but for a multipart upload only as a COMPOSITE one: base64 of the SHA-256
 * of the parts' binary SHA-256 digests, concatenated, followed by `-<number of parts>`
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity-upload.html).
 * So `uploadFile` returns both: the whole file's SHA-256 (what a reader computes) and the checksum
 * S3 must report for the object (`expectedChecksum`), which `verifyObject` compares with
 * HeadObject's. Servers that report no checksum (moto for a single PutObject, some S3-compatible
 * stores) are verified by reading the object back and hashing it.
 */
import { createHash, type Hash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { pipeline as streamPipeline, Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart
} from '@aws-sdk/client-s3'
// Types only (erased at build time): the SDK's own middleware types.
import type { BuildMiddleware, FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types'
import { errorMessage } from '../errors.js'
import { asClient, type Sender } from './clients.js'

/** What HeadBucket says about a bucket, whatever the answer. */
export interface BucketHead {
  /** false only when S3 said 404 (no such bucket). */
  exists: boolean
  /** HeadBucket succeeded (s3:ListBucket on the bucket). */
  readable: boolean
  /** `x-amz-bucket-region`: S3 sends it even when access is denied or the region is wrong. */
  region: string | null
  /** Why it is not readable (the HTTP status and error), when it is not. */
  problem: string | null
}

interface SdkError {
  name?: string
  $metadata?: { httpStatusCode?: number }
  $response?: { headers?: Record<string, string | undefined> }
}

/**
 * HeadBucket, and the bucket's region from its `x-amz-bucket-region` header. AWS recommends this
 * over GetBucketLocation: the header comes back from any region and whatever the permissions,
 * also on the 301 a bucket in another region answers with (the SDK throws that; its response
 * still holds the header).
 */
export async function headBucket(s3: Sender<S3Client>, bucket: string): Promise<BucketHead> {
  try {
    const out = await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    return { exists: true, readable: true, region: out.BucketRegion ?? null, problem: null }
  } catch (err) {
    const e = err as SdkError
    const status = e.$metadata?.httpStatusCode
    const region = e.$response?.headers?.['x-amz-bucket-region'] ?? null
    return {
      exists: status !== 404,
      readable: false,
      region,
      problem:
        `HeadBucket answered ${status ?? 'no HTTP status'} ${e.name ?? ''}: ${errorMessage(err)}`.trim()
    }
  }
}

/** base64 SHA-256, the form of `x-amz-checksum-sha256`. */
export function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64')
}

/** The COMPOSITE checksum S3 reports for a multipart upload with SHA-256 parts: `base64(sha256(d1‖d2‖…))-N`. */
export function compositeSha256(partDigests: Buffer[]): string {
  return `${createHash('sha256').update(Buffer.concat(partDigests)).digest('base64')}-${partDigests.length}`
}

/**
 * Whether a checksum S3 reported equals the one expected. moto reports a composite checksum
 * without its `-N`; the digest part must still be equal, and the part count where it is given.
 */
export function sameChecksum(expected: string, reported: string): boolean {
  const [e, eParts] = expected.split('-')
  const [r, rParts] = reported.split('-')
  return e === r && (rParts === undefined || rParts === eParts)
}

export interface StoredObject {
  bucket: string
  key: string
  bytes: number
  /** SHA-256 of the object's bytes, hex (what a reader of the object computes). */
  sha256: string
  /** The checksum S3 reports for the object (ChecksumSHA256): full object, or composite `…-N`. */
  expectedChecksum: string
  /** 1 for a single PutObject. */
  parts: number
}

/** PutObject of a small body with its SHA-256 checksum (S3 refuses the body if it does not match). */
export async function putObject(
  s3: Sender<S3Client>,
  target: { bucket: string; key: string; body: Buffer; contentType?: string }
): Promise<StoredObject> {
  const checksum = sha256Base64(target.body)
  await s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: target.body,
      ContentLength: target.body.length,
      ContentType: target.contentType,
      ChecksumSHA256: checksum
    })
  )
  return {
    bucket: target.bucket,
    key: target.key,
    bytes: target.body.length,
    sha256: createHash('sha256').update(target.body).digest('hex'),
    expectedChecksum: checksum,
    parts: 1
  }
}

/** S3's smallest part (but the last) is 5 MiB; 8 MiB keeps the request count low and memory small. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024
/** S3 allows at most 10,000 parts per upload. */
const MAX_PARTS = 10_000
const MIB = 1024 * 1024

/** The part size for a file: `partBytes`, or larger (whole MiB) when 10,000 parts would not hold it. */
export function partSizeFor(fileBytes: number, partBytes = DEFAULT_PART_BYTES): number {
  return Math.max(partBytes, Math.ceil(fileBytes / MAX_PARTS / MIB) * MIB)
}

/** Bytes per read when a file range is hashed or sent (memory per upload: about this much). */
const READ_CHUNK = 256 * 1024

/** A range of a file on disk: what one PutObject or UploadPart sends. */
interface FileRange {
  path: string
  start: number
  length: number
}

/** A stream of the range; it fails when the file holds fewer bytes than the range. */
function readRange(range: FileRange): Readable {
  const { path, start, length } = range
  if (length === 0) return Readable.from([])
  let seen = 0
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length
      done(null, chunk)
    },
    flush(done) {
      done(seen < length ? new Error(`${path} ended early (was it changed during the upload?)`) : null)
    }
  })
  const file = createReadStream(path, { start, end: start + length - 1, highWaterMark: READ_CHUNK })
  // Destroying the returned stream (or a read error) closes the file too; the error reaches the reader.
  return streamPipeline(file, count, () => undefined)
}

/** SHA-256 of a file range, read as a stream (also fed to `whole`, the whole file's hash). */
async function hashRange(range: FileRange, whole: Hash): Promise<Buffer> {
  const hash = createHash('sha256')
  for await (const chunk of readRange(range)) {
    hash.update(chunk as Buffer)
    whole.update(chunk as Buffer)
  }
  return hash.digest()
}

/**
 * Sends a PutObject or UploadPart whose body is a file range, streamed from disk: memory is a
 * read chunk however large the part. A stream cannot be sent twice, so every attempt the SDK
 * makes (its retries run inside send) gets a fresh stream of the range; each is closed when the
 * call ends. The payload's SHA-256 is signed (`x-amz-content-sha256`) and sent as the checksum,
 * both computed before the first byte goes out: S3 refuses a body that differs from them.
 */
async function sendFileRange<O>(
  s3: Sender<S3Client>,
  command: PutObjectCommand | UploadPartCommand,
  range: FileRange,
  sha256: Buffer
): Promise<O> {
  const streams: Readable[] = []
  // A stream that fails (the file shorter than when it was hashed) would leave the request
  // waiting for the rest of its body (the SDK pipes it, and a pipe does not pass errors on):
  // the call is aborted instead, and fails with the stream's error, not retried.
  const abort = new AbortController()
  let failed: unknown = null
  const build: BuildMiddleware<object, object> = next => args => {
    const request = args.request as { headers?: Record<string, string> }
    if (request.headers !== undefined) request.headers['x-amz-content-sha256'] = sha256.toString('hex')
    return next(args)
  }
  const body: FinalizeRequestMiddleware<object, object> = next => args => {
    const stream = readRange(range)
    streams.push(stream)
    stream.on('error', err => {
      failed ??= err
      abort.abort()
    })
    ;(args.request as { body?: unknown }).body = stream
    return next(args)
  }
  const stack = command.middlewareStack as unknown as MiddlewareStack<object, object>
  stack.add(build, { step: 'build', name: 'orphanGuardFileRangeHash' })
  // finalizeRequest, low priority: after the SDK's retry middleware, so once per attempt.
  stack.add(body, { step: 'finalizeRequest', priority: 'low', name: 'orphanGuardFileRangeBody' })
  try {
    return (await s3.send(command as never, { abortSignal: abort.signal })) as O
  } catch (err) {
    throw failed ?? err
  } finally {
    for (const stream of streams) stream.destroy()
  }
}

/**
 * Uploads a file: one PutObject when it fits in one part, else a multipart upload, each request
 * with its SHA-256. Bodies are streamed from the file (hashed in a first read, sent in a second),
 * so memory does not depend on the file or part size, and up to PARALLEL_UPLOADS files go up at
 * once in a few hundred KiB. A failed multipart upload is aborted (best effort: a lifecycle rule
 * with AbortIncompleteMultipartUpload cleans up what an abort could not). The file must not change
 * meanwhile (S3 refuses a part whose bytes differ from the checksum sent); the returned sha256 is
 * of the bytes hashed, which S3 checked are the bytes it stored.
 */
export async function uploadFile(
  s3: Sender<S3Client>,
  target: { bucket: string; key: string; path: string; contentType?: string; partBytes?: number }
): Promise<StoredObject> {
  const { bucket, key, path } = target
  const size = (await stat(path)).size
  const partBytes = partSizeFor(size, target.partBytes)
  const whole = createHash('sha256')
  if (size <= partBytes) {
    const range = { path, start: 0, length: size }
    const digest = await hashRange(range, whole)
    const checksum = digest.toString('base64')
    await sendFileRange(
      s3,
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentLength: size,
        ContentType: target.contentType,
        ChecksumSHA256: checksum
      }),
      range,
      digest
    )
    return { bucket, key, bytes: size, sha256: digest.toString('hex'), expectedChecksum: checksum, parts: 1 }
  }
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: target.contentType,
      ChecksumAlgorithm: 'SHA256'
    })
  )
  const uploadId = created.UploadId
  if (uploadId === undefined)
    throw new Error(`CreateMultipartUpload of s3://${bucket}/${key} returned no UploadId`)
  try {
    const digests: Buffer[] = []
    const parts: CompletedPart[] = []
    for (let start = 0, partNumber = 1; start < size; start += partBytes, partNumber++) {
      const range = { path, start, length: Math.min(partBytes, size - start) }
      const digest = await hashRange(range, whole)
      digests.push(digest)
      const out = await sendFileRange<{ ETag?: string }>(
        s3,
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          ContentLength: range.length,
          ChecksumSHA256: digest.toString('base64')
        }),
        range,
        digest
      )
      parts.push({ PartNumber: partNumber, ETag: out.ETag, ChecksumSHA256: digest.toString('base64') })
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts }
      })
    )
    return {
      bucket,
      key,
      bytes: size,
      sha256: whole.digest('hex'),
      expectedChecksum: compositeSha256(digests),
      parts: parts.length
    }
  } catch (err) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined)
    throw err
  }
}

export interface ObjectHead {
  bytes: number
  /** ChecksumSHA256 as S3 reports it (null when the object has none, or the server does not say). */
  checksumSha256: string | null
  /** FULL_OBJECT or COMPOSITE (null when not reported). */
  checksumType: string | null
  /** The ETag as S3 sends it (quoted), null when not reported. */
  etag?: string | null
}

/** HeadObject with ChecksumMode ENABLED (without it S3 does not return checksums); null when there is no such object. */
export async function headObject(
  s3: Sender<S3Client>,
  bucket: string,
  key: string
): Promise<ObjectHead | null> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }))
    return {
      bytes: out.ContentLength ?? -1,
      checksumSha256: out.ChecksumSHA256 ?? null,
      checksumType: out.ChecksumType ?? null,
      etag: out.ETag ?? null
    }
  } catch (err) {
    if ((err as SdkError).$metadata?.httpStatusCode === 404) return null
    throw err
  }
}

/** An object's bytes as a stream (GetObject); the caller must read it to the end or destroy it. */
export async function readObject(s3: Sender<S3Client>, bucket: string, key: string): Promise<Readable> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  if (out.Body === undefined) throw new Error(`GetObject s3://${bucket}/${key} returned no body`)
  return out.Body as Readable
}

/** SHA-256 (hex) and size of an object, read back in full as a stream (memory: a chunk). */
export async function objectSha256(
  s3: Sender<S3Client>,
  bucket: string,
  key: string
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of await readObject(s3, bucket, key)) {
    hash.update(chunk as Buffer)
    bytes += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), bytes }
}

/**
 * Downloads an object into a file (created or replaced), streamed (memory: a chunk), and returns
 * the SHA-256 (hex) and size of the bytes written.
 */
export async function downloadObject(
  s3: Sender<S3Client>,
  source: { bucket: string; key: string },
  path: string
): Promise<{ sha256: string; md5: string; bytes: number }> {
  const hash = createHash('sha256')
  // MD5 too: DynamoDB's export lists each data file's MD5 (manifest-files.json md5Checksum, base64).
  const md5 = createHash('md5')
  let bytes = 0
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      md5.update(chunk)
      bytes += chunk.length
      done(null, chunk)
    }
  })
  await pipeline(await readObject(s3, source.bucket, source.key), tap, createWriteStream(path))
  return { sha256: hash.digest('hex'), md5: md5.digest('base64'), bytes }
}

/** A small object (a manifest) read whole. */
export async function getObjectBytes(s3: Sender<S3Client>, bucket: string, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await readObject(s3, bucket, key)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A small object read whole; null when there is no such object (404). */
export async function getObjectBytesOrNull(
  s3: Sender<S3Client>,
  bucket: string,
  key: string
): Promise<Buffer | null> {
  try {
    return await getObjectBytes(s3, bucket, key)
  } catch (err) {
    if ((err as SdkError).$metadata?.httpStatusCode === 404 || (err as SdkError).name === 'NoSuchKey')
      return null
    throw err
  }
}

/** How an object compares with what was uploaded. */
export type ObjectCheck = { ok: true; how: 'checksum' | 'read back' } | { ok: false; problem: string }

/**
 * Checks a stored object against what was uploaded: its size, and the SHA-256 checksum S3 reports
 * (HeadObject). When the server reports no checksum, the object is read back and hashed instead.
 */
export async function verifyObject(s3: Sender<S3Client>, stored: StoredObject): Promise<ObjectCheck> {
  const where = `s3://${stored.bucket}/${stored.key}`
  const head = await headObject(s3, stored.bucket, stored.key)
  if (head === null) return { ok: false, problem: `${where} does not exist` }
  if (head.bytes !== stored.bytes)
    return { ok: false, problem: `${where} holds ${head.bytes} bytes, ${stored.bytes} were uploaded` }
  if (head.checksumSha256 !== null) {
    return sameChecksum(stored.expectedChecksum, head.checksumSha256)
      ? { ok: true, how: 'checksum' }
      : {
          ok: false,
          problem: `${where}: S3 reports checksum ${head.checksumSha256}, the upload's is ${stored.expectedChecksum}`
        }
  }
  const read = await objectSha256(s3, stored.bucket, stored.key)
  if (read.bytes !== stored.bytes || read.sha256 !== stored.sha256)
    return {
      ok: false,
      problem: `${where} read back: ${read.bytes} bytes with sha256 ${read.sha256}, the upload's is ${stored.sha256}`
    }
  return { ok: true, how: 'read back' }
}

export interface ListedObject {
  key: string
  bytes: number
  lastModified: Date | null
}

/**
 * Every object under `prefix` (ListObjectsV2, all pages), a page at a time. With a `delimiter`
 * ('/'), keys below the next delimiter are grouped into `prefixes` instead (a "folder" listing).
 */
export async function* listObjects(
  s3: Sender<S3Client>,
  opts: { bucket: string; prefix: string; delimiter?: string; pageSize?: number }
): AsyncGenerator<{ objects: ListedObject[]; prefixes: string[] }> {
  const pages = paginateListObjectsV2(
    { client: asClient(s3, S3Client), pageSize: opts.pageSize },
    { Bucket: opts.bucket, Prefix: opts.prefix, Delimiter: opts.delimiter }
  )
  for await (const out of pages)
    yield {
      objects: (out.Contents ?? []).map(o => ({
        key: o.Key ?? '',
        bytes: o.Size ?? 0,
        lastModified: o.LastModified ?? null
      })),
      prefixes: (out.CommonPrefixes ?? []).flatMap(p => (p.Prefix ? [p.Prefix] : []))
    }
}

/** DeleteObject (S3 answers success also when there is no such object). */
export async function deleteObject(s3: Sender<S3Client>, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
}

/** `s3://bucket/key`, for messages and outputs. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`
}

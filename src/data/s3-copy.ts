/**
 * The copy of an export in S3 (the `s3-bucket` input), in the same layout as on disk (the folder
 * comes from backup-set.ts s3ExportFolder):
 *
 *   <prefix>/<stage>/<table>/<UTC timestamp>/manifest.json
 *   <prefix>/<stage>/<table>/<UTC timestamp>/data/segment-N-of-M.json.gz
 *
 * The data files are DynamoDB's S3-export line format (one `{"Item":{...}}` per line, gzip), so
 * DynamoDB ImportTable reads the `data/` folder as it is (S3KeyPrefix `<folder>/data/`,
 * InputFormat DYNAMODB_JSON, InputCompressionType GZIP). The manifest is the very file written on
 * disk (same bytes): it records the stage, region, account, table ARN and creation time, and each
 * data file's sha256 and item count. It is uploaded last, after every data file is stored and
 * checked: a folder without manifest.json is an unfinished copy and is never a backup.
 *
 * A data file is uploaded the moment the export closes it, streamed from disk (a multipart upload
 * for files over a part; a read chunk in memory, whatever the file's size; at most
 * PARALLEL_UPLOADS at a time), while other segments are still being scanned.
 *
 * When `complete` returns, the copy is verified: every data file's bytes as sent hash to the
 * manifest's sha256, S3's stored checksum of each object equals the one computed from those bytes
 * (or, where the server reports none, the object was read back and hashed), and the manifest read
 * back from S3 is byte for byte the one on disk.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Sender } from '../aws/clients.js'
import { getObjectBytes, putObject, s3Uri, uploadFile, verifyObject, type StoredObject } from '../aws/s3.js'
import { errorMessage } from '../errors.js'
import { MANIFEST_FILE, type BackupManifest, type DataFileEntry } from './manifest.js'

/** Data files uploaded at the same time (each streamed from disk: a read chunk in memory). */
export const PARALLEL_UPLOADS = 4

export interface S3CopyResult {
  bucket: string
  /** Key prefix of the copy, ending in '/'. */
  folder: string
  manifestKey: string
  /** `s3://bucket/…/manifest.json`. */
  manifestUri: string
  /** Size of manifest.json (what a later look-up of the object must find). */
  manifestBytes: number
  /** Objects stored and verified (data files + the manifest). */
  objects: number
  bytes: number
  /** How the objects were verified: by S3's stored checksum, or read back in full. */
  verifiedBy: { checksum: number; readBack: number }
}

/** The copy could not be made or did not verify; nothing in the message is about the table. */
export class S3CopyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'S3CopyError'
  }
}

/**
 * The S3 copy of one export: `addDataFile` as the export closes each file (uploads start at once,
 * a few at a time), `complete` with the manifest once the export is done and checked on disk.
 * After a failure, `settle` waits for the uploads still running (their errors are dropped), so
 * nothing runs on after the caller gave up.
 */
export class S3ExportCopy {
  private readonly uploads = new Map<string, Promise<StoredObject>>()
  private readonly waiting: Array<() => void> = []
  private running = 0

  constructor(
    private readonly s3: Sender<S3Client>,
    readonly bucket: string,
    readonly folder: string,
    private readonly opts: { parallel?: number; partBytes?: number } = {}
  ) {}

  get manifestKey(): string {
    return `${this.folder}${MANIFEST_FILE}`
  }

  /** Starts uploading a finished data file (relative path as in the manifest, absolute path on disk). */
  addDataFile(file: Pick<DataFileEntry, 'path'>, absPath: string): void {
    if (this.uploads.has(file.path)) return
    const upload = this.slot(() =>
      uploadFile(this.s3, {
        bucket: this.bucket,
        key: `${this.folder}${file.path}`,
        path: absPath,
        contentType: 'application/gzip',
        partBytes: this.opts.partBytes
      })
    )
    // Awaited in complete() or settle(); marked handled here so a failure before then is not an
    // unhandled rejection.
    upload.catch(() => undefined)
    this.uploads.set(file.path, upload)
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    while (this.running >= (this.opts.parallel ?? PARALLEL_UPLOADS)) {
      await new Promise<void>(resolve => this.waiting.push(resolve))
    }
    this.running++
    try {
      return await work()
    } finally {
      this.running--
      this.waiting.shift()?.()
    }
  }

  /** Waits for every upload started so far to end, ignoring their errors. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.uploads.values())
  }

  /**
   * Uploads what is left (any data file not added yet, then `dir`/manifest.json last) and verifies the whole copy against the manifest. Throws S3CopyError naming every
   * problem found.
   */
  async complete(manifest: BackupManifest, dir: string): Promise<S3CopyResult> {
    for (const file of manifest.dataFiles) this.addDataFile(file, join(dir, file.path))
    const stored: StoredObject[] = []
    const problems: string[] = []
    for (const file of manifest.dataFiles) {
      const where = s3Uri(this.bucket, `${this.folder}${file.path}`)
      try {
        const object = await (this.uploads.get(file.path) as Promise<StoredObject>)
        if (object.sha256 !== file.sha256)
          problems.push(`${where}: the bytes sent hash to ${object.sha256}, the manifest says ${file.sha256}`)
        stored.push(object)
      } catch (err) {
        problems.push(`uploading ${where} failed: ${errorMessage(err)}`)
      }
    }
    if (problems.length > 0) throw new S3CopyError(problems.join('; '))

    const manifestBytes = await readFile(join(dir, MANIFEST_FILE))
    let manifestObject: StoredObject
    try {
      manifestObject = await putObject(this.s3, {
        bucket: this.bucket,
        key: this.manifestKey,
        body: manifestBytes,
        contentType: 'application/json'
      })
    } catch (err) {
      throw new S3CopyError(
        `uploading ${s3Uri(this.bucket, this.manifestKey)} failed: ${errorMessage(err)}`,
        {
          cause: err
        }
      )
    }

    const verifiedBy = { checksum: 0, readBack: 0 }
    for (const object of stored) {
      const check = await verifyObject(this.s3, object).catch(
        (err: unknown) =>
          ({
            ok: false,
            problem: `checking ${s3Uri(object.bucket, object.key)} failed: ${errorMessage(err)}`
          }) as const
      )
      if (!check.ok) problems.push(check.problem)
      else if (check.how === 'checksum') verifiedBy.checksum++
      else verifiedBy.readBack++
    }
    // The manifest is read back whole whatever the server reports: it is small, and it is what a
    // restore from S3 starts from.
    try {
      const back = await getObjectBytes(this.s3, this.bucket, this.manifestKey)
      if (!back.equals(manifestBytes))
        problems.push(`${s3Uri(this.bucket, this.manifestKey)} read back differs from the manifest on disk`)
      else verifiedBy.readBack++
    } catch (err) {
      problems.push(`reading back ${s3Uri(this.bucket, this.manifestKey)} failed: ${errorMessage(err)}`)
    }
    if (problems.length > 0) throw new S3CopyError(problems.join('; '))

    return {
      bucket: this.bucket,
      folder: this.folder,
      manifestKey: this.manifestKey,
      manifestUri: s3Uri(this.bucket, this.manifestKey),
      manifestBytes: manifestObject.bytes,
      objects: stored.length + 1,
      bytes: stored.reduce((sum, o) => sum + o.bytes, manifestObject.bytes),
      verifiedBy
    }
  }
}

/**
 * How a verified restore is recorded in AWS, where a later run on any runner finds it
 * (inspect/owed-restores.ts reads it): the marker object RESTORED_MARKER in the set's S3 folder and
 * the tag RESTORED_TAG on the restored table (data/backup-set.ts names both). Phase restore, the
 * server-side path and the pre-deploy run that finds an adopted table's restore unrecorded all
 * record through recordRestore, so the record has one shape.
 */
import { join } from 'node:path'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Sender } from '../aws/clients.js'
import { tagTable } from '../aws/dynamodb-write.js'
import { putObject, s3Uri } from '../aws/s3.js'
import { errorMessage, OperationError } from '../errors.js'
import type { Logger } from '../types.js'
import { RESTORED_MARKER, RESTORED_TAG, restoredTagValue } from './backup-set.js'
import { writeFileAtomic } from './manifest.js'

/**
 * What the step log says of a restore whose only record is the tag (no s3-bucket): it goes with the
 * table, and nothing in AWS then tells the restore from one never made.
 */
export const TAG_ONLY_RECORD =
  'the only record of this restore: it goes with the table, so if the table is deleted outside the action (a stack destroyed), this backup looks owed again and is loaded into the next one; with s3-bucket, a restored.json beside the copy outlives the table'

/** The body of RESTORED_MARKER. */
export interface RestoreRecord {
  table: string
  stage: string
  /** When the set was taken, ISO 8601. */
  backupTakenAt: string
  /** Where the items came from: backup-dir, s3, aws-backup. */
  source: string
  /** The copy loaded (a manifest path or URI, a backup ARN). */
  backup: string
  /** How, when not through the runner: 'ImportTable' (the server-side path), with its import. */
  via?: string
  importArn?: string
  /** The table instance restored into. */
  target: { arn: string; createdAt: string }
  items: number
  contentDigest: string
  restoredAt: string
}

/**
 * Records a verified restore of the set `timestamp` of `stage`: the marker in the set's S3 folder
 * (when the set has one), the tag on `record.target.arn`, and a marker in `localDir` (the set's
 * folder on the runner, when given). One of the two records in AWS is enough (each is what a later
 * lookup reads); none written throws an OperationError saying `what` was done and whose state
 * `unrecorded` describes. Returns what was written, for the step log.
 */
export async function recordRestore(
  clients: { s3: Sender<S3Client>; dynamodb: Sender<DynamoDBClient> },
  opts: {
    record: RestoreRecord
    timestamp: string
    /** The set's folder in the bucket (its key prefix, ending in '/'); null without s3-bucket. */
    s3: { bucket: string; folder: string } | null
    localDir?: string | null
    logger: Logger
    /** "restored and verified", "imported, verified and in its stack": what the error says was done. */
    what: string
    /** The error's state: what the failure leaves and how to go on. */
    unrecorded: string
  }
): Promise<string> {
  const { record } = opts
  const table = record.table
  const value = restoredTagValue(record.stage, opts.timestamp)
  const body = `${JSON.stringify(record, null, 2)}\n`
  const done: string[] = []
  const failed: string[] = []
  if (opts.s3 !== null) {
    const key = `${opts.s3.folder}${RESTORED_MARKER}`
    try {
      await putObject(clients.s3, {
        bucket: opts.s3.bucket,
        key,
        body: Buffer.from(body),
        contentType: 'application/json'
      })
      done.push(s3Uri(opts.s3.bucket, key))
    } catch (err) {
      failed.push(`PutObject ${s3Uri(opts.s3.bucket, key)}: ${errorMessage(err)} (grant s3:PutObject)`)
    }
  }
  try {
    if (!record.target.arn) throw new Error('the table has no ARN')
    await tagTable(clients.dynamodb, record.target.arn, { [RESTORED_TAG]: value })
    done.push(`tag ${RESTORED_TAG}=${value}${opts.s3 === null ? ` (${TAG_ONLY_RECORD})` : ''}`)
  } catch (err) {
    failed.push(`TagResource on ${table}: ${errorMessage(err)} (grant dynamodb:TagResource)`)
  }
  if (opts.localDir)
    await writeFileAtomic(join(opts.localDir, RESTORED_MARKER), body).catch((err: unknown) =>
      opts.logger.warning(`${table}: ${errorMessage(err)}`)
    )
  if (done.length === 0)
    throw new OperationError(
      `${table} is ${opts.what}, but the restore could not be recorded: ${failed.join('; ')}`,
      opts.unrecorded
    )
  for (const f of failed) opts.logger.warning(`${table}: recording the restore: ${f}`)
  return done.join('; ')
}

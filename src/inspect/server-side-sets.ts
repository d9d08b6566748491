/**
 * Server-side restores an earlier run left unfinished, found in AWS alone (read-only): for a table
 * of the stage, the newest backup set in `s3-bucket` (`<prefix>/<stage>/<table>/<timestamp>/`,
 * data/backup-set.ts) that is a copy for ImportTable (its manifest's `serverSide`), whose restore is
 * not recorded (no RESTORED_MARKER), and whose source table is gone (the live table, if any, is
 * another instance). What the set's import record (IMPORT_RECORD) names is read back too: the
 * import's ARN and status, and whether the live table is the one that import created (its
 * CreationDateTime at or after the import began, and DynamoDB naming that table as the import's).
 *
 * The plan resumes such a restore (execute/server-side.ts resumeServerSide) instead of letting the
 * deploy create an empty table: ImportTable again, or wait for the import still running, or verify
 * and adopt the table it created, and never a second import while the table of the first exists.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import type { RegionalClients, Sender } from '../aws/clients.js'
import { describeTableOrNull } from '../aws/dynamodb-read.js'
import { describeImport, listTableImports } from '../aws/dynamodb-transfer.js'
import { getObjectBytes, headObject, listObjects, s3Uri } from '../aws/s3.js'
import { IMPORT_RECORD, RESTORED_MARKER, s3TableFolder, timestampToIso } from '../data/backup-set.js'
import { MANIFEST_FILE } from '../data/manifest.js'
import { errorMessage } from '../errors.js'
import { isRecord, type Finding, type S3Location, type ServerSideResume } from '../types.js'
import { mapWithConcurrency } from './pool.js'

const CONCURRENCY = 4

function iso(d: Date | undefined): string | null {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null
}

async function readJson(s3: Sender<S3Client>, bucket: string, key: string): Promise<unknown> {
  if ((await headObject(s3, bucket, key)) === null) return null
  return JSON.parse((await getObjectBytes(s3, bucket, key)).toString('utf8')) as unknown
}

/** The newest set timestamp of a table's folder in the bucket (null when there is none). */
async function newestSet(s3: Sender<S3Client>, location: S3Location, stage: string, table: string) {
  const prefix = s3TableFolder(location, stage, table)
  let newest: string | null = null
  for await (const page of listObjects(s3, { bucket: location.bucket, prefix, delimiter: '/' })) {
    for (const p of page.prefixes) {
      const stamp = p.slice(prefix.length).replace(/\/$/, '')
      if (timestampToIso(stamp) !== null && (newest === null || stamp > newest)) newest = stamp
    }
  }
  return newest === null ? null : { timestamp: newest, folder: `${prefix}${newest}/` }
}

/** What a set's folder says; null when it is no unfinished server-side restore of this stage and table. */
async function resumeOf(
  s3: Sender<S3Client>,
  ddb: Sender<DynamoDBClient>,
  location: S3Location,
  stage: string,
  finding: Finding
): Promise<ServerSideResume | null> {
  const table = finding.tableName
  const set = await newestSet(s3, location, stage, table)
  if (set === null) return null
  const manifestKey = `${set.folder}${MANIFEST_FILE}`
  const manifest = await readJson(s3, location.bucket, manifestKey)
  if (!isRecord(manifest) || !isRecord(manifest.serverSide) || !isRecord(manifest.table)) return null
  if (manifest.stage !== stage || manifest.table.name !== table || manifest.table.region !== finding.region)
    return null
  if ((await headObject(s3, location.bucket, `${set.folder}${RESTORED_MARKER}`)) !== null) return null

  const described = await describeTableOrNull(ddb, table)
  const createdAt = iso(described?.CreationDateTime)
  // The table the copy was taken of still exists: nothing was deleted, nothing is owed.
  if (described !== null && createdAt !== null && createdAt === manifest.table.createdAt) return null

  const record = await readJson(s3, location.bucket, `${set.folder}${IMPORT_RECORD}`)
  const importArn = isRecord(record) && typeof record.importArn === 'string' ? record.importArn : null
  const requestedAt = isRecord(record) && typeof record.requestedAt === 'string' ? record.requestedAt : null
  let imported: ServerSideResume['import'] = null
  if (importArn !== null) {
    const state = await describeImport(ddb, importArn)
    imported = { arn: state.arn, status: state.status, startTime: state.startTime, tableArn: state.tableArn }
  } else if (requestedAt !== null && described?.TableArn) {
    // The run stopped between ImportTable and recording its ARN: DynamoDB lists the imports into the table.
    const prefix = isRecord(manifest.serverSide) ? String(manifest.serverSide.dataPrefix) : ''
    // Not found (or ListImports not allowed): the table counts as someone else's, and is not touched.
    const found = (await listTableImports(ddb, described.TableArn).catch(() => [])).find(
      i => i.bucket === location.bucket && i.keyPrefix === prefix
    )
    if (found)
      imported = {
        arn: found.arn,
        status: found.status,
        startTime: found.startTime,
        tableArn: described.TableArn
      }
  }
  let live: ServerSideResume['live'] = 'absent'
  if (described !== null) {
    const started = imported?.startTime ?? requestedAt
    const fromImport =
      imported !== null &&
      imported.tableArn === described.TableArn &&
      started !== null &&
      createdAt !== null &&
      Date.parse(createdAt) >= Date.parse(started) - 1000
    live = fromImport ? 'from-import' : 'other'
  }
  return {
    bucket: location.bucket,
    folder: set.folder,
    timestamp: set.timestamp,
    manifestKey,
    manifestUri: s3Uri(location.bucket, manifestKey),
    import: imported,
    importRequestedAt: requestedAt,
    live
  }
}

/**
 * The findings, each with the unfinished server-side restore of its table (`serverSideResume`)
 * where there is one. Tables another account's stack declares, and tables owned by their stack, are
 * not looked at. A lookup that fails is a problem of that finding, never a failure of the check.
 */
export async function withServerSideResumes(
  clients: RegionalClients,
  findings: Finding[],
  opts: { stage: string; s3Bucket: S3Location }
): Promise<Finding[]> {
  const s3 = clients.forRegion(clients.defaultRegion).s3
  return mapWithConcurrency(findings, CONCURRENCY, async f => {
    if (f.notCheckable || f.owner === 'stack' || f.spec.properties === null) return f
    try {
      const resume = await resumeOf(s3, clients.forRegion(f.region).dynamodb, opts.s3Bucket, opts.stage, f)
      return resume ? { ...f, serverSideResume: resume } : f
    } catch (err) {
      return {
        ...f,
        problems: [
          ...f.problems,
          `an unfinished server-side restore could not be looked up in ${s3Uri(opts.s3Bucket.bucket, s3TableFolder(opts.s3Bucket, opts.stage, f.tableName))} (${errorMessage(err)})`
        ]
      }
    }
  })
}

/**
 * What the next run needs to resume a server-side restore (execute/server-side.ts) that an earlier
 * run left unfinished. Which restore is owed is not decided here: that is the owed-restore lookup's
 * (inspect/owed-restores.ts), the one place that recognises this action's backups. A table whose
 * owed set has an S3 copy made for ImportTable (its manifest's `serverSide`) gets, from the set's own
 * folder, what its import record (IMPORT_RECORD) names: the import's ARN and status now, and whether
 * the live table is the one that import created (DynamoDB naming it as the import's table, created
 * after the import began), and whether an earlier run verified that table (IMPORTED_TAG).
 *
 * The plan resumes such a restore instead of letting the deploy create an empty table: ImportTable
 * again, or the import still running waited for, or the table it created verified and adopted; never
 * a second import while the table of the first exists.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { S3Client } from '@aws-sdk/client-s3'
import type { RegionalClients, Sender } from '../aws/clients.js'
import { describeTableOrNull } from '../aws/dynamodb-read.js'
import { describeImport, listTableImports } from '../aws/dynamodb-transfer.js'
import { getObjectBytesOrNull } from '../aws/s3.js'
import { IMPORT_RECORD, restoredTagValue } from '../data/backup-set.js'
import { errorMessage } from '../errors.js'
import { isRecord, type Finding, type ServerSideResume } from '../types.js'
import type { TableRestoreState } from './owed-restores.js'
import { mapWithConcurrency } from './pool.js'

const CONCURRENCY = 4

function iso(d: Date | undefined): string | null {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null
}

async function readJson(s3: Sender<S3Client>, bucket: string, key: string): Promise<unknown> {
  const bytes = await getObjectBytesOrNull(s3, bucket, key)
  return bytes === null ? null : (JSON.parse(bytes.toString('utf8')) as unknown)
}

/** The resume of an owed server-side set; null when the owed restore is not one (or nothing is owed). */
async function resumeOf(
  s3: Sender<S3Client>,
  ddb: Sender<DynamoDBClient>,
  stage: string,
  state: TableRestoreState
): Promise<ServerSideResume | null> {
  const owed = state.state
  if (owed.kind !== 'owed') return null
  const copy = owed.set.s3
  const serverSide = copy?.manifest.serverSide
  if (!copy || !serverSide) return null
  const table = state.table

  const record = await readJson(s3, copy.bucket, `${copy.folder}${IMPORT_RECORD}`)
  const importArn = isRecord(record) && typeof record.importArn === 'string' ? record.importArn : null
  const requestedAt = isRecord(record) && typeof record.requestedAt === 'string' ? record.requestedAt : null
  const described = state.live === null ? null : await describeTableOrNull(ddb, table)
  const createdAt = iso(described?.CreationDateTime)
  let imported: ServerSideResume['import'] = null
  if (importArn !== null) {
    const now = await describeImport(ddb, importArn)
    imported = { arn: now.arn, status: now.status, startTime: now.startTime, tableArn: now.tableArn }
  } else if (requestedAt !== null && described?.TableArn) {
    // The run stopped between ImportTable and recording its ARN: DynamoDB lists the imports into the table.
    // Not found (or ListImports not allowed): the table counts as someone else's, and is not touched.
    const found = (await listTableImports(ddb, described.TableArn).catch(() => [])).find(
      i => i.bucket === serverSide.bucket && i.keyPrefix === serverSide.dataPrefix
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
    bucket: copy.bucket,
    folder: copy.folder,
    timestamp: owed.set.timestamp,
    manifestKey: copy.manifestKey,
    manifestUri: copy.uri,
    backupArn: owed.set.onDemand?.arn ?? null,
    import: imported,
    importRequestedAt: requestedAt,
    live,
    verified:
      live === 'from-import' && state.live?.importedFrom === restoredTagValue(stage, owed.set.timestamp)
  }
}

/**
 * The findings, each with the unfinished server-side restore of its table (`serverSideResume`) where
 * the owed-restore lookup found one. Tables another account's stack declares are not looked at. A
 * table its stack owns gets one only when it is that restore's table, verified and adopted, with
 * just the record missing (the run stopped between the IMPORT change set and recording it): the
 * run records it; any other table in its stack is the deploy's, and phase restore loads the copy
 * into it. A lookup that fails is a problem of that finding, never a failure of the check.
 */
export async function withServerSideResumes(
  clients: RegionalClients,
  findings: Finding[],
  opts: { stage: string; states: TableRestoreState[] }
): Promise<Finding[]> {
  const s3 = clients.forRegion(clients.defaultRegion).s3
  return mapWithConcurrency(findings, CONCURRENCY, async f => {
    if (f.notCheckable) return f
    const state = opts.states.find(s => s.table === f.tableName && s.region === f.region)
    if (state === undefined) return f
    if (f.owner === 'stack') {
      // Only what makes the restore done; anything else about it is phase restore's business.
      const resume = await resumeOf(s3, clients.forRegion(f.region).dynamodb, opts.stage, state).catch(
        () => null
      )
      return resume?.live === 'from-import' && resume.verified ? { ...f, serverSideResume: resume } : f
    }
    if (f.spec.properties === null) return f
    if (state.state.kind === 'problem')
      return { ...f, owedRestoreUnknown: `its owed restore could not be looked up: ${state.state.why}` }
    try {
      const resume = await resumeOf(s3, clients.forRegion(f.region).dynamodb, opts.stage, state)
      return resume ? { ...f, serverSideResume: resume } : f
    } catch (err) {
      const where = state.state.kind === 'owed' ? state.state.backup : f.tableName
      const why = `the unfinished server-side restore from ${where} could not be looked up (${errorMessage(err)})`
      return { ...f, problems: [...f.problems, why], owedRestoreUnknown: why }
    }
  })
}

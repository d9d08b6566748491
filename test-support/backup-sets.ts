/**
 * Backup sets as the pre-deploy step leaves them (data/backup-set.ts), made directly against an
 * emulator so that the owed-restore and restore tests can put exactly the sets they need in place:
 * the export in backup-dir, its copy in S3 (data files, then the manifest, as the S3 copy writes
 * them), and the on-demand backup named after the same timestamp.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../src/aws/clients.js'
import { createOnDemandBackup } from '../src/aws/backup.js'
import { waitForTable } from '../src/aws/dynamodb-write.js'
import { putObject, s3Uri, uploadFile } from '../src/aws/s3.js'
import {
  backupTimestamp,
  DELETE_INTENT_FORMAT,
  DELETING_MARKER,
  deleteIntentText,
  onDemandBackupName,
  s3ExportFolder,
  type BackupPurpose,
  type DeleteIntent
} from '../src/data/backup-set.js'
import { exportTable } from '../src/data/export.js'
import { MANIFEST_FILE, type BackupManifest } from '../src/data/manifest.js'
import { ttlWindow } from '../src/data/ttl.js'
import { systemClock, type Logger, type S3Location } from '../src/types.js'

const quiet: Logger = { info: () => {}, warning: () => {}, debug: () => {} }

export interface BackupSetMade {
  timestamp: string
  /** The export in backup-dir. */
  manifestPath: string
  manifest: BackupManifest
  /** `s3://…/manifest.json` of the S3 copy (null without one). */
  s3Uri: string | null
  /** The on-demand backup (null without one). */
  backupArn: string | null
}

/**
 * Exports `table` at time `at` into `<backupDir>/<table>/<timestamp>/` and, as asked, copies it to S3
 * (`s3`; `s3Manifest` replaces the manifest's bytes there, to make a foreign or damaged copy) and
 * takes the on-demand backup (`onDemand`, named for `purpose`). Unless `deleteRecorded` is false
 * (a run that stopped before its delete), the set records that the action goes on to delete the
 * table (DELETING_MARKER in its S3 and backup-dir folders, as execute/table-ops.ts deleteForRestore
 * writes it right before DeleteTable).
 */
export async function takeBackupSet(
  clients: AwsClients,
  opts: {
    table: string
    stage: string
    at: number
    backupDir: string
    region?: string
    s3?: S3Location
    s3Manifest?: (manifest: BackupManifest, text: string) => string
    onDemand?: boolean
    purpose?: BackupPurpose
    deleteRecorded?: boolean
    /** The table's TTL attribute: the export sets items apart by a window from `at`, as the pre-deploy step does. */
    ttlAttribute?: string
  }
): Promise<BackupSetMade> {
  const timestamp = backupTimestamp(opts.at)
  const clock = { now: () => opts.at, sleep: async () => undefined }
  let backupArn: string | null = null
  if (opts.onDemand === true) {
    const b = await createOnDemandBackup(
      clients.dynamodb,
      { table: opts.table, backupName: onDemandBackupName(opts.stage, opts.purpose ?? 'restore', opts.at) },
      { ...clock, maxWaitMs: 60_000, pollMs: 100 }
    )
    backupArn = b.arn
  }
  const dir = join(opts.backupDir, opts.table, timestamp)
  const manifest = await exportTable(clients.dynamodb, {
    table: opts.table,
    dir,
    region: opts.region ?? 'us-east-1',
    stage: opts.stage,
    logger: quiet,
    clock,
    ...(opts.ttlAttribute ? { ttl: ttlWindow(opts.ttlAttribute, opts.at) } : {})
  })
  const manifestPath = join(dir, MANIFEST_FILE)
  let uri: string | null = null
  if (opts.s3) {
    const folder = s3ExportFolder(opts.s3, opts.stage, opts.table, timestamp)
    for (const file of manifest.dataFiles)
      await uploadFile(clients.s3, {
        bucket: opts.s3.bucket,
        key: `${folder}${file.path}`,
        path: join(dir, file.path)
      })
    const text = await readFile(manifestPath, 'utf8')
    const body = opts.s3Manifest ? opts.s3Manifest(manifest, text) : text
    await putObject(clients.s3, {
      bucket: opts.s3.bucket,
      key: `${folder}${MANIFEST_FILE}`,
      body: Buffer.from(body)
    })
    uri = s3Uri(opts.s3.bucket, `${folder}${MANIFEST_FILE}`)
  }
  if (opts.deleteRecorded !== false) {
    const intent: DeleteIntent = {
      format: DELETE_INTENT_FORMAT,
      stage: opts.stage,
      timestamp,
      table: { name: opts.table, arn: manifest.table.arn ?? '', createdAt: manifest.table.createdAt ?? null },
      backupArn,
      at: new Date(opts.at).toISOString()
    }
    const body = Buffer.from(deleteIntentText(intent))
    await writeFile(join(dir, DELETING_MARKER), body)
    if (opts.s3)
      await putObject(clients.s3, {
        bucket: opts.s3.bucket,
        key: `${s3ExportFolder(opts.s3, opts.stage, opts.table, timestamp)}${DELETING_MARKER}`,
        body
      })
  }
  return { timestamp, manifestPath, manifest, s3Uri: uri, backupArn }
}

/**
 * Marks an export in backup-dir as the action leaves it right before its DeleteTable
 * (DELETING_MARKER beside the manifest), for tests that delete the table themselves; returns the path.
 */
export function recordDeleteLocally(manifestPath: string, tableArn = ''): string {
  const dir = dirname(manifestPath)
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest
  const intent: DeleteIntent = {
    format: DELETE_INTENT_FORMAT,
    stage: manifest.stage ?? '',
    timestamp: basename(dir),
    table: { name: basename(dirname(dir)), arn: tableArn, createdAt: null },
    backupArn: null,
    at: new Date().toISOString()
  }
  writeFileSync(join(dir, DELETING_MARKER), deleteIntentText(intent))
  return manifestPath
}

/** The manifest text with some fields replaced (a copy of another stage, region or account). */
export function alteredManifest(change: (m: BackupManifest) => void): (m: BackupManifest) => string {
  return m => {
    const copy = JSON.parse(JSON.stringify(m)) as BackupManifest
    change(copy)
    return `${JSON.stringify(copy, null, 2)}\n`
  }
}

/** DeleteTable and wait until it is gone (what the pre-deploy step does after the backup). */
export async function dropTable(clients: AwsClients, table: string): Promise<void> {
  await clients.dynamodb.send(new DeleteTableCommand({ TableName: table }))
  await waitForTable(clients.dynamodb, table, 'GONE', { ...systemClock, maxWaitMs: 30_000, pollMs: 50 })
}

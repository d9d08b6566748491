/**
 * How this action's backups are named, so that a later run on a fresh runner finds them in AWS,
 * and how their restore is recorded there.
 *
 * A backup *set* is what one run took of one table at one moment, every copy named by the same
 * UTC timestamp (`20250304T050607Z`):
 *   - the export on the runner: `<backup-dir>/<table>/<timestamp>/manifest.json` (+ `data/`);
 *   - its copy in S3 (`s3-bucket`): `<prefix>/<stage>/<table>/<timestamp>/manifest.json`; the
 *     manifest records stage, region, account, table ARN and creation time;
 *   - the on-demand backup: `orphan-guard_<timestamp>_<purpose>_<stage>` (ListBackups gives the
 *     table, its ARN and the region and account in the backup ARN; the name gives the stage).
 *
 * `purpose` says why the backup was taken: `restore` (backup-restore: the data goes back after the
 * deploy) or `delete` (the safety net of strategy delete: never restored by the action).
 *
 * That this action deleted the table a set was taken of is recorded too, in AWS, right before the
 * DeleteTable (after the last safety check): DELETING_MARKER in the set's S3 folder. A set with an
 * S3 folder but without it is never owed: its run stopped before the delete, so a table that is gone
 * since was deleted some other way and the set is not what it last held. A set with only an
 * on-demand backup is taken right before the delete (after every verification), so its existence
 * is the record (execute/table-ops.ts deleteForRestore).
 *
 * A restore is recorded where a runner cannot fake it: the marker object RESTORED_MARKER in the
 * set's S3 folder, and the tag RESTORED_TAG on the restored table (see the README, "How a restore
 * is remembered").
 */
import type { S3Location } from '../types.js'

export const BACKUP_NAME_PREFIX = 'orphan-guard'
export const BACKUP_PURPOSES = ['restore', 'delete'] as const
export type BackupPurpose = (typeof BACKUP_PURPOSES)[number]

/** Written in the set's S3 folder once a restore from the set is verified. */
export const RESTORED_MARKER = 'restored.json'
/** Written in the set's S3 folder (and its backup-dir folder) right before DeleteTable: a DeleteIntent. */
export const DELETING_MARKER = 'deleting.json'
export const DELETE_INTENT_FORMAT = 'dynamodb-orphan-guard/deleting@1'

/** The body of DELETING_MARKER: which table instance this action deleted, and when it decided to. */
export interface DeleteIntent {
  format: typeof DELETE_INTENT_FORMAT
  stage: string
  /** The set's timestamp. */
  timestamp: string
  table: { name: string; arn: string; createdAt: string | null }
  /** The set's on-demand backup (null without aws-backup). */
  backupArn: string | null
  /** When it was written, ISO 8601: DeleteTable follows it at once. */
  at: string
}

/** A DELETING_MARKER's text (what parseDeleteIntent reads). */
export function deleteIntentText(intent: DeleteIntent): string {
  return `${JSON.stringify(intent, null, 2)}\n`
}

/** A DELETING_MARKER's text as a DeleteIntent; null when it is not one. */
export function parseDeleteIntent(text: string): DeleteIntent | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  const d = v as Partial<DeleteIntent> | null
  if (d === null || typeof d !== 'object' || d.format !== DELETE_INTENT_FORMAT) return null
  if (typeof d.table?.name !== 'string' || typeof d.table.arn !== 'string') return null
  return d as DeleteIntent
}

/** Tag on a restored table: `<stage>/<timestamp>` of the set it was restored from. */
export const RESTORED_TAG = 'dynamodb-orphan-guard:restored-from'
/**
 * Tag on a table that ImportTable created from a set (the server-side path of backup-restore) and
 * that was verified against it: `<stage>/<timestamp>`. A run that finds such a table outside its
 * stack imports it into the stack (adopts it) rather than copying it again.
 */
export const IMPORTED_TAG = 'dynamodb-orphan-guard:created-by-import'
/**
 * Tag on the target of a restore of a set, put before its first write: `<stage>/<timestamp>`. A
 * restore cut short on one runner is resumed on another (which has no checkpoint) into the table
 * that carries it, from the first item (data/restore.ts restartMark).
 */
export const RESTORING_TAG = 'dynamodb-orphan-guard:restoring'
/** Tag on a temporary table of a restore from an on-demand backup: the table it is restored for. */
export const TEMPORARY_TAG = 'dynamodb-orphan-guard:temporary-restore-of'

const TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** The set's timestamp: UTC to the second, no separators (`20250304T050607Z`). */
export function backupTimestamp(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/** `20250304T050607Z` → `2025-03-04T05:06:07Z`; null when it is not a set timestamp. */
export function timestampToIso(stamp: string): string | null {
  const m = TIMESTAMP.exec(stamp)
  if (m === null) return null
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`
  return Number.isNaN(Date.parse(iso)) ? null : iso
}

/** The on-demand backup's name (BackupName allows `[a-zA-Z0-9_.-]`, as the stage input does). */
export function onDemandBackupName(stage: string, purpose: BackupPurpose, epochMs: number): string {
  return `${BACKUP_NAME_PREFIX}_${backupTimestamp(epochMs)}_${purpose}_${stage}`
}

export interface ParsedBackupName {
  timestamp: string
  /** ISO 8601. */
  takenAt: string
  purpose: BackupPurpose
  stage: string
}

/**
 * The parts of one of this action's backup names; null for any other name. The timestamp has a
 * fixed width and the purpose a fixed set of values, so a stage holding `_` parses unambiguously.
 */
export function parseOnDemandBackupName(name: string): ParsedBackupName | null {
  const m = /^orphan-guard_(\d{8}T\d{6}Z)_(restore|delete)_([A-Za-z0-9._-]{1,64})$/.exec(name)
  if (m === null) return null
  const takenAt = timestampToIso(m[1] as string)
  if (takenAt === null) return null
  return { timestamp: m[1] as string, takenAt, purpose: m[2] as BackupPurpose, stage: m[3] as string }
}

function withPrefix(location: S3Location, rest: string): string {
  return `${location.prefix === '' ? '' : `${location.prefix}/`}${rest}`
}

/** The key prefix (ending in '/') under which every export of a stage lives. */
export function s3StageFolder(location: S3Location, stage: string): string {
  return withPrefix(location, `${stage}/`)
}

/** The key prefix (ending in '/') of one table's exports: `<prefix>/<stage>/<table>/`. */
export function s3TableFolder(location: S3Location, stage: string, table: string): string {
  return withPrefix(location, `${stage}/${table}/`)
}

/** The key prefix (ending in '/') of one export: `<prefix>/<stage>/<table>/<timestamp>/`. */
export function s3ExportFolder(
  location: S3Location,
  stage: string,
  table: string,
  timestamp: string
): string {
  return withPrefix(location, `${stage}/${table}/${timestamp}/`)
}

/**
 * The record of a server-side restore's ImportTable in the set's S3 folder, written before the call
 * (its client token) and again with the import's ARN: a run that stops while DynamoDB imports finds
 * the import, and the table it creates, through it.
 */
export const IMPORT_RECORD = 'import.json'

/** The value of RESTORED_TAG for a set. */
export function restoredTagValue(stage: string, timestamp: string): string {
  return `${stage}/${timestamp}`
}

/**
 * The temporary table a restore from an on-demand backup goes through: its name says what it is,
 * which set it belongs to and for which table (cut to DynamoDB's 255 characters).
 */
export function temporaryTableName(table: string, timestamp: string): string {
  return `${BACKUP_NAME_PREFIX}-restore_${timestamp}_${table}`.slice(0, 255)
}

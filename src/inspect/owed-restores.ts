/**
 * Owed restores, found in AWS alone (a fresh runner knows nothing): for each table of the stage,
 * the backup this action took of it whose data has not been put back.
 *
 * The candidates are the table's backup sets (data/backup-set.ts): the folders under
 * `<prefix>/<stage>/<table>/` in the `s3-bucket`, the on-demand backups that ListBackups lists for
 * the table (also after the table is gone) whose name says this action took them for this stage,
 * and this run's own exports in backup-dir. Copies of one set share its timestamp.
 *
 * Only the newest of this action's backup-restore sets of a table can be owed: an older one was
 * followed by a newer backup of a later state. It is owed only when this action recorded that it
 * deleted the table the set was taken of (data/backup-set.ts DELETING_MARKER in the set's S3
 * folder; a set without an S3 folder: its on-demand backup, taken right before the delete), and
 * unless
 *   - its restore is recorded: the marker object `restored.json` in its S3 folder, or the tag
 *     `dynamodb-orphan-guard:restored-from` = `<stage>/<timestamp>` on the table;
 *   - the table it was taken of still exists (same creation time; without one recorded, a table
 *     created before the backup was taken): nothing was deleted, nothing is owed;
 *   - a newer safety-net backup of strategy delete was taken of that same table: it was still there
 *     then, so this set is not what the table last held;
 *   - a newer safety-net backup of strategy delete was taken of a later instance (created after the
 *     set was taken) that is gone: superseded. The action never deletes a table that is owed a
 *     restore (plan.ts owedRestoreBlocker, re-checked by execute/safety.ts), so that instance had
 *     been given this set, or its owner let it go; without s3-bucket the tag that recorded its
 *     restore went with it, and without this rule the stale set would be written into the next one.
 * A restored table deleted outside the action (a stack destroyed) takes a tag-only record with it:
 * without s3-bucket (whose restored.json outlives the table) nothing in AWS tells that apart from a
 * restore never made, and the set looks owed again (the README says so).
 * Copies of another stage, region or account are named in the notes and never used; a set with a
 * damaged manifest and no other copy makes the table's restore unusable (reported), and older sets
 * are not loaded instead: they are older than what the table last held.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { AwsClients, RegionalClients, Sender } from '../aws/clients.js'
import { describeBackup, listTableBackups, type BackupSummary } from '../aws/backup.js'
import { describeTableOrNull, isUnsupportedOperation, listAllTags } from '../aws/dynamodb-read.js'
import { access } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { getObjectBytesOrNull, headObject, listObjects, s3Uri } from '../aws/s3.js'
import {
  DELETING_MARKER,
  IMPORTED_TAG,
  parseDeleteIntent,
  parseOnDemandBackupName,
  RESTORED_MARKER,
  RESTORED_TAG,
  restoredTagValue,
  s3ExportFolder,
  s3TableFolder,
  temporaryTableName,
  timestampToIso,
  type ParsedBackupName
} from '../data/backup-set.js'
import {
  MANIFEST_FILE,
  parseManifest,
  readManifest,
  TOOL_NAME,
  type BackupManifest
} from '../data/manifest.js'
import { errorMessage } from '../errors.js'
import type { PendingRestore, RestoreSource, S3Location } from '../types.js'
import { mapWithConcurrency } from './pool.js'

/** Tables looked at in parallel (each a handful of calls). */
const CONCURRENCY = 4

/** A table of the stage, in the region the deploy creates it in. */
export interface StageTable {
  name: string
  region: string
}

export interface OwedRestoreInput {
  stage: string
  /** The credentials' account; null when unknown (then the table's own ARN names it, where it exists). */
  account: string | null
  /** The bucket is read with the clients of the action's `aws-region` (where it must be). */
  s3Bucket: S3Location | null
  tables: StageTable[]
  /** Manifests this run wrote in backup-dir (`<backup-dir>/<table>/<timestamp>/manifest.json`). */
  localManifests: string[]
}

export interface BackupSet {
  table: string
  timestamp: string
  /** When it was taken, ISO 8601: to the millisecond where a copy says so, else the timestamp's second. */
  takenAt: string
  /** CreationDateTime of the table instance it was taken of (null when no copy records it). */
  sourceCreatedAt: string | null
  local: { manifestPath: string; manifest: BackupManifest } | null
  s3: { bucket: string; folder: string; manifestKey: string; uri: string; manifest: BackupManifest } | null
  onDemand: { arn: string; name: string } | null
  /** The set's folder in the bucket (its key prefix) when the bucket holds one, readable or not. */
  s3Folder: string | null
}

export type RestoreState =
  | { kind: 'none' }
  | { kind: 'owed'; set: BackupSet; source: RestoreSource; backup: string }
  | { kind: 'restored'; set: BackupSet; record: string }
  | { kind: 'not-owed'; set: BackupSet; why: string }
  | { kind: 'problem'; why: string }

export interface LiveInstance {
  arn: string
  /** CreationDateTime, ISO 8601. */
  createdAt: string
  /** The value of the restored-from tag ('' when absent). */
  restoredFrom: string
  /** The value of the created-by-import tag ('' when absent): a server-side import verified into it. */
  importedFrom: string
}

export interface TableRestoreState {
  table: string
  region: string
  state: RestoreState
  /** The table as it is now; null when it does not exist. */
  live: LiveInstance | null
  /** Backups of elsewhere, damaged or unfinished copies, calls that failed: for the report. */
  notes: string[]
  /** A temporary table that a restore from an on-demand backup left behind (its name). */
  leftoverTemporaryTable: string | null
  /**
   * This action's on-demand backups of the table for this stage and region (both purposes, any
   * status), as ListBackups listed them; the account is the credentials' where it is known. What
   * aws-backup-retention-days may delete is chosen among these (plan/backup-retention.ts).
   */
  ownBackups: OwnBackup[]
}

/** One of this action's on-demand backups of a table (its name parsed: data/backup-set.ts). */
export type OwnBackup = BackupSummary & { parsed: ParsedBackupName }

/** The restore an owed state asks for, as the `pending-restores` output shows it. */
export function pendingRestore(s: TableRestoreState): PendingRestore | null {
  if (s.state.kind !== 'owed') return null
  return { table: s.table, source: s.state.source, backup: s.state.backup, takenAt: s.state.set.takenAt }
}

/** The sources of a set in the order the restore tries them. */
export function setSources(set: BackupSet): Array<{ source: RestoreSource; backup: string }> {
  const sources: Array<{ source: RestoreSource; backup: string }> = []
  if (set.local) sources.push({ source: 'backup-dir', backup: set.local.manifestPath })
  if (set.s3) sources.push({ source: 's3', backup: set.s3.uri })
  if (set.onDemand) sources.push({ source: 'aws-backup', backup: set.onDemand.arn })
  return sources
}

function iso(d: Date | undefined): string {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : ''
}

/** `arn:aws:dynamodb:REGION:ACCOUNT:…` → region and account. */
export function arnParts(arn: string): { region: string; account: string } | null {
  const parts = arn.split(':')
  return parts.length >= 6 ? { region: parts[3] ?? '', account: parts[4] ?? '' } : null
}

/** Why a manifest is not a backup of this table, stage, region and account (null when it is). */
export function foreignManifest(
  m: BackupManifest,
  expect: { table: string; stage: string; region: string; account: string | null }
): string | null {
  if (m.tool?.name !== TOOL_NAME) return `written by ${JSON.stringify(m.tool?.name)}, not ${TOOL_NAME}`
  if (m.table.name !== expect.table) return `a backup of table ${m.table.name}`
  if (m.stage === undefined || m.stage === null) return 'it records no stage (written by an older version)'
  if (m.stage !== expect.stage) return `a backup of stage ${m.stage}`
  if (m.table.region !== expect.region) return `a backup in region ${m.table.region}`
  if (expect.account === null)
    return "the credentials' account is unknown, so its account cannot be confirmed"
  if (m.table.accountId !== expect.account) return `a backup in account ${m.table.accountId ?? 'unknown'}`
  return null
}

interface Candidate {
  timestamp: string
  local?: string
  s3Folder?: string
  onDemand?: BackupSummary
}

interface Lookup {
  /** The table's region's clients (DynamoDB), and the action's region's S3 client. */
  clients: { dynamodb: AwsClients['dynamodb']; s3: Sender<S3Client> }
  /** With the account known from the table's ARN where the credentials' was not. */
  input: OwedRestoreInput & { account: string | null }
  table: string
  region: string
  notes: string[]
}

/** This action's on-demand backups of the table for this stage, by purpose; others go to the notes. */
async function onDemandBackups(lk: Lookup): Promise<{ restore: OwnBackup[]; deletes: OwnBackup[] }> {
  const { clients, input, table, notes } = lk
  let all: BackupSummary[]
  try {
    all = await listTableBackups(clients.dynamodb, table)
  } catch (err) {
    // An endpoint without backups (dynalite) cannot hold any; anything else is worth saying.
    if (!isUnsupportedOperation(err))
      notes.push(
        `on-demand backups could not be listed (ListBackups: ${errorMessage(err)}); grant dynamodb:ListBackups so that a restore owed from one is found`
      )
    return { restore: [], deletes: [] }
  }
  const restore: OwnBackup[] = []
  const deletes: OwnBackup[] = []
  for (const b of all) {
    const parsed = parseOnDemandBackupName(b.name)
    if (parsed === null) continue // not this action's
    const where = arnParts(b.arn)
    if (parsed.stage !== input.stage) {
      if (parsed.purpose === 'restore')
        notes.push(`on-demand backup ${b.arn} belongs to stage ${parsed.stage}: not loaded`)
      continue
    }
    if (
      where === null ||
      where.region !== lk.region ||
      (input.account !== null && where.account !== input.account)
    ) {
      notes.push(`on-demand backup ${b.arn} is not of region ${lk.region} and this account: not loaded`)
      continue
    }
    if (parsed.purpose === 'delete') deletes.push({ ...b, parsed })
    else restore.push({ ...b, parsed })
  }
  return { restore, deletes }
}

/** The timestamps of the table's folders in the bucket. */
async function s3Folders(lk: Lookup): Promise<string[]> {
  const { clients, input, table, notes } = lk
  if (input.s3Bucket === null) return []
  const prefix = s3TableFolder(input.s3Bucket, input.stage, table)
  const stamps: string[] = []
  try {
    for await (const page of listObjects(clients.s3, {
      bucket: input.s3Bucket.bucket,
      prefix,
      delimiter: '/'
    })) {
      for (const p of page.prefixes) {
        const stamp = p.slice(prefix.length).replace(/\/$/, '')
        if (timestampToIso(stamp) !== null) stamps.push(stamp)
      }
    }
  } catch (err) {
    notes.push(
      `the backups in ${s3Uri(input.s3Bucket.bucket, prefix)} could not be listed (${errorMessage(err)}); grant s3:ListBucket`
    )
  }
  return stamps
}

function expected(lk: Lookup): { table: string; stage: string; region: string; account: string | null } {
  return { table: lk.table, stage: lk.input.stage, region: lk.region, account: lk.input.account }
}

type CopyCheck<T> = { ok: T } | { foreign: string } | { damaged: string } | { absent: string }

async function checkLocal(
  lk: Lookup,
  manifestPath: string
): Promise<CopyCheck<NonNullable<BackupSet['local']>>> {
  let manifest: BackupManifest
  try {
    manifest = await readManifest(manifestPath)
  } catch (err) {
    return { damaged: `${errorMessage(err)}` }
  }
  const why = foreignManifest(manifest, expected(lk))
  return why === null ? { ok: { manifestPath, manifest } } : { foreign: `${manifestPath} is ${why}` }
}

async function checkS3(lk: Lookup, stamp: string): Promise<CopyCheck<NonNullable<BackupSet['s3']>>> {
  const location = lk.input.s3Bucket as S3Location
  const folder = s3ExportFolder(location, lk.input.stage, lk.table, stamp)
  const manifestKey = `${folder}${MANIFEST_FILE}`
  const uri = s3Uri(location.bucket, manifestKey)
  let bytes: Buffer | null
  try {
    bytes = await getObjectBytesOrNull(lk.clients.s3, location.bucket, manifestKey)
  } catch (err) {
    return { damaged: `${uri} cannot be read (${errorMessage(err)}); grant s3:GetObject` }
  }
  if (bytes === null)
    return { absent: `${s3Uri(location.bucket, folder)} has no ${MANIFEST_FILE}: an unfinished copy` }
  let manifest: BackupManifest
  try {
    manifest = parseManifest(bytes.toString('utf8'), uri)
  } catch (err) {
    return { damaged: errorMessage(err) }
  }
  const why = foreignManifest(manifest, expected(lk))
  return why === null
    ? { ok: { bucket: location.bucket, folder, manifestKey, uri, manifest } }
    : { foreign: `${uri} is ${why}` }
}

/**
 * The newest usable set among the candidates (newest first): copies of elsewhere are skipped, an
 * unfinished one too; a damaged copy with nothing usable beside it stops the search.
 */
async function newestSet(
  lk: Lookup,
  candidates: Candidate[]
): Promise<{ set: BackupSet } | { problem: string } | null> {
  for (const c of candidates) {
    const checks: Array<{ kind: 'local' | 's3' | 'onDemand'; check: CopyCheck<unknown> }> = []
    if (c.local !== undefined) checks.push({ kind: 'local', check: await checkLocal(lk, c.local) })
    if (c.s3Folder !== undefined) checks.push({ kind: 's3', check: await checkS3(lk, c.timestamp) })
    if (c.onDemand !== undefined)
      checks.push({
        kind: 'onDemand',
        check:
          c.onDemand.status === 'AVAILABLE'
            ? { ok: { arn: c.onDemand.arn, name: c.onDemand.name } }
            : { absent: `on-demand backup ${c.onDemand.arn} is ${c.onDemand.status}` }
      })
    for (const { check } of checks) {
      if ('foreign' in check) lk.notes.push(`${check.foreign}: not loaded`)
      if ('damaged' in check) lk.notes.push(`${check.damaged}: skipped`)
      if ('absent' in check) lk.notes.push(`${check.absent}: skipped`)
    }
    const ok = <T>(kind: string): T | null => {
      const found = checks.find(x => x.kind === kind)?.check
      return found !== undefined && 'ok' in found ? (found.ok as T) : null
    }
    const local = ok<BackupSet['local']>('local')
    const s3 = ok<BackupSet['s3']>('s3')
    const onDemand = ok<BackupSet['onDemand']>('onDemand')
    if (local === null && s3 === null && onDemand === null) {
      if (checks.some(x => 'damaged' in x.check))
        return {
          problem: `its newest backup (${c.timestamp}) cannot be read and has no other copy; older backups are not loaded in its place (they are older than what the table last held)`
        }
      continue
    }
    const manifest = local?.manifest ?? s3?.manifest ?? null
    const takenAt = manifest?.startedAt ?? c.onDemand?.createdAt ?? timestampToIso(c.timestamp) ?? c.timestamp
    return {
      set: {
        table: lk.table,
        timestamp: c.timestamp,
        takenAt,
        sourceCreatedAt: manifest?.table.createdAt ?? null,
        local,
        s3,
        onDemand,
        s3Folder:
          c.s3Folder !== undefined && lk.input.s3Bucket !== null
            ? s3ExportFolder(lk.input.s3Bucket, lk.input.stage, lk.table, c.timestamp)
            : null
      }
    }
  }
  return null
}

/** Whether `createdAt` is the table instance the set was taken of. */
function isSourceOf(set: BackupSet, createdAt: string): boolean {
  if (set.sourceCreatedAt !== null) return createdAt === set.sourceCreatedAt
  // No creation time recorded: the instance that existed when the backup was taken.
  return Date.parse(createdAt) <= Date.parse(set.takenAt)
}

async function restoredRecord(lk: Lookup, set: BackupSet, live: LiveInstance | null): Promise<string | null> {
  const { input, table } = lk
  const value = restoredTagValue(input.stage, set.timestamp)
  if (live !== null && live.restoredFrom === value) return `tag ${RESTORED_TAG}=${value} on ${table}`
  if (input.s3Bucket === null) return null
  const key = `${s3ExportFolder(input.s3Bucket, input.stage, table, set.timestamp)}${RESTORED_MARKER}`
  try {
    if ((await headObject(lk.clients.s3, input.s3Bucket.bucket, key)) !== null)
      return s3Uri(input.s3Bucket.bucket, key)
  } catch (err) {
    lk.notes.push(
      `${s3Uri(input.s3Bucket.bucket, key)} could not be checked (${errorMessage(err)}); grant s3:GetObject`
    )
  }
  return null
}

/**
 * Whether this action recorded that it deleted the table the set was taken of (data/backup-set.ts):
 * DELETING_MARKER in the set's S3 folder; for a set without one, its on-demand backup (taken right
 * before the delete), else the marker in its backup-dir folder.
 */
async function deleteRecorded(
  lk: Lookup,
  set: BackupSet
): Promise<{ recorded: true } | { recorded: false; why: string } | { problem: string }> {
  const stopped =
    'the run that took it stopped before deleting the table, so the table went some other way (deleted by hand or with its stack, or as empty) and this backup is not what it last held'
  if (set.s3Folder !== null && lk.input.s3Bucket !== null) {
    const key = `${set.s3Folder}${DELETING_MARKER}`
    const uri = s3Uri(lk.input.s3Bucket.bucket, key)
    let bytes: Buffer | null
    try {
      bytes = await getObjectBytesOrNull(lk.clients.s3, lk.input.s3Bucket.bucket, key)
    } catch (err) {
      return { problem: `${uri} cannot be read (${errorMessage(err)}); grant s3:GetObject` }
    }
    if (bytes === null) return { recorded: false, why: `no ${uri}: ${stopped}` }
    const intent = parseDeleteIntent(bytes.toString('utf8'))
    if (intent === null) return { problem: `${uri} is damaged (not a record of a delete): nothing is loaded` }
    if (
      intent.table.name !== lk.table ||
      (intent.table.createdAt !== null &&
        set.sourceCreatedAt !== null &&
        intent.table.createdAt !== set.sourceCreatedAt)
    )
      return {
        recorded: false,
        why: `${uri} records the delete of another table instance (${intent.table.name}, created ${intent.table.createdAt ?? 'unknown'})`
      }
    return { recorded: true }
  }
  if (set.onDemand !== null) return { recorded: true }
  if (set.local !== null) {
    const path = join(dirname(set.local.manifestPath), DELETING_MARKER)
    const there = await access(path).then(
      () => true,
      () => false
    )
    return there ? { recorded: true } : { recorded: false, why: `no ${path}: ${stopped}` }
  }
  return { recorded: false, why: stopped }
}

async function tableState(
  clients: Lookup['clients'],
  input: OwedRestoreInput,
  { name: table, region }: StageTable,
  own: string | null = null
): Promise<TableRestoreState> {
  const notes: string[] = []
  const lk: Lookup = { clients, input, table, region, notes }
  const ownBackups: OwnBackup[] = []
  const result = (
    state: RestoreState,
    live: LiveInstance | null,
    leftover: string | null = null
  ): TableRestoreState => ({
    table,
    region,
    state,
    live,
    notes,
    leftoverTemporaryTable: leftover,
    ownBackups
  })

  let live: LiveInstance | null = null
  try {
    const t = await describeTableOrNull(clients.dynamodb, table)
    if (t !== null) {
      const arn = t.TableArn ?? ''
      const tags = arn === '' ? {} : await listAllTags(clients.dynamodb, arn)
      live = {
        arn,
        createdAt: iso(t.CreationDateTime),
        restoredFrom: tags[RESTORED_TAG] ?? '',
        importedFrom: tags[IMPORTED_TAG] ?? ''
      }
    }
  } catch (err) {
    return result({ kind: 'problem', why: `the table could not be described (${errorMessage(err)})` }, null)
  }
  // The table's own ARN names the account when the credentials' could not be read.
  if (input.account === null && live !== null) {
    const account = arnParts(live.arn)?.account
    if (account) lk.input = { ...input, account }
  }

  const [all, allFolders] = await Promise.all([onDemandBackups(lk), s3Folders(lk)])
  ownBackups.push(...all.restore, ...all.deletes)
  // The last check before a delete looks past what its own run has taken of the table meanwhile.
  const notOwn = <T>(xs: T[], stamp: (x: T) => string): T[] =>
    own === null ? xs : xs.filter(x => stamp(x) !== own)
  const restore = notOwn(all.restore, b => b.parsed.timestamp)
  const deletes = notOwn(all.deletes, b => b.parsed.timestamp)
  const folders = notOwn(allFolders, stamp => stamp)
  const byStamp = new Map<string, Candidate>()
  const at = (stamp: string): Candidate => {
    const c = byStamp.get(stamp) ?? { timestamp: stamp }
    byStamp.set(stamp, c)
    return c
  }
  for (const path of notOwn(input.localManifests, p => p.split(/[\\/]/).at(-2) ?? '')) {
    const parts = path.split(/[\\/]/)
    const stamp = parts[parts.length - 2] ?? ''
    if (parts[parts.length - 3] === table && timestampToIso(stamp) !== null) at(stamp).local = path
  }
  for (const stamp of folders) at(stamp).s3Folder = stamp
  for (const b of restore) {
    const c = at(b.parsed.timestamp)
    // Two backups named alike (a re-run within the same second): the newer one.
    if (c.onDemand === undefined || (b.createdAt ?? '') > (c.onDemand.createdAt ?? '')) c.onDemand = b
  }
  const candidates = [...byStamp.values()].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1))
  if (candidates.length === 0) return result({ kind: 'none' }, live)

  const leftover = await leftoverTemporaryTable(lk, candidates[0]?.timestamp as string)
  const found = await newestSet(lk, candidates)
  if (found === null) return result({ kind: 'none' }, live, leftover)
  if ('problem' in found) return result({ kind: 'problem', why: found.problem }, live, leftover)
  const { set } = found

  const record = await restoredRecord(lk, set, live)
  if (record !== null) return result({ kind: 'restored', set, record }, live, leftover)

  if (set.sourceCreatedAt === null && set.onDemand !== null) {
    try {
      set.sourceCreatedAt =
        (await describeBackup(clients.dynamodb, set.onDemand.arn)).source?.tableCreatedAt ?? null
    } catch (err) {
      notes.push(`DescribeBackup ${set.onDemand.arn}: ${errorMessage(err)}`)
    }
  }
  if (live !== null && isSourceOf(set, live.createdAt)) {
    return result(
      {
        kind: 'not-owed',
        set,
        why: `the table it was taken of still exists (created ${live.createdAt}): nothing was deleted`
      },
      live,
      leftover
    )
  }
  for (const d of deletes.filter(x => x.parsed.timestamp > set.timestamp)) {
    try {
      const source = (await describeBackup(clients.dynamodb, d.arn)).source?.tableCreatedAt ?? null
      if (source !== null && isSourceOf(set, source)) {
        return result(
          {
            kind: 'not-owed',
            set,
            why: `the table it was taken of was still there when strategy delete backed it up again (${d.arn}) and deleted it`
          },
          live,
          leftover
        )
      }
      // A later instance (created after the set was taken), gone since: strategy delete let it go,
      // which it never does to a table owed this set (plan.ts owedRestoreBlocker, execute/safety.ts),
      // so this set was put into it, or was not wanted. A restore recorded only by a tag went with
      // that table: without this rule, the stale set would be written into the next instance.
      if (
        source !== null &&
        Date.parse(source) > Date.parse(set.takenAt) &&
        (live === null || live.createdAt !== source)
      ) {
        return result(
          {
            kind: 'not-owed',
            set,
            why: `superseded: a later instance of the table (created ${source}, after this backup was taken) was deleted by strategy delete (its safety-net backup ${d.arn}), which never deletes a table owed a restore`
          },
          live,
          leftover
        )
      }
    } catch (err) {
      notes.push(`DescribeBackup ${d.arn}: ${errorMessage(err)}`)
    }
  }
  const deleted = await deleteRecorded(lk, set)
  if ('problem' in deleted) return result({ kind: 'problem', why: deleted.problem }, live, leftover)
  if (!deleted.recorded) return result({ kind: 'not-owed', set, why: deleted.why }, live, leftover)
  const [first] = setSources(set)
  if (first === undefined) return result({ kind: 'none' }, live, leftover)
  return result({ kind: 'owed', set, ...first }, live, leftover)
}

async function leftoverTemporaryTable(lk: Lookup, stamp: string): Promise<string | null> {
  const name = temporaryTableName(lk.table, stamp)
  try {
    return (await describeTableOrNull(lk.clients.dynamodb, name)) === null ? null : name
  } catch (err) {
    lk.notes.push(`DescribeTable ${name}: ${errorMessage(err)}`)
    return null
  }
}

/** Every table's restore state, in the order of `input.tables`. */
export async function findRestoreStates(
  clients: RegionalClients,
  input: OwedRestoreInput
): Promise<TableRestoreState[]> {
  const s3 = clients.forRegion(clients.defaultRegion).s3
  return mapWithConcurrency(input.tables, CONCURRENCY, table =>
    tableState({ dynamodb: clients.forRegion(table.region).dynamodb, s3 }, input, table)
  )
}

/**
 * One table's restore state, for the executor's last check before a delete (execute/safety.ts):
 * the table's region's DynamoDB client and the bucket's S3 client. The backups and S3 folder of
 * the timestamp `own` (what the checking run itself takes of the table: its set, or its safety-net
 * backup) are not looked at.
 */
export function restoreStateOf(
  clients: Lookup['clients'],
  input: Omit<OwedRestoreInput, 'tables' | 'localManifests'> & { table: StageTable; own: string }
): Promise<TableRestoreState> {
  return tableState(clients, { ...input, tables: [input.table], localManifests: [] }, input.table, input.own)
}

/** The notes of all tables, each prefixed with its table, for RunResult.restoreNotes. */
export function restoreNotes(states: TableRestoreState[]): string[] {
  const notes: string[] = []
  for (const s of states) {
    for (const note of s.notes) notes.push(`${s.table}: ${note}`)
    if (s.state.kind === 'problem') notes.push(`${s.table}: ${s.state.why}`)
    if (s.leftoverTemporaryTable !== null)
      notes.push(
        `${s.table}: the temporary table ${s.leftoverTemporaryTable} of an unfinished restore from an on-demand backup still exists; phase restore deletes it once the restore is verified (or delete it yourself)`
      )
  }
  return notes
}

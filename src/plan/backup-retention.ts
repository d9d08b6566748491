/**
 * Which of the action's own on-demand backups `aws-backup-retention-days` lets go (pure). A
 * backup is deleted only when every rule holds:
 *   - it is this action's, of this stage, region and account: its name parses as one of the
 *     action's (data/backup-set.ts, the same recognition that finds owed restores) for this stage,
 *     and its ARN names the table's region and the credentials' account (an unknown account: none);
 *   - it is AVAILABLE (not CREATING, not being deleted);
 *   - it is older than the retention: the later of its name's timestamp and its creation time;
 *   - nothing is lost with it, by the table's restore state (inspect/owed-restores.ts):
 *       restored  → the set whose restore is verified and recorded, and every older set of the
 *                   table (superseded: the action never loads them again);
 *       not-owed  → the set nothing is owed from (the table it was taken of still exists, or was
 *                   deleted as empty by strategy delete after it, or a later instance was: the set
 *                   is superseded), and every older set;
 *       owed, or a state that could not be told (problem), or a table this run's plan backs up
 *                   and deletes (a dry run looks before it does) → nothing of that table is deleted;
 *   - it was taken for a restore (purpose `restore`). The safety net of strategy delete (purpose
 *     `delete`) is never restored, so it is never "restored" either: it may hold the data of a
 *     table let go with allow-data-loss (which its name cannot tell from an empty table's, whose
 *     backup costs next to nothing), and is kept for a human to delete.
 * Everything else is kept, with the reason.
 */
import { parseOnDemandBackupName } from '../data/backup-set.js'
import { arnParts, type OwnBackup, type TableRestoreState } from '../inspect/owed-restores.js'
import type { RetiredBackup } from '../types.js'

export const DAY_MS = 86_400_000

export interface RetentionRules {
  /** `aws-backup-retention-days` (> 0; 0 means the caller does not ask). */
  retentionDays: number
  /** The clock's now, ms since the epoch. */
  now: number
  stage: string
  /** The credentials' account; null (unknown) keeps every backup. */
  account: string | null
  /**
   * Tables (`table` in `region`) this run's plan backs up and deletes: a real run leaves them owing
   * a restore, so none of their backups goes (a dry run reads their state before that happens).
   */
  backedUp?: ReadonlyArray<{ table: string; region: string }>
}

export interface KeptBackup {
  table: string
  arn: string
  /** Old enough to go: the report may say why it stays. */
  old: boolean
  why: string
}

export interface RetentionDecision {
  retire: RetiredBackup[]
  kept: KeptBackup[]
}

/** When the backup was taken: the later of its name's timestamp and its creation time (ms). */
function takenAtMs(b: OwnBackup, named: string): number {
  const byName = Date.parse(named)
  const created = b.createdAt ? Date.parse(b.createdAt) : Number.NaN
  return Number.isNaN(created) ? byName : Math.max(byName, created)
}

function days(ms: number): string {
  const d = ms / DAY_MS
  return d >= 1 ? `${Math.floor(d)} days` : `${Math.floor(ms / 3_600_000)} hours`
}

/**
 * Why nothing is lost with `b` given its table's restore state, or null when something may be
 * (then it is kept, and `keep` says why).
 */
function whyItMayGo(
  s: TableRestoreState,
  timestamp: string,
  purpose: string,
  backedUp: boolean
): { why: string } | { keep: string } {
  const state = s.state
  if (backedUp)
    return {
      keep: `this run backs ${s.table} up and deletes it, so it owes a restore: none of its backups is deleted`
    }
  if (state.kind === 'owed')
    return { keep: `${s.table} still owes a restore (from ${state.backup}): none of its backups is deleted` }
  if (state.kind === 'problem')
    return {
      keep: `the restore state of ${s.table} could not be told (${state.why}): none of its backups is deleted`
    }
  if (purpose !== 'restore')
    return {
      keep: 'the safety net of strategy delete: it may hold the data of a table let go with allow-data-loss, so only a human deletes it'
    }
  if (state.kind === 'none')
    return {
      keep: `no usable backup set of ${s.table} was found, so it cannot be told whether this one is owed`
    }
  const set = state.set
  if (timestamp > set.timestamp)
    return { keep: `newer than the backup the restore state of ${s.table} is about (${set.timestamp})` }
  const own = timestamp === set.timestamp
  if (state.kind === 'restored')
    return {
      why: own
        ? `its restore is verified and recorded (${state.record})`
        : `superseded: the newer backup ${set.timestamp} of the table was restored and verified (${state.record})`
    }
  return {
    why: own
      ? `no restore is owed from it: ${state.why}`
      : `superseded by the newer backup ${set.timestamp}, from which no restore is owed either (${state.why})`
  }
}

/** The backups to delete and those kept (each with its reason), table by table. */
export function backupsToRetire(states: TableRestoreState[], rules: RetentionRules): RetentionDecision {
  const retire: RetiredBackup[] = []
  const kept: KeptBackup[] = []
  const maxAge = rules.retentionDays * DAY_MS
  for (const s of states) {
    for (const b of s.ownBackups) {
      const keep = (why: string, old: boolean): void => {
        kept.push({ table: s.table, arn: b.arn, old, why })
      }
      // The name again, not the lookup's reading of it: only names this action writes, this stage's.
      const parsed = parseOnDemandBackupName(b.name)
      if (parsed === null) {
        keep(`${b.name} is not a name this action gives its backups`, false)
        continue
      }
      if (parsed.stage !== rules.stage) {
        keep(`a backup of stage ${parsed.stage}`, false)
        continue
      }
      const where = arnParts(b.arn)
      if (where === null || where.region !== s.region) {
        keep(`not a backup in region ${s.region}`, false)
        continue
      }
      if (rules.account === null || where.account !== rules.account) {
        keep(
          rules.account === null
            ? "the credentials' account is unknown, so the backup's account cannot be confirmed"
            : `a backup in account ${where.account}, not the credentials' ${rules.account}`,
          false
        )
        continue
      }
      const taken = takenAtMs(b, parsed.takenAt)
      const age = rules.now - taken
      const old = rules.retentionDays > 0 && age > maxAge
      if (b.status !== 'AVAILABLE') {
        keep(`it is ${b.status}, not AVAILABLE`, old)
        continue
      }
      if (!old) {
        keep(`${days(Math.max(0, age))} old, kept for ${rules.retentionDays} days`, false)
        continue
      }
      const backedUp = (rules.backedUp ?? []).some(t => t.table === s.table && t.region === s.region)
      const verdict = whyItMayGo(s, parsed.timestamp, parsed.purpose, backedUp)
      if ('keep' in verdict) {
        keep(verdict.keep, true)
        continue
      }
      retire.push({
        table: s.table,
        region: s.region,
        arn: b.arn,
        name: b.name,
        takenAt: new Date(taken).toISOString(),
        why: `${days(age)} old; ${verdict.why}`
      })
    }
  }
  return { retire, kept }
}

/**
 * Which of the action's own on-demand backups aws-backup-retention-days lets go: every branch of
 * plan/backup-retention.ts, table-driven.
 */
import { describe, expect, it } from '@jest/globals'
import { backupTimestamp, onDemandBackupName, parseOnDemandBackupName } from '../../src/data/backup-set.js'
import type {
  BackupSet,
  OwnBackup,
  RestoreState,
  TableRestoreState
} from '../../src/inspect/owed-restores.js'
import { backupsToRetire, DAY_MS, type RetentionRules } from '../../src/plan/backup-retention.js'

const STAGE = 'pr-5'
const ACCOUNT = '123456789012'
const TABLE = 'pr-5-orders'
const NOW = Date.parse('2026-06-30T12:00:00.000Z')
const RULES: RetentionRules = { retentionDays: 14, now: NOW, stage: STAGE, account: ACCOUNT }

const daysAgo = (d: number): number => NOW - d * DAY_MS

function backup(
  at: number,
  over: { purpose?: 'restore' | 'delete'; stage?: string; name?: string; arn?: string; status?: string } = {}
): OwnBackup {
  const name = over.name ?? onDemandBackupName(over.stage ?? STAGE, over.purpose ?? 'restore', at)
  const parsed = parseOnDemandBackupName(name) ?? {
    timestamp: backupTimestamp(at),
    takenAt: new Date(at).toISOString(),
    purpose: 'restore' as const,
    stage: STAGE
  }
  return {
    arn: over.arn ?? `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${TABLE}/backup/${at}-${name.length}`,
    name,
    tableName: TABLE,
    tableArn: null,
    createdAt: new Date(at + 2_000).toISOString(),
    status: over.status ?? 'AVAILABLE',
    parsed
  }
}

function set(at: number): BackupSet {
  return {
    table: TABLE,
    timestamp: backupTimestamp(at),
    takenAt: new Date(at).toISOString(),
    sourceCreatedAt: null,
    local: null,
    s3: null,
    onDemand: { arn: 'x', name: 'x' },
    s3Folder: null
  }
}

function state(s: RestoreState, own: OwnBackup[]): TableRestoreState {
  return {
    table: TABLE,
    region: 'us-east-1',
    state: s,
    live: null,
    notes: [],
    leftoverTemporaryTable: null,
    ownBackups: own
  }
}

const restored = (at: number): RestoreState => ({ kind: 'restored', set: set(at), record: 'tag x=y' })
const owed = (at: number): RestoreState => ({
  kind: 'owed',
  set: set(at),
  source: 'aws-backup',
  backup: 'arn-owed'
})
const notOwed = (at: number): RestoreState => ({
  kind: 'not-owed',
  set: set(at),
  why: 'the table it was taken of still exists'
})

const OLD = daysAgo(20)
const OLDER = daysAgo(30)

describe('backupsToRetire', () => {
  it.each<[string, RestoreState, OwnBackup, RetentionRules | null, string | null]>([
    // [what, table state, backup, rules (null: RULES), deleted with a why matching (null: kept)]
    ['old, its restore verified → deleted', restored(OLD), backup(OLD), null, 'restore is verified'],
    [
      'old, an older set superseded by a verified restore → deleted',
      restored(OLD),
      backup(OLDER),
      null,
      'superseded'
    ],
    [
      'old, nothing owed (table still exists) → deleted',
      notOwed(OLD),
      backup(OLD),
      null,
      'no restore is owed'
    ],
    [
      'old, older than a set nothing is owed from → deleted',
      notOwed(OLD),
      backup(OLDER),
      null,
      'superseded by'
    ],
    ['old, still owed → kept', owed(OLD), backup(OLD), null, null],
    [
      'old, older than an owed set → kept (nothing of an owing table goes)',
      owed(OLD),
      backup(OLDER),
      null,
      null
    ],
    [
      'old safety net of strategy delete, table owes a restore → kept',
      owed(OLD),
      backup(OLDER, { purpose: 'delete' }),
      null,
      null
    ],
    [
      'old safety net of strategy delete, nothing owed → kept (it may hold data let go with allow-data-loss)',
      { kind: 'none' },
      backup(OLD, { purpose: 'delete' }),
      null,
      null
    ],
    [
      'old safety net of strategy delete, older than a verified restore → kept',
      restored(OLD),
      backup(OLDER, { purpose: 'delete' }),
      null,
      null
    ],
    ['old restore backup without a usable set → kept', { kind: 'none' }, backup(OLD), null, null],
    ['restore state unclear → kept', { kind: 'problem', why: 'damaged' }, backup(OLD), null, null],
    ['newer than the set the state is about → kept', restored(OLDER), backup(OLD), null, null],
    ['young (13 days) → kept', restored(daysAgo(13)), backup(daysAgo(13)), null, null],
    [
      'exactly the retention → kept (older than, not as old as)',
      restored(daysAgo(14)),
      backup(daysAgo(14) - 2_000),
      null,
      null
    ],
    ['CREATING → kept', restored(OLD), backup(OLD, { status: 'CREATING' }), null, null],
    ["another stage's → kept", restored(OLD), backup(OLD, { stage: 'pr-50' }), null, null],
    [
      'a name this action does not write → kept',
      restored(OLD),
      backup(OLD, { name: 'orphan-guard_2026-06-01_restore_pr-5' }),
      null,
      null
    ],
    [
      'another region → kept',
      restored(OLD),
      backup(OLD, { arn: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/${TABLE}/backup/1` }),
      null,
      null
    ],
    [
      'another account → kept',
      restored(OLD),
      backup(OLD, { arn: `arn:aws:dynamodb:us-east-1:999999999999:table/${TABLE}/backup/1` }),
      null,
      null
    ],
    [
      "the credentials' account unknown → kept",
      restored(OLD),
      backup(OLD),
      { ...RULES, account: null },
      null
    ],
    [
      'retention 30 days: 20 days old → kept',
      restored(OLD),
      backup(OLD),
      { ...RULES, retentionDays: 30 },
      null
    ],
    [
      'a table this run backs up and deletes → kept (a dry run looks before it does)',
      restored(OLD),
      backup(OLD),
      { ...RULES, backedUp: [{ table: TABLE, region: 'us-east-1' }] },
      null
    ],
    [
      'the same table name in another region backed up → this one may go',
      restored(OLD),
      backup(OLD),
      { ...RULES, backedUp: [{ table: TABLE, region: 'eu-west-1' }] },
      'verified'
    ],
    [
      'retention 1 day: 2 days old → deleted',
      restored(daysAgo(2)),
      backup(daysAgo(2)),
      { ...RULES, retentionDays: 1 },
      'verified'
    ]
  ])('%s', (_what, s, b, rules, deletedWhy) => {
    const { retire, kept } = backupsToRetire([state(s, [b])], rules ?? RULES)
    if (deletedWhy === null) {
      expect(retire).toEqual([])
      expect(kept).toEqual([expect.objectContaining({ arn: b.arn, why: expect.any(String) })])
    } else {
      expect(kept).toEqual([])
      expect(retire).toEqual([
        {
          table: TABLE,
          region: 'us-east-1',
          arn: b.arn,
          name: b.name,
          takenAt: b.createdAt,
          why: expect.stringContaining(deletedWhy)
        }
      ])
    }
  })

  it('age counts from the later of the name and the creation time', () => {
    // Named 20 days ago but created 10 days ago (a clock gone wrong): 10 days old, kept.
    const b = { ...backup(OLD), createdAt: new Date(daysAgo(10)).toISOString() }
    expect(backupsToRetire([state(restored(OLD), [b])], RULES).retire).toEqual([])
  })

  it('keeps the reasons of old backups apart from young ones (for the log)', () => {
    const { kept } = backupsToRetire([state(owed(OLD), [backup(OLD), backup(daysAgo(1))])], RULES)
    expect(kept.map(k => [k.old, k.why])).toEqual([
      [true, expect.stringContaining('still owes a restore (from arn-owed)')],
      [false, expect.stringMatching(/^\d+ hours old, kept for 14 days$/)]
    ])
  })
})

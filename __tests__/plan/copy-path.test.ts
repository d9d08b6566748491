/**
 * Which path a re-created table's items take (plan/copy-path.ts), through the whole plan: findings
 * as compare makes them (withDifferences), policies as the inputs make them.
 */
import { describe, expect, it } from '@jest/globals'
import { withDifferences } from '../../src/compare/differences.js'
import { copyTimeModel, DEFAULT_SERVER_SIDE_THRESHOLD_BYTES, formatBytes } from '../../src/plan/copy-path.js'
import { planTables } from '../../src/plan/plan.js'
import type { Decision, Finding, LiveTable, Policy, ServerSideResume, TableSpec } from '../../src/types.js'
import { finding, liveTable, stackState, tableSpec } from '../../test-support/builders.js'

const GiB = 2 ** 30

/** The template moves the sort key from sk (S) to n (N): a blocking key difference → backup-restore. */
function templateSpec(extra: Record<string, unknown> = {}, over: Partial<TableSpec> = {}): TableSpec {
  return tableSpec({
    properties: {
      TableName: 'pr-5-main-table',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'n', AttributeType: 'N' }
      ],
      BillingMode: 'PAY_PER_REQUEST',
      ...extra
    },
    ...over
  })
}

const LSI = {
  LocalSecondaryIndexes: [
    {
      IndexName: 'byDate',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' }
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' }
    }
  ]
}

function compared(spec: TableSpec, live: Partial<LiveTable> = {}, over: Partial<Finding> = {}): Finding {
  return withDifferences(
    finding({
      spec,
      live: liveTable(live),
      hasData: true,
      owner: 'retained',
      stack: stackState({ exists: false }),
      ...over
    }),
    'pr-5',
    '123456789012'
  )
}

const policy = (over: Partial<Policy> = {}): Policy => ({
  stage: 'pr-5',
  strategy: 'auto',
  protectedStage: false,
  allowDataLoss: false,
  awsBackup: true,
  s3Bucket: true,
  copyMode: 'auto',
  serverSideThresholdBytes: GiB,
  ...over
})

/** An owed server-side restore of the table, as inspect/server-side-resume.ts reads it. */
function resume(over: Partial<ServerSideResume> = {}): ServerSideResume {
  return {
    bucket: 'backups',
    folder: 'copies/pr-5/pr-5-main-table/20250304T050607Z/',
    timestamp: '20250304T050607Z',
    manifestKey: 'copies/pr-5/pr-5-main-table/20250304T050607Z/manifest.json',
    manifestUri: 's3://backups/copies/pr-5/pr-5-main-table/20250304T050607Z/manifest.json',
    backupArn: null,
    import: null,
    importRequestedAt: null,
    live: 'absent',
    verified: false,
    ...over
  }
}
const IMPORT_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main-table/import/01'

interface Row {
  rule: string
  finding: Finding
  policy?: Partial<Policy>
  decision: Decision
  copy?: 'runner' | 'server-side'
  /** The S3 copy whose restore the run records (PlanEntry.recordRestore); absent when none. */
  recordRestore?: string
  reason: RegExp
}

const rows: Row[] = [
  {
    rule: 'copy-mode runner: the runner path, whatever the size',
    finding: compared(templateSpec(), { sizeBytesEstimate: 50 * GiB }),
    policy: { copyMode: 'runner' },
    decision: 'backup-restore',
    copy: 'runner',
    reason: /Copy path: runner \(copy-mode runner\)/
  },
  {
    rule: 'copy-mode server-side: server-side, and the reasons say the table is created by ImportTable before the deploy',
    finding: compared(templateSpec()),
    policy: { copyMode: 'server-side' },
    decision: 'backup-restore',
    copy: 'server-side',
    reason:
      /created anew by ImportTable with the template's keys and imported into stack pr-5-database, all before the deploy/
  },
  {
    rule: 'copy-mode server-side and an LSI in the template: blocked, saying why',
    finding: compared(templateSpec(LSI)),
    policy: { copyMode: 'server-side' },
    decision: 'blocked',
    reason:
      /copy-mode is server-side, but table pr-5-main-table cannot be re-created by ImportTable: the template declares the local secondary index byDate, and ImportTable cannot create a local secondary index.*Use copy-mode auto or runner/
  },
  {
    rule: 'copy-mode auto and an LSI in the template: the runner path, saying why',
    finding: compared(templateSpec(LSI), { sizeBytesEstimate: 50 * GiB }),
    decision: 'backup-restore',
    copy: 'runner',
    reason:
      /Copy path: runner, because the server-side path cannot re-create it: the template declares the local secondary index byDate/
  },
  {
    rule: 'copy-mode auto without s3-bucket: the runner path',
    finding: compared(templateSpec(), { sizeBytesEstimate: 50 * GiB }),
    policy: { s3Bucket: false },
    decision: 'backup-restore',
    copy: 'runner',
    reason: /s3-bucket is not set/
  },
  {
    rule: 'copy-mode auto below the threshold: the runner path',
    finding: compared(templateSpec(), { sizeBytesEstimate: GiB - 1, itemCountEstimate: 1000 }),
    decision: 'backup-restore',
    copy: 'runner',
    reason: /its size to restore is 1024 MiB .* below server-side-threshold-bytes \(1 GiB\)/
  },
  {
    rule: 'copy-mode auto at the threshold: server-side',
    finding: compared(templateSpec(), { sizeBytesEstimate: GiB }),
    decision: 'backup-restore',
    copy: 'server-side',
    reason: /its size to restore is 1 GiB .* at least server-side-threshold-bytes \(1 GiB\)/
  },
  {
    rule: 'copy-mode auto: small items count as 1 KiB each (a write unit)',
    finding: compared(templateSpec(), { sizeBytesEstimate: 100 * 2 ** 20, itemCountEstimate: 2 ** 20 }),
    decision: 'backup-restore',
    copy: 'server-side',
    reason:
      /its size to restore is 1 GiB \(DescribeTable: 104857600 bytes, 1048576 items; 1 KiB a write unit\)/
  },
  {
    rule: "copy-mode auto: a PROVISIONED template's low write capacity scales the size",
    finding: compared(
      templateSpec({
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 40 }
      }),
      { sizeBytesEstimate: 20 * 2 ** 20 }
    ),
    decision: 'backup-restore',
    copy: 'server-side',
    reason:
      /at the template's 40 write capacity units takes as long as 2 GiB at a new on-demand table's 4000 writes per second/
  },
  {
    rule: 'copy-mode auto: a stream on the new table takes the server-side path whatever the size',
    finding: compared(templateSpec({ StreamSpecification: { StreamViewType: 'NEW_IMAGE' } })),
    decision: 'backup-restore',
    copy: 'server-side',
    reason:
      /the template enables a stream on the new table: a runner restore would deliver every item to its consumers again, while ImportTable loads the items before the deploy turns the stream on/
  },
  {
    rule: 'copy-mode auto: a table DescribeTable reports as 0 bytes says why it may be larger',
    finding: compared(templateSpec()),
    decision: 'backup-restore',
    copy: 'runner',
    reason: /refreshes its size about every six hours.*set copy-mode server-side/
  },
  {
    rule: 'an empty table has nothing to copy (strategy backup-restore)',
    finding: compared(templateSpec(), {}, { hasData: false }),
    policy: { strategy: 'backup-restore', copyMode: 'server-side' },
    decision: 'backup-restore',
    copy: 'runner',
    reason: /Table pr-5-main-table is empty, so there is nothing to copy/
  },
  {
    rule: 'a nested stack: the new table could not be imported into it',
    finding: compared(templateSpec({}, { nestedPath: ['DbNested'] })),
    policy: { copyMode: 'server-side' },
    decision: 'blocked',
    reason: /declared in the nested stack DbNested, and the new table could not be imported into it/
  },
  {
    rule: 'a template global table with two replicas cannot be created by ImportTable',
    finding: compared(
      templateSpec(
        { Replicas: [{ Region: 'us-east-1' }, { Region: 'us-west-2' }] },
        { resourceType: 'AWS::DynamoDB::GlobalTable', replicaRegions: ['us-east-1', 'us-west-2'] }
      )
    ),
    policy: { copyMode: 'server-side' },
    decision: 'blocked',
    reason: /ImportTable creates a single-region table in us-east-1/
  },
  {
    rule: 'a stack in ROLLBACK_COMPLETE takes no import: the runner path under auto',
    finding: compared(
      templateSpec(),
      { sizeBytesEstimate: 50 * GiB },
      {
        stack: stackState({ exists: true, status: 'ROLLBACK_COMPLETE' })
      }
    ),
    decision: 'backup-restore',
    copy: 'runner',
    reason: /could not be imported into its stack: stack pr-5-database is ROLLBACK_COMPLETE/
  },
  {
    rule: 'copy-mode auto: a stream on the new table, but an LSI in the template: the runner path (ImportTable cannot create it)',
    finding: compared(templateSpec({ StreamSpecification: { StreamViewType: 'NEW_IMAGE' }, ...LSI })),
    decision: 'backup-restore',
    copy: 'runner',
    reason:
      /Copy path: runner, because the server-side path cannot re-create it: the template declares the local secondary index byDate/
  },
  {
    rule: 'copy-mode auto: a stream on the new table, but no s3-bucket: the runner path',
    finding: compared(templateSpec({ StreamSpecification: { StreamViewType: 'NEW_IMAGE' } })),
    policy: { s3Bucket: false },
    decision: 'backup-restore',
    copy: 'runner',
    reason: /Copy path: runner, because the server-side path cannot re-create it: s3-bucket is not set/
  },
  {
    rule: 'resume: the table is gone and its server-side restore is owed → ImportTable from that copy, whatever the size',
    finding: compared(
      templateSpec(),
      {},
      { exists: false, live: null, hasData: null, owner: null, serverSideResume: resume() }
    ),
    decision: 'backup-restore',
    copy: 'server-side',
    reason: /its server-side restore is unfinished: ImportTable now creates it from that copy/
  },
  {
    rule: 'resume: the table its import created, verified by an earlier run → adopted, no second import or scan',
    finding: compared(
      templateSpec(),
      {
        keys: [
          { name: 'pk', type: 'HASH' },
          { name: 'n', type: 'RANGE' }
        ],
        attributeTypes: { pk: 'S', n: 'N' }
      },
      {
        serverSideResume: resume({
          live: 'from-import',
          verified: true,
          import: { arn: IMPORT_ARN, status: 'COMPLETED', startTime: null, tableArn: null }
        })
      }
    ),
    decision: 'backup-restore',
    copy: 'server-side',
    reason:
      /created it and an earlier run verified it against the copy: it is adopted now \(no second import, no second scan\)/
  },
  {
    rule: 'resume: a table stands where the owed restore goes, not known to be its import’s → blocked (a backup of it would supersede the owed copy)',
    finding: compared(
      templateSpec(),
      { sizeBytesEstimate: 50 * GiB },
      {
        serverSideResume: resume({ live: 'other', importRequestedAt: '2025-03-04T05:07:00.000Z' })
      }
    ),
    decision: 'blocked',
    reason:
      /its restore is owed; the table now there is not known to be the one its ImportTable created \(the import requested at 2025-03-04T05:07:00.000Z was not found/
  },
  {
    rule: 'adopted: the table its import created, verified and in its stack, restore unrecorded → none, the restore recorded by this run',
    finding: compared(
      templateSpec(),
      {},
      {
        owner: 'stack',
        serverSideResume: resume({
          live: 'from-import',
          verified: true,
          import: { arn: IMPORT_ARN, status: 'COMPLETED', startTime: null, tableArn: null }
        })
      }
    ),
    decision: 'none',
    recordRestore: resume().manifestUri,
    reason:
      /already belongs to stack .*: an earlier run re-created it by ImportTable \(arn:aws:dynamodb:.*\/import\/01\) from s3:\/\/backups\/.*manifest\.json, verified it .* This run records it/
  },
  {
    rule: 'in its stack, the import’s table but never verified → none, nothing recorded (phase restore verifies it)',
    finding: compared(
      templateSpec(),
      {},
      {
        owner: 'stack',
        serverSideResume: resume({
          live: 'from-import',
          verified: false,
          import: { arn: IMPORT_ARN, status: 'COMPLETED', startTime: null, tableArn: null }
        })
      }
    ),
    decision: 'none',
    reason: /already belongs to stack .*; the deploy updates it in place\.$/
  },
  {
    rule: 'the owed-restore lookup failed for the table → no delete (it might be an unfinished restore’s table)',
    finding: compared(
      templateSpec(),
      { sizeBytesEstimate: 50 * GiB },
      { owedRestoreUnknown: 'GetObject import.json: AccessDenied' }
    ),
    decision: 'blocked',
    reason:
      /whether it is the table an unfinished server-side restore created could not be determined \(GetObject import.json: AccessDenied\)/
  }
]

describe('the copy path of a re-created table', () => {
  it.each(rows.map(r => [r.rule, r] as const))('%s', (_rule, row) => {
    const [entry] = planTables([row.finding], policy(row.policy)).entries
    expect(entry?.decision).toBe(row.decision)
    expect(entry?.copy).toBe(row.copy)
    expect(entry?.recordRestore).toBe(row.recordRestore)
    expect(entry?.reasons.join(' ')).toMatch(row.reason)
    if (row.decision === 'backup-restore')
      expect(entry?.path.find(s => s.question === 'Which path do its items take?')?.answer).toBe(row.copy)
  })

  it('server-side: a stream on the new table is no warning (ImportTable loads before the deploy turns it on)', () => {
    const f = compared(templateSpec({ StreamSpecification: { StreamViewType: 'NEW_IMAGE' } }))
    const serverSide = planTables([f], policy()).entries[0]
    const runner = planTables([f], policy({ copyMode: 'runner' })).entries[0]
    const stream = (e: typeof runner) => e?.differences.find(d => d.property === 'StreamSpecification')
    expect(stream(runner)?.severity).toBe('dangerous')
    expect(runner?.reasons.join(' ')).toMatch(/Warning \(StreamSpecification\)/)
    expect(stream(serverSide)?.severity).toBe('converges')
    expect(stream(serverSide)?.message).toMatch(/consumers receive none of them again/)
    expect(serverSide?.reasons.join(' ')).not.toMatch(/Warning/)
  })

  it('copy is set only on backup-restore entries', () => {
    const importable = compared(tableSpec(), {})
    const [entry] = planTables([importable], policy()).entries
    expect(entry?.decision).toBe('import')
    expect(entry?.copy).toBeUndefined()
  })
})

describe('the copy-time model', () => {
  it('1M items of 1 KB: scans at 12,000 read units/s (4 KB each), writes at 4,000 write units/s', () => {
    const m = copyTimeModel(1_000_000, 1024)
    expect(m.scanSeconds).toBeCloseTo(1_000_000 / 4 / 12_000, 5)
    expect(m.writeSeconds).toBe(250)
    expect(m.runnerSeconds).toBeCloseTo(250 + 3 * 20.8333, 2)
    expect(m.serverSideScanSeconds.pitr).toBeCloseTo(2 * 20.8333, 2)
  })

  it('a 1.5 KB item costs two write units; a provisioned table writes at its own capacity', () => {
    expect(copyTimeModel(1000, 1536).writeSeconds).toBe(0.5)
    expect(copyTimeModel(1000, 1024, 10).writeSeconds).toBe(100)
  })

  it('the default threshold is 1 GiB, and sizes print in binary units', () => {
    expect(DEFAULT_SERVER_SIDE_THRESHOLD_BYTES).toBe(GiB)
    expect([formatBytes(GiB), formatBytes(1536), formatBytes(12)]).toEqual(['1 GiB', '1.5 KiB', '12 bytes'])
  })
})

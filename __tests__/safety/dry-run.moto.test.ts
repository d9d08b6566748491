/**
 * Safety rule: dry-run and report make zero mutating calls. Every strategy that acts (auto,
 * import, backup-restore, delete) with dry-run, and report, through a recording proxy in front
 * of moto: only read operations reach the endpoint, and dry-run lists the exact calls it would
 * make as `planned` steps.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { CreateTableCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import type { Decision, ExecutionStep, Strategy } from '../../src/types.js'
import type { MotoServer } from '../../test-support/moto.js'
import {
  makeRetainedOrphan,
  makeUnmanagedTable,
  putItems,
  sampleItems,
  tableTemplate
} from '../../test-support/orphans.js'
import { isReadOnlyOperation, type RecordingProxy } from '../../test-support/recording-proxy.js'
import {
  decisionOf,
  deps,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace,
  startRecordedMoto,
  stopRecordedMoto
} from '../../test-support/execution.js'

const RULE = 'dry-run and report make zero mutating calls'
const TABLE = 'pr-7-orders'
const STACK = 'pr-7-db'
/** The backup name a dry-run at T0 (helpers) shows. */
/** backup-restore's backup (restored after the deploy) and strategy delete's safety net (never restored). */
const BACKUP_NAME = 'orphan-guard_20250304T050607Z_restore_pr-7'
const DELETE_BACKUP_NAME = 'orphan-guard_20250304T050607Z_delete_pr-7'

let moto: MotoServer
let rec: RecordingProxy
let clients: AwsClients
let ws: Workspace | null = null

beforeAll(async () => {
  ;({ moto, rec, clients } = await startRecordedMoto())
})
afterAll(() => stopRecordedMoto({ moto, rec, clients }))
beforeEach(async () => {
  await moto.reset()
})
afterEach(() => {
  ws?.remove()
  ws = null
})

/** A hand-made table with data and deletion protection on. */
async function protectedTableWithData(): Promise<void> {
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' }
      ],
      DeletionProtectionEnabled: true
    })
  )
  await putItems(clients.dynamodb, TABLE, sampleItems(10))
}

const pkOnly = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })

interface Case {
  strategy: Exclude<Strategy, 'report'>
  decision: Decision
  setup: () => Promise<void>
  template: ReturnType<typeof tableTemplate>
  allowDataLoss?: boolean
  /** The exact calls the dry-run must list, in order (`Command {json input}`). */
  calls: string[]
}

const CASES: Case[] = [
  {
    strategy: 'auto',
    decision: 'backup-restore',
    setup: () => makeUnmanagedTable(clients.dynamodb, { tableName: TABLE, items: sampleItems(10) }),
    template: pkOnly,
    calls: [
      `CreateBackup {"TableName":"${TABLE}","BackupName":"${BACKUP_NAME}"}`,
      `DeleteTable {"TableName":"${TABLE}"}`
    ]
  },
  {
    strategy: 'import',
    decision: 'import',
    setup: async () => {
      await makeRetainedOrphan(clients, { stackName: STACK, tableName: TABLE, items: sampleItems(10) })
    },
    template: tableTemplate({ tableName: TABLE, deletionPolicy: 'Retain' }),
    calls: []
  },
  {
    strategy: 'backup-restore',
    decision: 'backup-restore',
    setup: protectedTableWithData,
    template: pkOnly,
    calls: [
      `CreateBackup {"TableName":"${TABLE}","BackupName":"${BACKUP_NAME}"}`,
      `UpdateTable {"TableName":"${TABLE}","DeletionProtectionEnabled":false}`,
      `DeleteTable {"TableName":"${TABLE}"}`
    ]
  },
  {
    strategy: 'delete',
    decision: 'delete',
    allowDataLoss: true,
    setup: protectedTableWithData,
    template: tableTemplate({ tableName: TABLE }),
    calls: [
      `CreateBackup {"TableName":"${TABLE}","BackupName":"${DELETE_BACKUP_NAME}"}`,
      `UpdateTable {"TableName":"${TABLE}","DeletionProtectionEnabled":false}`,
      `DeleteTable {"TableName":"${TABLE}"}`
    ]
  }
]

function listedCalls(steps: ExecutionStep[]): string[] {
  return steps.map(s => s.detail).filter(d => /^(CreateBackup|UpdateTable|DeleteTable) \{/.test(d))
}

describe(RULE, () => {
  it.each(CASES)(
    '$strategy with dry-run lists the exact calls as planned and makes only read calls; report makes only read calls',
    async ({ strategy, decision, setup, template, allowDataLoss, calls }) => {
      await setup()
      ws = workspace(template)
      const before = await tableContent(clients, TABLE)
      const mark = rec.calls.length

      const inputs = makeInputs(ws, {
        stackName: STACK,
        strategy,
        dryRun: true,
        awsBackup: true,
        allowDataLoss: allowDataLoss ?? false
      })
      const check = await runCheck(inputs, clients)
      expect(decisionOf(check, TABLE)).toBe(decision)
      const { result } = await executePlan(check, inputs, deps(clients))

      expect(result.outcome).toBe('dry-run')
      expect(result.steps.length).toBeGreaterThan(0)
      expect(result.steps.every(s => s.status === 'planned')).toBe(true)
      expect(listedCalls(result.steps)).toEqual(calls)
      if (strategy === 'import') {
        expect(result.steps.map(s => s.detail).join('\n')).toMatch(/CreateChangeSet/)
      }
      expect(result.backupManifests).toEqual([])
      expect(result.backupArns).toEqual([])

      const reportInputs = { ...inputs, strategy: 'report' as const, dryRun: false }
      const reportCheck = await runCheck(reportInputs, clients)
      const report = await executePlan(reportCheck, reportInputs, deps(clients))
      expect(report.result.steps).toEqual([])

      const ops = rec.operations().slice(mark)
      expect(ops.length).toBeGreaterThan(0)
      expect(ops.filter(op => !isReadOnlyOperation(op))).toEqual([])
      expect(await tableContent(clients, TABLE)).toEqual(before)
    }
  )
})

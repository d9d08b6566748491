/**
 * The backup-restore round trip in-process on moto: a retained orphan with data and a blocking key
 * difference → auto → executePlan backs it up and deletes it → the "deploy" (CreateStack with the
 * template) → restoreBackups loads and verifies the items → identical content. A second restore
 * phase finds the restore already done.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { AwsClients } from '../../src/aws/clients.js'
import { systemClock } from '../../src/types.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import { restoreBackups } from '../../src/execute/restore-backups.js'
import { destroyClients, oneRegion, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import {
  createStackAndWait,
  makeRetainedOrphan,
  tableTemplate,
  type Item
} from '../../test-support/orphans.js'
import {
  decisionOf,
  deps,
  makeInputs,
  quietLogger,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const TABLE = 'pr-11-orders'
const STACK = 'pr-11-db'
/** Partition key only: the retained table's sort key is a blocking key difference. */
const TEMPLATE = tableTemplate({
  tableName: TABLE,
  logicalId: 'OrdersTable0A1B2C3D',
  deletionPolicy: 'Retain',
  keys: { partition: { name: 'pk', type: 'S' } }
})
const ITEMS: Item[] = Array.from({ length: 45 }, (_, i) => ({
  pk: { S: `order#${String(i).padStart(3, '0')}` },
  sk: { S: `v${i % 4}` },
  total: { N: `${i}.50` },
  lines: { L: [{ M: { sku: { S: `sku-${i}` }, qty: { N: String(i % 5) } } }] },
  tags: { SS: ['a', `t${i}`] },
  blob: { B: new Uint8Array([0, i, 255]) },
  ...(i % 3 === 0 ? { gone: { NULL: true }, ok: { BOOL: false } } : {})
}))

let moto: MotoServer
let clients: AwsClients
let ws: Workspace

beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
  ws = workspace(TEMPLATE)
})
afterAll(async () => {
  if (clients) destroyClients(clients)
  await moto?.stop()
  ws?.remove()
})

describe('backup-restore round trip on moto (executePlan, deploy, restoreBackups)', () => {
  it('backs up and deletes the orphan, and restores identical content into the table the deploy created; a second restore is skipped', async () => {
    await makeRetainedOrphan(clients, {
      stackName: STACK,
      tableName: TABLE,
      logicalId: 'OrdersTable0A1B2C3D',
      items: ITEMS
    })
    const before = await tableContent(clients, TABLE)
    expect(before).toHaveLength(ITEMS.length)

    const inputs = makeInputs(ws, { stage: 'pr-11', stackName: STACK, strategy: 'auto', awsBackup: true })
    const check = await runCheck(inputs, clients)
    expect(check.inspection.findings[0]?.owner).toBe('retained')
    expect(decisionOf(check, TABLE)).toBe('backup-restore')

    const { result: pre } = await executePlan(check, inputs, deps(clients))
    expect(pre.outcome).toBe('resolved')
    expect(pre.backupManifests).toHaveLength(1)
    expect(pre.backupArns).toHaveLength(1)
    expect(await tableContent(clients, TABLE)).toBeNull()
    const manifest = pre.backupManifests[0] as string

    // The deploy.
    await createStackAndWait(clients, STACK, TEMPLATE)
    expect(await tableContent(clients, TABLE)).toEqual([])

    const restoreInput = {
      backupDir: ws.backupDir,
      stage: 'pr-11',
      s3Bucket: null,
      tables: [{ name: TABLE, region: 'us-east-1' }],
      localManifests: pre.backupManifests,
      dryRun: false,
      logger: quietLogger,
      clock: systemClock
    }
    const restored = await restoreBackups(oneRegion(clients), restoreInput)
    expect(restored.outcome).toBe('restored')
    expect(restored.restoredItems).toBe(ITEMS.length)
    expect(restored.backupManifests).toEqual([manifest])
    // moto keeps a table's resource policy when the table is deleted and created again under the
    // same name: the new table carried the write fence, and the restore took it down first.
    expect(restored.steps.map(s => `${s.action}:${s.status}`)).toEqual([
      'write fence removed:done',
      'restore:done',
      'verify:done',
      'record restore:done'
    ])
    expect(await tableContent(clients, TABLE)).toEqual(before)

    const again = await restoreBackups(oneRegion(clients), restoreInput)
    expect(again.outcome).toBe('nothing-to-do')
    expect(again.restoredItems).toBe(0)
    expect(again.steps).toEqual([
      expect.objectContaining({
        table: TABLE,
        action: 'restore',
        status: 'skipped',
        detail: expect.stringMatching(
          /^already restored and verified \(tag dynamodb-orphan-guard:restored-from=pr-11\//
        )
      })
    ])
    expect(await tableContent(clients, TABLE)).toEqual(before)

    // And the pre-deploy check right after the deploy finds nothing to do.
    const after = await runCheck(inputs, clients)
    expect(decisionOf(after, TABLE)).toBe('none')
    // A whole round trip against moto takes 4-5 s on a quiet machine: jest's 5 s default is too tight.
  }, 30_000)
})

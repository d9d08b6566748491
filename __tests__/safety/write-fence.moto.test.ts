/**
 * Safety rule: no write that reaches a table between its export check and its DeleteTable vanishes
 * without a word. A resource policy (the write fence) denies item writes to everyone but the run's
 * own session from before the last scan until the delete; the last scan must equal the export.
 * moto stores resource policies but does not enforce them, so the fence is shown by the calls made
 * (a recording proxy) and by the policy document; a write is injected on the wire right before the
 * fence goes up (the writer's request that the fence would not yet stop).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { PutItemCommand, PutResourcePolicyCommand } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { getResourcePolicy } from '../../src/aws/resource-policy.js'
import { executePlan } from '../../src/execute/execute-plan.js'
import {
  FENCE_SID,
  FENCED_ACTIONS,
  fenceStatement,
  FIRST_FENCE_SETTLE_MS,
  CHANGED_FENCE_SETTLE_MS
} from '../../src/execute/write-fence.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable, sampleItems, tableTemplate } from '../../test-support/orphans.js'
import {
  startRecordingProxy,
  type RecordingOptions,
  type RecordingProxy
} from '../../test-support/recording-proxy.js'
import {
  BACKUP_BUCKET,
  createBackupBucket,
  deps,
  makeInputs,
  runCheck,
  tableContent,
  workspace,
  type Workspace
} from '../../test-support/execution.js'

const RULE = 'no write between the export check and DeleteTable vanishes without a word'
const STACK = 'pr-7-db'
const TABLE = 'pr-7-orders'
const ARN = `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`
const TEMPLATE = tableTemplate({ tableName: TABLE, keys: { partition: { name: 'pk', type: 'S' } } })
/** A policy the table had before the run (someone's read access for another account). */
const OWN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AnalyticsRead',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::210987654321:root' },
      Action: ['dynamodb:GetItem', 'dynamodb:Query'],
      Resource: ARN
    }
  ]
})

let moto: MotoServer
let direct: AwsClients
let ws: Workspace
let userId: string
const opened: AwsClients[] = []
const proxies: RecordingProxy[] = []

beforeAll(async () => {
  moto = await startMoto()
  direct = testClients(moto.endpoint)
  userId = (await direct.sts.send(new GetCallerIdentityCommand({}))).UserId as string
})
afterAll(async () => {
  for (const c of [direct, ...opened]) destroyClients(c)
  await moto?.stop()
})
beforeEach(async () => {
  await moto.reset()
  await createBackupBucket(direct)
  ws = workspace(TEMPLATE)
  await makeUnmanagedTable(direct.dynamodb, { tableName: TABLE, items: sampleItems(30) })
})
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop()
  ws.remove()
})

async function recorded(opts?: RecordingOptions): Promise<{ clients: AwsClients; rec: RecordingProxy }> {
  const rec = await startRecordingProxy(moto.endpoint, opts)
  proxies.push(rec)
  const clients = testClients(rec.endpoint)
  opened.push(clients)
  return { clients, rec }
}

/** A late writer: its PutItem lands right before the fence is put (the fence would not stop it yet). */
function writerBeforeFence(): { opts: RecordingOptions; policies: string[] } {
  const policies: string[] = []
  let wrote = false
  return {
    policies,
    opts: {
      onRequest: async (call, body) => {
        if (call.operation !== 'DynamoDB.PutResourcePolicy') return
        policies.push((JSON.parse(body.toString('utf8')) as { Policy: string }).Policy)
        if (wrote) return
        wrote = true
        await direct.dynamodb.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: { pk: { S: 'late' }, sk: { S: 'write' }, n: { N: '1' } }
          })
        )
      }
    }
  }
}

function inputsFor(over: Parameters<typeof makeInputs>[1] extends infer T ? Partial<T> : never = {}) {
  return makeInputs(ws, { stackName: STACK, strategy: 'backup-restore', s3Bucket: BACKUP_BUCKET, ...over })
}

describe(RULE, () => {
  it('the fence is up, in effect, before the last scan and the delete; it denies every item write to all but this session', async () => {
    const policies: string[] = []
    const { clients, rec } = await recorded({
      onRequest: (call, body) => {
        if (call.operation === 'DynamoDB.PutResourcePolicy')
          policies.push((JSON.parse(body.toString('utf8')) as { Policy: string }).Policy)
      }
    })
    const inputs = inputsFor()
    const check = await runCheck(inputs, clients)
    const run = deps(clients)

    const { result } = await executePlan(check, inputs, run)

    expect(result.outcome).toBe('resolved')
    const ops = rec.operations()
    const fence = ops.indexOf('DynamoDB.PutResourcePolicy')
    const lastScan = ops.lastIndexOf('DynamoDB.Scan')
    const del = ops.indexOf('DynamoDB.DeleteTable')
    const manifestRead = rec.calls.findLastIndex(
      c => c.operation === 'S3.GetObject' && (c.target ?? '').endsWith('/manifest.json')
    )
    expect(fence).toBeGreaterThan(manifestRead) // after the copy was read back
    expect(lastScan).toBeGreaterThan(fence)
    expect(del).toBeGreaterThan(lastScan)
    // Waited until GetResourcePolicy showed it, then the settle time, before the scan.
    expect(ops.slice(fence, lastScan)).toContain('DynamoDB.GetResourcePolicy')
    expect(run.slept).toContain(FIRST_FENCE_SETTLE_MS)
    expect(policies).toHaveLength(1)
    expect(JSON.parse(policies[0] as string)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: FENCE_SID,
          Effect: 'Deny',
          Principal: '*',
          Action: [
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:PartiQLInsert',
            'dynamodb:PartiQLUpdate',
            'dynamodb:PartiQLDelete'
          ],
          Resource: ARN,
          Condition: { StringNotEquals: { 'aws:userid': userId } }
        }
      ]
    })
    expect(FENCED_ACTIONS).toHaveLength(7)
    const step = result.steps.find(s => s.action === 'write fence')
    expect(step).toMatchObject({ status: 'done' })
    expect(step?.detail).toMatch(new RegExp(`denies item writes to every principal but ${userId}`))
  })

  it('a write that lands after the export, before the fence holds: found by the scan behind the fence; nothing deleted, the write kept, the fence taken down', async () => {
    const late = writerBeforeFence()
    const { clients, rec } = await recorded(late.opts)
    const inputs = inputsFor()
    const check = await runCheck(inputs, clients)

    const { result } = await executePlan(check, inputs, deps(clients))

    expect(result.outcome).toBe('failed')
    expect(result.stateNote).toMatch(
      /The export of pr-7-orders does not match the table \(export: 30 items, table: 31 items, content digests differ\); was the table written to during the export\?/
    )
    expect(result.stateNote).toMatch(/untouched \(nothing was deleted\)/)
    expect(rec.operations()).not.toContain('DynamoDB.DeleteTable')
    expect(rec.operations()).not.toContain('DynamoDB.UpdateTable')
    expect(await tableContent(clients, TABLE)).toHaveLength(31)
    expect(await getResourcePolicy(direct.dynamodb, ARN)).toBeNull()
    expect(result.steps.map(s => `${s.action}: ${s.status}`)).toEqual([
      'export: done',
      'check export: done',
      'durable copy: done',
      'write fence: done',
      'write fence removed: done',
      'stopped: failed'
    ])
    expect(result.backupManifests).toEqual([])
  })

  it('a table with its own resource policy: the fence is added to it, and the policy is put back exactly as it was', async () => {
    await direct.dynamodb.send(new PutResourcePolicyCommand({ ResourceArn: ARN, Policy: OWN_POLICY }))
    const late = writerBeforeFence()
    const { clients } = await recorded(late.opts)
    const inputs = inputsFor()
    const check = await runCheck(inputs, clients)
    const run = deps(clients)

    const { result } = await executePlan(check, inputs, run)

    expect(result.outcome).toBe('failed')
    expect(late.policies).toHaveLength(2) // the fenced policy, then the original put back
    const fenced = JSON.parse(late.policies[0] as string) as { Statement: unknown[] }
    expect(fenced.Statement).toEqual([
      (JSON.parse(OWN_POLICY) as { Statement: unknown[] }).Statement[0],
      fenceStatement(ARN, userId)
    ])
    expect(late.policies[1]).toBe(OWN_POLICY)
    expect((await getResourcePolicy(direct.dynamodb, ARN))?.document).toBe(OWN_POLICY)
    // A changed policy takes longer to be enforced than a first one.
    expect(run.slept).toContain(CHANGED_FENCE_SETTLE_MS)
  })

  it('PutResourcePolicy denied: no fence, and the run says so (step, warning); the scan right before the delete is the proof', async () => {
    const warnings: string[] = []
    const { clients, rec } = await recorded({
      onRequest: call =>
        call.operation === 'DynamoDB.PutResourcePolicy'
          ? {
              status: 400,
              type: 'AccessDeniedException',
              message: `User: arn:aws:sts::123456789012:assumed-role/deployer/GitHubActions is not authorized to perform: dynamodb:PutResourcePolicy on resource: ${ARN}`
            }
          : undefined
    })
    const inputs = inputsFor()
    const check = await runCheck(inputs, clients)
    const run = {
      ...deps(clients),
      logger: { info: () => {}, debug: () => {}, warning: (m: string) => warnings.push(m) }
    }

    const { result } = await executePlan(check, inputs, run)

    expect(result.outcome).toBe('resolved')
    const step = result.steps.find(s => s.action === 'write fence')
    expect(step?.status).toBe('skipped')
    expect(step?.detail).toMatch(
      /no write fence could be set \(PutResourcePolicy: User: .* is not authorized/
    )
    expect(step?.detail).toMatch(
      /a write that reaches the table after the scan below and before DeleteTable would be lost/
    )
    expect(warnings.join('\n')).toMatch(/pr-7-orders: no write fence could be set/)
    expect(result.steps.find(s => s.action === 'verify export')?.detail).toMatch(
      /no write fence: this scan is the proof/
    )
    const ops = rec.operations()
    expect(ops.indexOf('DynamoDB.DeleteTable')).toBeGreaterThan(ops.lastIndexOf('DynamoDB.Scan'))
  })

  it('a fence an interrupted run left on a table this run does not delete is taken down before anything else', async () => {
    const leftover = JSON.stringify({
      Version: '2012-10-17',
      Statement: [fenceStatement(ARN, 'AROAOLDSESSION:GitHubActions')]
    })
    await direct.dynamodb.send(new PutResourcePolicyCommand({ ResourceArn: ARN, Policy: leftover }))
    // The template matches the live keys now: the table is imported, not re-created.
    const { clients } = await recorded()
    const matching = workspace(tableTemplate({ tableName: TABLE }))
    try {
      const inputs = makeInputs(matching, { stackName: STACK, strategy: 'auto', s3Bucket: BACKUP_BUCKET })
      const check = await runCheck(inputs, clients)
      expect(check.plan.entries[0]?.decision).toBe('import')

      const { result } = await executePlan(check, inputs, deps(clients))

      expect(result.steps[0]).toMatchObject({ table: TABLE, action: 'write fence removed', status: 'done' })
      expect(await getResourcePolicy(direct.dynamodb, ARN)).toBeNull()
    } finally {
      matching.remove()
    }
  })
})

/**
 * The write fence's own cases on moto (which stores resource policies and checks their revision
 * ids) and dynalite (which has no resource policies): what is put, what comes back, and when the
 * action goes on without a fence.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteResourcePolicyCommand,
  PutResourcePolicyCommand,
  type DynamoDBClient
} from '@aws-sdk/client-dynamodb'
import type { AwsClients, Sender } from '../../src/aws/clients.js'
import { getResourcePolicy } from '../../src/aws/resource-policy.js'
import { OperationError } from '../../src/errors.js'
import {
  FENCE_SID,
  fencedDocument,
  fenceStatement,
  hasFence,
  lowerWriteFence,
  MAX_POLICY_BYTES,
  raiseWriteFence,
  removeLeftoverFence,
  withoutFence
} from '../../src/execute/write-fence.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { fakeTime } from '../../test-support/execution.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import { makeUnmanagedTable } from '../../test-support/orphans.js'

const TABLE = 'pr-3-fenced'
const ARN = `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`
const USER = 'AROAEXAMPLEROLEID:GitHubActions'

let moto: MotoServer
let dynalite: RunningDynalite
let clients: AwsClients
let lite: AwsClients

beforeAll(async () => {
  ;[moto, dynalite] = await Promise.all([startMoto(), startDynalite()])
  clients = testClients(moto.endpoint)
  lite = testClients(dynalite.endpoint)
  await makeUnmanagedTable(lite.dynamodb, { tableName: TABLE })
})
afterAll(async () => {
  destroyClients(clients)
  destroyClients(lite)
  await Promise.all([moto?.stop(), dynalite?.stop()])
})
beforeEach(async () => {
  await moto.reset()
  await makeUnmanagedTable(clients.dynamodb, { tableName: TABLE })
})

/** A Sender whose first `n` commands of a kind fail with `name`. */
function failing(ddb: DynamoDBClient, kind: string, name: string, n: number): Sender<DynamoDBClient> {
  let failed = 0
  return {
    send: ((command: { constructor: { name: string } }) => {
      if (command.constructor.name === kind && failed++ < n)
        return Promise.reject(Object.assign(new Error(`${name}: injected`), { name }))
      return ddb.send(command as never)
    }) as DynamoDBClient['send']
  }
}

describe('policy documents (pure)', () => {
  it('adds the fence to a policy and takes exactly it out again', () => {
    const own = JSON.stringify({
      Version: '2012-10-17',
      Statement: { Sid: 'Read', Effect: 'Allow', Principal: '*', Action: 'dynamodb:GetItem', Resource: ARN }
    })
    const fenced = fencedDocument(own, fenceStatement(ARN, USER)) as string
    expect(hasFence(fenced)).toBe(true)
    expect(hasFence(own)).toBe(false)
    expect(JSON.parse(withoutFence(fenced) as string)).toEqual({
      Version: '2012-10-17',
      Statement: [(JSON.parse(own) as { Statement: unknown }).Statement]
    })
    expect(withoutFence(fencedDocument(null, fenceStatement(ARN, USER)) as string)).toBeNull()
    expect(fencedDocument('not json', fenceStatement(ARN, USER))).toBeNull()
    expect(fenceStatement(ARN, null)).not.toHaveProperty('Condition')
  })
})

describe('raiseWriteFence and lowerWriteFence (moto)', () => {
  it('a table without a policy: fenced (NO_POLICY revision), visible, waited for; lowered to no policy at all', async () => {
    const time = fakeTime()
    const raised = await raiseWriteFence(
      clients.dynamodb,
      { table: TABLE, tableArn: ARN, userId: USER },
      time
    )
    if (raised.fence === null) throw new Error(raised.why)
    expect(raised.fence.previous).toBeNull()
    expect((await getResourcePolicy(clients.dynamodb, ARN))?.revisionId).toBe(raised.fence.revisionId)
    expect(raised.waitedMs).toBeGreaterThanOrEqual(10_000)

    await lowerWriteFence(clients.dynamodb, raised.fence, time)
    expect(await getResourcePolicy(clients.dynamodb, ARN)).toBeNull()
  })

  it('a fence left by an interrupted run of this same session is reused without a new wait', async () => {
    const time = fakeTime()
    const first = await raiseWriteFence(clients.dynamodb, { table: TABLE, tableArn: ARN, userId: USER }, time)
    const slept = time.slept.length
    const again = await raiseWriteFence(clients.dynamodb, { table: TABLE, tableArn: ARN, userId: USER }, time)
    expect(again).toMatchObject({
      fence: { revisionId: first.fence?.revisionId, previous: null },
      waitedMs: 0
    })
    expect(time.slept.length).toBe(slept)
  })

  it('a policy too large to take the statement: no fence, with the reason; the policy is untouched', async () => {
    // A policy just under DynamoDB's limit: the fence statement no longer fits.
    const principals: string[] = []
    const policyOf = (): string =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Big',
            Effect: 'Allow',
            Principal: { AWS: principals },
            Action: 'dynamodb:GetItem',
            Resource: ARN
          }
        ]
      })
    while (Buffer.byteLength(policyOf()) < MAX_POLICY_BYTES - 100)
      principals.push(`arn:aws:iam::${String(principals.length).padStart(12, '0')}:root`)
    const huge = policyOf()
    expect(Buffer.byteLength(huge)).toBeLessThan(MAX_POLICY_BYTES)
    await clients.dynamodb.send(new PutResourcePolicyCommand({ ResourceArn: ARN, Policy: huge }))
    const raised = await raiseWriteFence(
      clients.dynamodb,
      { table: TABLE, tableArn: ARN, userId: USER },
      fakeTime()
    )
    expect(raised).toEqual({
      fence: null,
      why: expect.stringMatching(/would be \d+ bytes, over DynamoDB's 20480/)
    })
    expect((await getResourcePolicy(clients.dynamodb, ARN))?.document).toBe(huge)
  })

  it('PutResourcePolicy refused by a policy changed meanwhile: an OperationError, the table untouched', async () => {
    const raced = failing(clients.dynamodb, 'PutResourcePolicyCommand', 'PolicyNotFoundException', 1)
    const err = await raiseWriteFence(raced, { table: TABLE, tableArn: ARN, userId: USER }, fakeTime()).catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(OperationError)
    expect((err as OperationError).state).toMatch(
      /untouched .*its resource policy changed while the fence was being added/
    )
  })

  it('lowering retries through the 15 s update block; one that never succeeds says how to remove the fence by hand', async () => {
    const raised = await raiseWriteFence(
      clients.dynamodb,
      { table: TABLE, tableArn: ARN, userId: USER },
      fakeTime()
    )
    if (raised.fence === null) throw new Error(raised.why)
    const time = fakeTime()
    await lowerWriteFence(
      failing(clients.dynamodb, 'DeleteResourcePolicyCommand', 'LimitExceededException', 2),
      raised.fence,
      time
    )
    expect(await getResourcePolicy(clients.dynamodb, ARN)).toBeNull()
    expect(time.slept.length).toBe(2)

    const again = await raiseWriteFence(
      clients.dynamodb,
      { table: TABLE, tableArn: ARN, userId: USER },
      fakeTime()
    )
    if (again.fence === null) throw new Error(again.why)
    const err = await lowerWriteFence(
      failing(clients.dynamodb, 'DeleteResourcePolicyCommand', 'AccessDeniedException', 1000),
      again.fence,
      fakeTime()
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OperationError)
    expect((err as OperationError).state).toContain(
      `aws dynamodb delete-resource-policy --resource-arn ${ARN}`
    )
    expect((err as OperationError).state).toContain(
      `Item writes to ${TABLE} are still denied by the statement ${FENCE_SID}`
    )
  })

  it('someone edits the policy while the fence is up: lowering takes out only the fence', async () => {
    const raised = await raiseWriteFence(
      clients.dynamodb,
      { table: TABLE, tableArn: ARN, userId: USER },
      fakeTime()
    )
    if (raised.fence === null) throw new Error(raised.why)
    const edited = fencedDocument(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: 'New', Effect: 'Allow', Principal: '*', Action: 'dynamodb:Query', Resource: ARN }]
      }),
      fenceStatement(ARN, USER)
    ) as string
    await clients.dynamodb.send(new PutResourcePolicyCommand({ ResourceArn: ARN, Policy: edited }))
    await lowerWriteFence(clients.dynamodb, raised.fence, fakeTime())
    const left = await getResourcePolicy(clients.dynamodb, ARN)
    expect(JSON.parse(left?.document ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'New', Effect: 'Allow', Principal: '*', Action: 'dynamodb:Query', Resource: ARN }]
    })
    await clients.dynamodb.send(new DeleteResourcePolicyCommand({ ResourceArn: ARN }))
  })

  it('removeLeftoverFence: false for a table without one, true (and gone) for one with it', async () => {
    expect(await removeLeftoverFence(clients.dynamodb, { name: TABLE, arn: ARN }, fakeTime())).toBe(false)
    await raiseWriteFence(
      clients.dynamodb,
      { table: TABLE, tableArn: ARN, userId: 'AROAOTHER:old' },
      fakeTime()
    )
    expect(await removeLeftoverFence(clients.dynamodb, { name: TABLE, arn: ARN }, fakeTime())).toBe(true)
    expect(await getResourcePolicy(clients.dynamodb, ARN)).toBeNull()
  })
})

describe('an endpoint without resource policies (dynalite)', () => {
  it('no fence, with the reason, and nothing thrown; no leftover to remove', async () => {
    const raised = await raiseWriteFence(
      lite.dynamodb,
      { table: TABLE, tableArn: ARN, userId: USER },
      fakeTime()
    )
    expect(raised.fence).toBeNull()
    expect(raised.fence === null && raised.why).toMatch(/^GetResourcePolicy: /)
    expect(await removeLeftoverFence(lite.dynamodb, { name: TABLE, arn: ARN }, fakeTime())).toBe(false)
  })
})

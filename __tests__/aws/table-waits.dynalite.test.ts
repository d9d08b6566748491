/**
 * waitForTable uses the SDK's waiters (waitUntilTableExists / waitUntilTableNotExists) and adds
 * what they lack: an error polling cannot cure ends the wait at once, and a timeout is a sentence
 * about the table's state, not a JSON dump. dynalite keeps tables in DELETING / UPDATING for a
 * while here, so the waits really poll.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { DeleteTableCommand, UpdateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { AwsClients } from '../../src/aws/clients.js'
import { waitForTable } from '../../src/aws/dynamodb-write.js'
import { systemClock, type WaitOptions } from '../../src/types.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startDynalite, type RunningDynalite } from '../../test-support/dynalite.js'
import { makeUnmanagedTable } from '../../test-support/orphans.js'

let dynalite: RunningDynalite
let clients: AwsClients
const wait = (maxWaitMs: number): WaitOptions => ({ ...systemClock, maxWaitMs, pollMs: 100 })

beforeAll(async () => {
  dynalite = await startDynalite({ deleteTableMs: 600, updateTableMs: 600 })
  clients = testClients(dynalite.endpoint)
})
afterAll(async () => {
  destroyClients(clients)
  await dynalite?.stop()
})

describe('waitForTable (the SDK waiters)', () => {
  it('waits until a table being deleted is gone', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'going' })
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: 'going' }))
    const started = Date.now()
    await waitForTable(clients.dynamodb, 'going', 'GONE', wait(10_000))
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
  })

  it('waits until an updated table is ACTIVE again', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'updating' })
    await clients.dynamodb.send(
      new UpdateTableCommand({
        TableName: 'updating',
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }
      })
    )
    await waitForTable(clients.dynamodb, 'updating', 'ACTIVE', wait(10_000))
  })

  it('a timeout says in words what state the table was left in', async () => {
    await makeUnmanagedTable(clients.dynamodb, { tableName: 'staying' })
    await expect(waitForTable(clients.dynamodb, 'staying', 'GONE', wait(1_000))).rejects.toThrow(
      /^table staying is still ACTIVE after 1 s \(waiting for GONE\)$/
    )
  })

  it('an error polling cannot cure ends the wait at once', async () => {
    let calls = 0
    const denied = {
      send: (async () => {
        calls++
        throw Object.assign(new Error('User is not authorized to perform: dynamodb:DescribeTable'), {
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 }
        })
      }) as DynamoDBClient['send']
    }
    const started = Date.now()
    await expect(waitForTable(denied, 't', 'ACTIVE', wait(30_000))).rejects.toThrow(/not authorized/)
    expect([calls, Date.now() - started < 5_000]).toEqual([1, true])
  })
})

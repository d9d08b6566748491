import { DeleteTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb'
import { awsErrorName, describeTableOrNull } from './dynamodb-read.js'
import type { WaitOptions } from '../types.js'
import type { Sender } from './clients.js'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

/**
 * The mutating DynamoDB calls of the strategies, each named after what it does. Nothing here
 * decides whether a call is allowed: execute/ does, and re-checks right before calling.
 */

/** UpdateTable DeletionProtectionEnabled=false; waits until the table is ACTIVE again. */
export async function turnOffDeletionProtection(
  ddb: Sender<DynamoDBClient>,
  tableName: string,
  wait: WaitOptions
): Promise<void> {
  await ddb.send(new UpdateTableCommand({ TableName: tableName, DeletionProtectionEnabled: false }))
  await waitForTable(ddb, tableName, 'ACTIVE', wait)
}

/** DeleteTable, then waits until DescribeTable says it is gone (DynamoDB deletes asynchronously). */
export async function deleteTableAndWait(
  ddb: Sender<DynamoDBClient>,
  tableName: string,
  wait: WaitOptions
): Promise<void> {
  try {
    await ddb.send(new DeleteTableCommand({ TableName: tableName }))
  } catch (err) {
    // Already gone (e.g. a retried request whose first attempt succeeded): that is the goal.
    if (awsErrorName(err) !== 'ResourceNotFoundException') throw err
  }
  await waitForTable(ddb, tableName, 'GONE', wait)
}

/** Polls DescribeTable until the table is in `wanted` state ('GONE' = does not exist). */
export async function waitForTable(
  ddb: Sender<DynamoDBClient>,
  tableName: string,
  wanted: 'ACTIVE' | 'GONE',
  wait: WaitOptions
): Promise<void> {
  const deadline = wait.now() + wait.maxWaitMs
  for (;;) {
    const table = await describeTableOrNull(ddb, tableName)
    const status = table === null ? 'GONE' : (table.TableStatus ?? 'UNKNOWN')
    if (status === wanted) return
    if (wait.now() >= deadline) {
      throw new Error(
        `table ${tableName} is still ${status} after ${Math.round(wait.maxWaitMs / 1000)} s (waiting for ${wanted})`
      )
    }
    await wait.sleep(wait.pollMs)
  }
}

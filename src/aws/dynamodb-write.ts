import {
  DeleteTableCommand,
  TagResourceCommand,
  UpdateTableCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type DescribeTableCommand
} from '@aws-sdk/client-dynamodb'
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

/** TagResource: adds (or replaces) these tags on a table. */
export async function tagTable(
  ddb: Sender<DynamoDBClient>,
  tableArn: string,
  tags: Record<string, string>
): Promise<void> {
  await ddb.send(
    new TagResourceCommand({
      ResourceArn: tableArn,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
    })
  )
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

/**
 * Waits with the SDK's waiters (waitUntilTableExists: ACTIVE; waitUntilTableNotExists: GONE), polling
 * from `pollMs` up to five times that, for at most `maxWaitMs`. They sleep on real time, not on
 * `wait`'s clock: DynamoDB and the emulators settle a table in seconds, and no test waits on them.
 * What the waiters do not do is added here: an error that polling cannot cure (AccessDenied, a
 * validation error) ends the wait at once instead of after `maxWaitMs`, and a timeout says in words
 * what state the table was left in (their TimeoutError's message is a JSON dump of the responses).
 */
export async function waitForTable(
  ddb: Sender<DynamoDBClient>,
  tableName: string,
  wanted: 'ACTIVE' | 'GONE',
  wait: WaitOptions
): Promise<void> {
  const abort = new AbortController()
  let fatal: { err: unknown } | null = null
  const client = {
    send: async (command: DescribeTableCommand) => {
      try {
        return await ddb.send(command)
      } catch (err) {
        if (!mayPass(err)) {
          fatal ??= { err }
          abort.abort()
        }
        throw err
      }
    }
  } as unknown as DynamoDBClient // the waiters call nothing but send
  const minDelay = Math.max(wait.pollMs / 1000, 0.001)
  const params = {
    client,
    abortSignal: abort.signal,
    minDelay,
    maxDelay: minDelay * 5,
    maxWaitTime: Math.max(wait.maxWaitMs / 1000, minDelay * 2)
  }
  try {
    if (wanted === 'ACTIVE') await waitUntilTableExists(params, { TableName: tableName })
    else await waitUntilTableNotExists(params, { TableName: tableName })
  } catch (err) {
    if (fatal !== null) throw (fatal as { err: unknown }).err
    const table = await describeTableOrNull(ddb, tableName).catch(() => undefined)
    const status =
      table === undefined ? 'in an unknown state' : table === null ? 'GONE' : (table.TableStatus ?? 'UNKNOWN')
    throw new Error(
      `table ${tableName} is still ${status} after ${Math.round(wait.maxWaitMs / 1000)} s (waiting for ${wanted})`,
      { cause: err }
    )
  }
}

/** Errors a waiter may poll through: the table not (yet) there, throttling, a server or network fault. */
function mayPass(err: unknown): boolean {
  const e = err as {
    name?: string
    $fault?: string
    $retryable?: unknown
    $metadata?: { httpStatusCode?: number }
  }
  if (e.name === 'ResourceNotFoundException') return true
  if (e.$retryable !== undefined || e.$fault === 'server') return true
  const status = e.$metadata?.httpStatusCode
  return status === undefined || status === 429 || status >= 500
}

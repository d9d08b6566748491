/**
 * The debug call log on real SDK clients, whose requests a canned HTTP handler answers (no
 * server): one line per call with the operation, the table and the duration; never item data,
 * not even in a failure; and not there at all unless asked for.
 */
import { describe, expect, it } from '@jest/globals'
import { Readable } from 'node:stream'
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand
} from '@aws-sdk/client-dynamodb'
import { callTarget, installCallLog } from '../../src/aws/call-log.js'
import { createRunClients } from '../../src/run/clients.js'
import { destroyClients, type AwsClients } from '../../src/aws/clients.js'

const SECRET = 'customer-4711-secret@example.com'

/** A DynamoDB client whose every request gets `status` and `body`, without a network. */
function cannedClient(status: number, body: object): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => ({
        response: {
          statusCode: status,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Readable.from([Buffer.from(JSON.stringify(body))])
        }
      })
    }
  })
}

describe('the AWS call log', () => {
  it('says operation, table and duration for each call', async () => {
    const lines: string[] = []
    const ddb = cannedClient(200, { Table: { TableName: 't' } })
    let t = 1000
    installCallLog(
      ddb,
      'DynamoDB',
      line => lines.push(line),
      () => (t += 7)
    )
    await ddb.send(new DescribeTableCommand({ TableName: 'pr-5-orders' }))
    expect(lines).toEqual(['AWS DynamoDB.DescribeTable table=pr-5-orders: 7 ms'])
    ddb.destroy()
  })

  it('never logs item data: keys, items and start keys stay unread', async () => {
    const lines: string[] = []
    const ddb = cannedClient(200, { Items: [], Count: 0, UnprocessedItems: {} })
    installCallLog(ddb, 'DynamoDB', line => lines.push(line))
    await ddb.send(
      new ScanCommand({
        TableName: 'pr-5-orders',
        Segment: 3,
        TotalSegments: 16,
        ExclusiveStartKey: { pk: { S: SECRET } },
        FilterExpression: '#a = :v',
        ExpressionAttributeValues: { ':v': { S: SECRET } }
      })
    )
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: { 'pr-5-orders': [{ PutRequest: { Item: { pk: { S: SECRET } } } }] }
      })
    )
    expect(lines).toEqual([
      expect.stringMatching(/^AWS DynamoDB\.Scan table=pr-5-orders segment=3\/16: \d+ ms$/),
      expect.stringMatching(/^AWS DynamoDB\.BatchWriteItem table=pr-5-orders: \d+ ms$/)
    ])
    expect(lines.join('\n')).not.toContain(SECRET)
    ddb.destroy()
  })

  it('names a failure by its error and HTTP status, not its message (which can quote an item)', async () => {
    const lines: string[] = []
    const ddb = cannedClient(400, {
      __type: 'com.amazonaws.dynamodb.v20120810#ValidationException',
      message: `One or more parameter values were invalid: ${SECRET}`
    })
    installCallLog(ddb, 'DynamoDB', line => lines.push(line))
    await expect(
      ddb.send(new PutItemCommand({ TableName: 'pr-5-orders', Item: { pk: { S: SECRET } } }))
    ).rejects.toThrow(SECRET)
    expect(lines).toEqual([
      expect.stringMatching(
        /^AWS DynamoDB\.PutItem table=pr-5-orders: failed after \d+ ms: ValidationException \(HTTP 400\)$/
      )
    ])
    ddb.destroy()
  })

  it.each([
    [{ StackName: 'pr-5-db' }, ' stack=pr-5-db'],
    [
      { StackName: 'pr-5-db', ChangeSetName: 'orphan-guard-import-1' },
      ' stack=pr-5-db change set=orphan-guard-import-1'
    ],
    [
      { Bucket: 'backups', Key: 'pr-5/t/manifest.json', Body: SECRET },
      ' bucket=backups key=pr-5/t/manifest.json'
    ],
    [{ RequestItems: { a: [], b: [] } }, ' table=a,b'],
    [{}, ''],
    [null, '']
  ])('names what %j is about: %s', (input, text) => {
    expect(callTarget(input)).toBe(text)
  })

  it('is on every client of a run only when asked for (otherwise the data path pays nothing for it)', async () => {
    const withLog = createRunClients({ region: 'us-east-1', callLog: () => undefined })
    const without = createRunClients({ region: 'us-east-1' })
    const stacks = (c: AwsClients): string[] =>
      [c.dynamodb, c.cloudformation, c.s3, c.sts].map(client =>
        (client.middlewareStack as { identify(): string[] }).identify().join()
      )
    for (const names of stacks(withLog)) expect(names).toContain('orphanGuardCallLog')
    for (const names of stacks(without)) expect(names).not.toContain('orphanGuardCallLog')
    destroyClients(withLog)
    destroyClients(without)
  })
})

import { mockClient } from 'aws-sdk-client-mock'
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { splitTopLevelArrayBytes, type PageItems } from '../../src/data/json-scan.js'

const textsOf = (items: PageItems): string[] => Array.from({ length: items.length }, (_, i) => items.text(i))
import { scanPageWire } from '../../src/data/raw-scan.js'
import { createRunClients } from '../../src/run/clients.js'
import { installDataMiddleware } from '../../src/data/wire-middleware.js'

describe('splitTopLevelArrayBytes: the elements of one top-level array, as byte ranges of the UTF-8 text', () => {
  test.each<[string, string, string[] | null, string | null]>([
    [
      'Items first',
      '{"Items":[{"a":{"S":"x"}},{"b":{"N":"1"}}],"Count":2}',
      ['{"a":{"S":"x"}}', '{"b":{"N":"1"}}'],
      '{"Items":[],"Count":2}'
    ],
    [
      'Items after a key object that mentions Items',
      '{"LastEvaluatedKey":{"Items":{"S":"["}},"Items":[{"a":{"S":"]}"}}]}',
      ['{"a":{"S":"]}"}}'],
      '{"LastEvaluatedKey":{"Items":{"S":"["}},"Items":[]}'
    ],
    [
      'escaped quotes and backslashes in strings',
      '{"Items":[{"s":{"S":"a\\"b\\\\"}},{"t":{"S":"\\\\\\""}}]}',
      ['{"s":{"S":"a\\"b\\\\"}}', '{"t":{"S":"\\\\\\""}}'],
      '{"Items":[]}'
    ],
    [
      'a value string equal to the key is not the key',
      '{"X":"Items","Items":[{}]}',
      ['{}'],
      '{"X":"Items","Items":[]}'
    ],
    ['empty array', '{"Count":0,"Items":[]}', [], '{"Count":0,"Items":[]}'],
    [
      'whitespace',
      '{ "Items" : [ {"a":{"L":[{"S":"x"}]}} , {"b":{"M":{}}} ] }',
      ['{"a":{"L":[{"S":"x"}]}}', '{"b":{"M":{}}}'],
      '{ "Items" : [] }'
    ],
    [
      'multi-byte characters next to quotes and brackets',
      '{"Items":[{"é":{"S":"😀\\"]}ü"}}],"Count":1}',
      ['{"é":{"S":"😀\\"]}ü"}}'],
      '{"Items":[],"Count":1}'
    ],
    ['no such array', '{"Count":0}', null, null]
  ])('%s', (_name, text, elements, rest) => {
    const out = splitTopLevelArrayBytes(new TextEncoder().encode(text), 'Items')
    expect(out === null ? null : textsOf(out.elements)).toEqual(elements)
    expect(out?.rest.toString('utf8') ?? null).toBe(rest)
    expect(out?.elements.utf8 ?? true).toBe(true)
    if (out !== null)
      expect(textsOf(out.elements).map(e => JSON.parse(e) as unknown)).toEqual(
        (JSON.parse(text) as { Items: unknown[] }).Items
      )
  })
})

test('scanPageWire falls back to the decoded items when the middleware cannot run (mocked client)', async () => {
  const mock = mockClient(DynamoDBClient)
  mock.on(ScanCommand).resolves({
    Items: [{ pk: { S: 'a' }, b: { B: Uint8Array.from([0, 255]) }, n: { N: '1E+125' } }],
    LastEvaluatedKey: { pk: { S: 'a' } }
  })
  try {
    const page = await scanPageWire(new DynamoDBClient({ region: 'us-east-1' }), { TableName: 't' }, textsOf)
    expect(page.result.map(t => JSON.parse(t) as unknown)).toEqual([
      { pk: { S: 'a' }, b: { B: 'AP8=' }, n: { N: '1E+125' } }
    ])
    expect(page.lastEvaluatedKey).toEqual({ pk: { S: 'a' } })
    expect(page.via).toBe('sdk')
  } finally {
    mock.restore()
  }
})

describe('the data middlewares on a client that caches its middleware chains', () => {
  test("the action's DynamoDB client carries them from creation", () => {
    const { dynamodb, cloudformation } = createRunClients({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9'
    })
    try {
      expect(dynamodb.config.cacheMiddleware).toBe(true)
      expect(
        dynamodb.middlewareStack.identify().filter(n => n.startsWith('orphanGuardDataMiddleware-'))
      ).toHaveLength(2)
    } finally {
      dynamodb.destroy()
      cloudformation.destroy()
    }
  })

  test('a caching client without them is refused before any request (they would silently not run)', async () => {
    const ddb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      cacheMiddleware: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
    })
    try {
      await expect(scanPageWire(ddb, { TableName: 't' }, items => items.length)).rejects.toThrow(
        /cacheMiddleware needs installDataMiddleware/
      )
    } finally {
      ddb.destroy()
    }
  })

  test('installing them after the caching client has sent a request is refused (its chains are already cached)', async () => {
    const ddb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      cacheMiddleware: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
    })
    try {
      await expect(ddb.send(new ScanCommand({ TableName: 't' }))).rejects.toThrow()
      expect(() => installDataMiddleware(ddb)).toThrow(/before the first request/)
    } finally {
      ddb.destroy()
    }
  })
})

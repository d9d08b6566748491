/** Shared helpers of the data-engine tests (not a test file). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  type AttributeValue,
  type KeySchemaElement,
  type ScalarAttributeType,
  waitUntilTableExists
} from '@aws-sdk/client-dynamodb'
import { canonicalItem } from '../../src/data/digest.js'
import { sdkItemToWire, type SdkItem, type WireItem, type WireValue } from '../../src/data/dynamodb-json.js'
import type { Clock, Logger } from '../../src/types.js'

export const REGION = 'us-east-1'

export function client(endpoint: string, maxAttempts = 1): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts
  })
}

export function silentLogger(lines: string[] = []): Logger {
  return { info: m => lines.push(m), warning: m => lines.push(`warning: ${m}`), debug: () => undefined }
}

/** The real time, without the waits: backoff in the engine under test returns at once. */
export const noWait: Clock = { now: () => Date.now(), sleep: async () => undefined }

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ddb-data-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export type KeyDef = { name: string; type: ScalarAttributeType }

export async function createTable(
  ddb: DynamoDBClient,
  name: string,
  hash: KeyDef,
  range?: KeyDef
): Promise<void> {
  const KeySchema: KeySchemaElement[] = [{ AttributeName: hash.name, KeyType: 'HASH' }]
  const AttributeDefinitions = [{ AttributeName: hash.name, AttributeType: hash.type }]
  if (range !== undefined) {
    KeySchema.push({ AttributeName: range.name, KeyType: 'RANGE' })
    AttributeDefinitions.push({ AttributeName: range.name, AttributeType: range.type })
  }
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema,
      AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST'
    })
  )
  // dynalite turns the table ACTIVE on a timer (createTableMs: 0), which a loaded machine can run
  // after the test's first write: wait for it, as a client of DynamoDB must.
  await waitUntilTableExists(
    { client: ddb, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: name }
  )
}

export async function putAll(ddb: DynamoDBClient, table: string, items: SdkItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let req = items.slice(i, i + 25).map(Item => ({ PutRequest: { Item } }))
    while (req.length > 0) {
      const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: req } }))
      req = (out.UnprocessedItems?.[table] ?? []) as typeof req
    }
  }
}

export async function scanAll(ddb: DynamoDBClient, table: string): Promise<SdkItem[]> {
  const items: SdkItem[] = []
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey }))
    items.push(...(page.Items ?? []))
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey !== undefined)
  return items
}

function sortKeysDeep(v: WireValue): unknown {
  const [t, x] = Object.entries(v)[0] as [string, unknown]
  if (t === 'M') return { M: exactItem(x as WireItem) }
  if (t === 'L') return { L: (x as WireValue[]).map(sortKeysDeep) }
  return v
}

/** Map keys sorted, everything else exactly as stored (number spelling, set order, base64). */
export function exactItem(item: WireItem): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(item)
      .sort()
      .map(k => [k, sortKeysDeep(item[k] as WireValue)])
  )
}

/** The table's items in a form that compares byte-exact: sorted list of exact JSON texts. */
export async function tableSnapshot(
  ddb: DynamoDBClient,
  table: string
): Promise<{ exact: string[]; canonical: string[] }> {
  const wire = (await scanAll(ddb, table)).map(sdkItemToWire)
  return {
    exact: wire.map(w => JSON.stringify(exactItem(w))).sort(),
    canonical: wire.map(canonicalItem).sort()
  }
}

/** A mixed ~400-byte item (bench-like) with key pk=S, sk=N. */
export function plainItem(i: number): SdkItem {
  return {
    pk: { S: `user#${i % 97}` },
    sk: { N: String(i) },
    name: { S: `name ${i} ${'x'.repeat(i % 40)}` },
    score: { N: `${i}.${i % 1000}` },
    tags: { SS: [`t${i % 5}`, `u${i % 7}`] },
    flag: { BOOL: i % 2 === 0 },
    blob: { B: Uint8Array.from({ length: 16 }, (_, j) => (i + j) & 255) },
    nested: { M: { a: { L: [{ N: String(i) }, { S: 'x' }, { NULL: true }] } } }
  }
}

function deepMap(depth: number): AttributeValue {
  return depth === 0
    ? { S: 'bottom 🌊' }
    : { M: { [`level${depth}`]: deepMap(depth - 1), n: { N: String(depth) } } }
}

/**
 * Items that break naive exporters (key schema pk=S, sk=N). `big`: sizes of the near-400 KB
 * items (moto's limit is 405,000 of its own measure, with binary counted as base64 text).
 */
export function trickyItems(big = { string: 400 * 1024 - 200, binary: 400 * 1024 - 200 }): SdkItem[] {
  const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i)
  return [
    {
      pk: { S: 'every-type' },
      sk: { N: '1' },
      s: { S: 'plain' },
      n: { N: '42' },
      b: { B: everyByte },
      ss: { SS: ['a', 'b', '😀'] },
      ns: { NS: ['1', '12345678901234567890123456789012345678', '-1E-130', '1E+125'] },
      bs: { BS: [everyByte, Uint8Array.from([0]), Uint8Array.from([255, 254])] },
      t: { BOOL: true },
      f: { BOOL: false },
      nul: { NULL: true },
      l: {
        L: [
          { S: 'x' },
          { N: '-0.5' },
          { NULL: true },
          { L: [] },
          { M: {} },
          { B: Uint8Array.from([1, 2, 3]) }
        ]
      },
      m: { M: { inner: { S: 'y' }, list: { L: [{ BOOL: false }] } } }
    },
    {
      pk: { S: 'numbers' },
      sk: { N: '12345678901234567890123456789012345678' },
      big: { N: '1E+125' },
      tiny: { N: '-1E-130' },
      max: { N: '9.9999999999999999999999999999999999999E+125' },
      digits38: { N: '-0.12345678901234567890123456789012345678' }
    },
    { pk: { S: 'numbers' }, sk: { N: '-1E-130' }, note: { S: 'negative tiny range key' } },
    { pk: { S: 'numbers' }, sk: { N: '1E+125' }, note: { S: 'huge range key' } },
    {
      pk: { S: 'empty' },
      sk: { N: '0' },
      emptyS: { S: '' },
      emptyB: { B: new Uint8Array(0) },
      emptyL: { L: [] },
      emptyM: { M: {} }
    },
    {
      pk: { S: '𝄞 astral 😀 𠜎 \u{10FFFD} key' },
      sk: { N: '7' },
      text: { S: 'emoji 👩‍👩‍👧 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, tab\t nl\n quote" backslash\\ nul\u0000' }
    },
    { pk: { S: 'deep' }, sk: { N: '10' }, deep: deepMap(10) },
    {
      pk: { S: 'binary' },
      sk: { N: '1' },
      all: { B: everyByte },
      reversed: { B: everyByte.slice().reverse() }
    },
    { pk: { S: 'big' }, sk: { N: '1' }, payload: { S: 'p'.repeat(big.string) } },
    { pk: { S: 'big' }, sk: { N: '2' }, payload: { B: new Uint8Array(big.binary).fill(0xab) } }
  ]
}

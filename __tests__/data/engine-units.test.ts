import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync, gzipSync } from 'node:zlib'
import { ContentDigest, canonicalItem, canonicalItemText, normalizeNumber } from '../../src/data/digest.js'
import { WireFormatError, sdkItemToWire, wireItemToSdk, type WireItem } from '../../src/data/dynamodb-json.js'
import { backoffDelay, classifyError } from '../../src/data/retry.js'
import { AimdWindow } from '../../src/data/restore.js'
import { itemRef, keyHash, keyProblem, withoutItemValues } from '../../src/data/key-fit.js'
import { Progress, formatDuration, progressLine } from '../../src/data/progress.js'
import type { Logger, ProgressUpdate } from '../../src/types.js'
import { DataFileWriter, chooseSegments, exportTable } from '../../src/data/export.js'
import { mockClient } from 'aws-sdk-client-mock'
import { DescribeTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { parseLine, readDataLines, readLegacyFile } from '../../src/data/readers.js'
import { keyText, scanItemLine } from '../../src/data/item-line.js'
import { PageItems } from '../../src/data/json-scan.js'
import type { KeyAttribute } from '../../src/data/manifest.js'
import { TOOL_VERSION } from '../../src/data/manifest.js'
import { silentLogger, trickyItems } from './helpers.js'
import { benchItem } from '../../bench/generate.js'

/** ContentDigest.add over bench items 0..199, computed with the canonical-v1 code before canonicalItemText existed. */
const GOLDEN_200 = '75cf0ce5185e21d935fc055afad94af206d98b23fa87401ab796a7daaa149080'

describe('normalizeNumber: one spelling per number', () => {
  test.each([
    ['0', '0'],
    ['-0', '0'],
    ['0.000', '0'],
    ['1', '1e0'],
    ['1.50', '15e-1'],
    ['15E-1', '15e-1'],
    ['0001.5', '15e-1'],
    ['100', '1e2'],
    ['1E+2', '1e2'],
    ['-1E-130', '-1e-130'],
    ['1E+125', '1e125'],
    ['12345678901234567890123456789012345678', '12345678901234567890123456789012345678e0'],
    ['-.5', '-5e-1'],
    ['+7', '7e0'],
    ['abc', '?abc']
  ])('%s → %s', (input, expected) => {
    expect(normalizeNumber(input)).toBe(expected)
  })
})

describe('canonicalItem: equal items give equal text, different ones differ', () => {
  const base: WireItem = {
    a: { S: 'x' },
    m: { M: { z: { N: '1' }, y: { SS: ['b', 'a'] } } },
    ns: { NS: ['10', '2'] },
    bs: { BS: ['AQ==', 'AA=='] }
  }
  test.each<[string, WireItem]>([
    [
      'map keys in another order',
      {
        m: { M: { y: { SS: ['a', 'b'] }, z: { N: '1' } } },
        a: { S: 'x' },
        ns: { NS: ['10', '2'] },
        bs: { BS: ['AA==', 'AQ=='] }
      }
    ],
    [
      'set members in another order',
      {
        a: { S: 'x' },
        m: { M: { z: { N: '1' }, y: { SS: ['a', 'b'] } } },
        ns: { NS: ['2', '10'] },
        bs: { BS: ['AQ==', 'AA=='] }
      }
    ],
    [
      'numbers spelled differently',
      {
        a: { S: 'x' },
        m: { M: { z: { N: '1.0' }, y: { SS: ['b', 'a'] } } },
        ns: { NS: ['1E+1', '2.00'] },
        bs: { BS: ['AQ==', 'AA=='] }
      }
    ]
  ])('same: %s', (_name, other) => {
    expect(canonicalItem(other)).toBe(canonicalItem(base))
  })
  test.each<[string, WireItem, WireItem]>([
    ['S vs N', { a: { S: '1' } }, { a: { N: '1' } }],
    ['list order matters', { a: { L: [{ S: 'x' }, { S: 'y' }] } }, { a: { L: [{ S: 'y' }, { S: 'x' }] } }],
    ['SS vs L of S', { a: { SS: ['x'] } }, { a: { L: [{ S: 'x' }] } }],
    ['empty string vs NULL', { a: { S: '' } }, { a: { NULL: true } }],
    ['BOOL false vs true', { a: { BOOL: false } }, { a: { BOOL: true } }],
    ['attribute name', { a: { S: 'x' } }, { b: { S: 'x' } }],
    ['string with a separator inside', { a: { S: 'x",b:Sy' } }, { a: { S: 'x' }, b: { S: 'y' } }]
  ])('different: %s', (_name, x, y) => {
    expect(canonicalItem(x)).not.toBe(canonicalItem(y))
  })
})

describe('canonicalItemText: the canonical form read from the text equals canonicalItem of the parsed item', () => {
  test.each<[string, string]>([
    [
      'compact item of every type',
      '{"s":{"S":"x"},"n":{"N":"-0012.3400E+2"},"b":{"B":"AQI="},"ss":{"SS":["b","a"]},"ns":{"NS":["10","2","1.0"]},"bs":{"BS":["AQ==","AA=="]},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},"l":{"L":[{"S":"y"},{"N":"1"},{"L":[]},{"M":{}}]},"m":{"M":{"z":{"N":"1"},"a":{"SS":["q"]}}}}'
    ],
    ['empty item', '{}'],
    [
      'names that sort below the closing quote (space, !)',
      '{"a b":{"S":"1"},"a":{"S":"2"},"a!":{"S":"3"},"":{"S":"4"}}'
    ],
    [
      'names and values with escapes',
      '{"a\\"b":{"S":"line\\nbreak \\u00e9 \\/ \\"q\\""},"c":{"SS":["\\u0041","B"]},"d":{"B":"AQ\\/="}}'
    ],
    ['non-ASCII names and values, astral characters', '{"é":{"S":"ü😀"},"e":{"S":"z"},"😀":{"N":"1"}}'],
    ['a lone surrogate escaped', '{"a":{"S":"\\ud800"}}'],
    ['whitespace between tokens', '{ "a" : { "S" : "x" } ,\n "b":{"N":"1"}}'],
    ['a duplicate name (JSON.parse keeps the last)', '{"a":{"S":"x"},"a":{"S":"y"}}'],
    ['an unknown attribute type', '{"a":{"Q":[1,2]},"b":{"S":"x"}}'],
    ['a value object with two type keys', '{"a":{"S":"x","N":"1"}}'],
    ['NULL false and BOOL as a string', '{"a":{"NULL":false},"b":{"BOOL":"true"}}'],
    [
      'integer-like names (Object.keys puts them first)',
      '{"b":{"S":"1"},"10":{"S":"2"},"2":{"S":"3"},"a":{"M":{"1":{"N":"1"},"0":{"N":"0"}}}}'
    ]
  ])('%s', (_name, text) => {
    expect(canonicalItemText(text)).toBe(canonicalItem(JSON.parse(text) as WireItem))
  })

  test('a text that is not JSON is an error, not a digest', () => {
    expect(() => canonicalItemText('{"a":{"S":"x"}')).toThrow(SyntaxError)
    expect(() => canonicalItemText('{"a":{"S":"x"}}x')).toThrow(SyntaxError)
  })

  test('the digest of the bench items is the canonical-v1 value recorded before the text path existed', () => {
    const byText = new ContentDigest()
    const byItem = new ContentDigest()
    for (let i = 0; i < 200; i++) {
      const text = JSON.stringify(sdkItemToWire(benchItem(i)))
      byText.addText(text)
      byItem.add(JSON.parse(text) as WireItem)
    }
    expect(byText.hex()).toBe(byItem.hex())
    expect(byText.hex()).toBe(GOLDEN_200)
  })
})

describe('scanItemLine: the write path reads text and key without parsing, exactly as parsing would', () => {
  const pkSk: KeyAttribute[] = [
    { name: 'pk', type: 'HASH', attributeType: 'S' },
    { name: 'sk', type: 'RANGE', attributeType: 'N' }
  ]
  /** What the restore used before: parse the line, take its item text and keyText. */
  const byParsing = (line: string, keys: KeyAttribute[]): { text: string; key: string } => {
    const parsed = parseLine('f', 1, line)
    return { text: parsed.text, key: keyText(parsed.item, keys) }
  }

  test('every tricky item (all types, 38 digits, every byte, astral, 10-deep, ~400 KB) as our export writes it', () => {
    const items = trickyItems({ string: 50_000, binary: 50_000 })
    for (const item of items) {
      const line = `{"Item":${JSON.stringify(sdkItemToWire(item))}}`
      const scanned = scanItemLine(line, pkSk)
      expect(scanned).not.toBeNull()
      expect(scanned).toEqual(byParsing(line, pkSk))
    }
  })

  test('bench items, binary keys and a key attribute last or nested elsewhere too', () => {
    const keysB: KeyAttribute[] = [{ name: 'id', type: 'HASH', attributeType: 'B' }]
    const lines = [
      ...Array.from({ length: 50 }, (_, i) => `{"Item":${JSON.stringify(sdkItemToWire(benchItem(i)))}}`),
      '{"Item":{"x":{"M":{"id":{"B":"AA=="}}},"id":{"B":"AQI="}}}',
      '{"Item":{"l":{"L":[{"S":"\\"id\\":{"}]},"id":{"B":"/w=="}}}'
    ]
    const benchKeys: KeyAttribute[] = [
      { name: 'pk', type: 'HASH', attributeType: 'S' },
      { name: 'sk', type: 'RANGE', attributeType: 'S' }
    ]
    for (const line of lines.slice(0, 50))
      expect(scanItemLine(line, benchKeys)).toEqual(byParsing(line, benchKeys))
    for (const line of lines.slice(50)) expect(scanItemLine(line, keysB)).toEqual(byParsing(line, keysB))
  })

  test.each([
    ['whitespace', '{"Item": {"pk":{"S":"a"},"sk":{"N":"1"}}}'],
    ['another member after Item', '{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"x":1}'],
    ['a member before Item', '{"x":1,"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}'],
    ['an escape in the key value', '{"Item":{"pk":{"S":"a\\u0041"},"sk":{"N":"1"}}}'],
    ['the key name spelled with an escape', '{"Item":{"p\\u006b":{"S":"a"},"sk":{"N":"1"}}}'],
    ['a key attribute missing', '{"Item":{"pk":{"S":"a"}}}'],
    ['a key of another type', '{"Item":{"pk":{"N":"1"},"sk":{"N":"1"}}}'],
    ['a key value with two type keys', '{"Item":{"pk":{"S":"a","N":"1"},"sk":{"N":"1"}}}'],
    ['a truncated line', '{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}'],
    ['trailing text', '{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}x'],
    [
      'a second key attribute spelled with an escape (JSON.parse keeps the last)',
      '{"Item":{"pk":{"S":"a"},"p\\u006b":{"S":"b"},"sk":{"N":"1"}}}'
    ]
  ])('%s: not scanned (the caller parses the line)', (_name, line) => {
    expect(scanItemLine(line, pkSk)).toBeNull()
  })

  test('a key attribute whose name JSON must escape is read by the parse path, to the same key', () => {
    const keys: KeyAttribute[] = [{ name: 'p"k\\', type: 'HASH', attributeType: 'S' }]
    const line = `{"Item":${JSON.stringify({ 'p"k\\': { S: 'v' }, x: { N: '1' } })}}`
    expect(scanItemLine(line, keys)).toBeNull()
    expect(byParsing(line, keys)).toEqual({ text: line.slice(8, -1), key: '"v";' })
  })

  test('a name given twice in plain spelling: the last value is the key, as JSON.parse reads it', () => {
    const line = '{"Item":{"pk":{"S":"a"},"sk":{"N":"1"},"pk":{"S":"b"}}}'
    expect(scanItemLine(line, pkSk)).toEqual(byParsing(line, pkSk))
    expect(scanItemLine(line, pkSk)?.key).toBe('"b";"1";')
  })

  test('a line that falls back keeps its text as stored and gets its key from the parsed value', () => {
    const ok = '{"Item": {"pk":{"S":"a\\u0041"},"sk":{"N":"1"}}}'
    expect(scanItemLine(ok, pkSk)).toBeNull()
    expect(byParsing(ok, pkSk)).toEqual({ text: ' {"pk":{"S":"a\\u0041"},"sk":{"N":"1"}}', key: '"aA";"1";' })
  })
})

describe('readDataLines: lines found in the gunzipped bytes', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lines-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  const readAll = async (file: string, skipLines = 0): Promise<{ line: number; text: string }[]> => {
    const out: { line: number; text: string }[] = []
    for await (const group of readDataLines(file, { skipLines })) out.push(...group)
    return out
  }

  test('multi-byte characters and lines longer than a chunk come back whole; skipLines counts', async () => {
    const lines = Array.from({ length: 400 }, (_, i) =>
      i % 50 === 7 ? `é😀${'𠜎'.repeat(40_000)}${i}` : `line ${i} ü€😀 ${'x'.repeat(i * 37)}`
    )
    const file = join(dir, 'ok.json.gz')
    await writeFile(file, gzipSync(`${lines.join('\n')}\n`))
    const got = await readAll(file)
    expect(got.map(l => l.text)).toEqual(lines)
    expect(got.map(l => l.line)).toEqual(lines.map((_, i) => i + 1))
    expect((await readAll(file, 390)).map(l => l.line)).toEqual(Array.from({ length: 10 }, (_, i) => 391 + i))
  })

  test('a UTF-8 byte order mark before the first line is not part of it', async () => {
    const file = join(dir, 'bom.json.gz')
    await writeFile(file, gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\nb\n')])))
    expect((await readAll(file)).map(l => l.text)).toEqual(['a', 'b'])
  })

  test.each<[string, Buffer, RegExp]>([
    [
      'invalid UTF-8 names its line',
      Buffer.concat([Buffer.from('a\nb\nc'), Buffer.from([0xc3, 0x28]), Buffer.from('\nd\n')]),
      /line 3: invalid UTF-8/
    ],
    ['an empty line', Buffer.from('a\n\nb\n'), /line 2: empty line/],
    ['no newline at the end (truncated)', Buffer.from('a\nb'), /line 2: truncated/]
  ])('%s', async (name, bytes, message) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json.gz`)
    await writeFile(file, gzipSync(bytes))
    await expect(readAll(file)).rejects.toThrow(message)
  })
})

describe('export data files', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'writer-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('a page consumed again replaces the unflushed one, even when the retry is empty; pages alternate between two buffers', async () => {
    const writer = new DataFileWriter(join(dir, 'w.json.gz'), 'data/w.json.gz', 1)
    const first = new ContentDigest()
    writer.addPage(PageItems.fromTexts(['{"a":{"S":"x"}}', '{"a":{"S":"y"}}']), first)
    // The same page, retried, came back empty (its items were deleted meanwhile).
    expect(writer.addPage(PageItems.fromTexts([]), new ContentDigest())).toBe(0)
    writer.flushPage()
    await writer.ready()
    writer.addPage(PageItems.fromTexts(['{"a":{"S":"q"}}']), new ContentDigest())
    writer.flushPage()
    await writer.ready()
    writer.addPage(PageItems.fromTexts(['{"a":{"S":"z"}}']), new ContentDigest())
    const entry = await writer.close()
    const lines = '{"Item":{"a":{"S":"q"}}}\n{"Item":{"a":{"S":"z"}}}\n'
    expect(entry).toMatchObject({ items: 2, uncompressedBytes: lines.length })
    expect(gunzipSync(readFileSync(join(dir, 'w.json.gz'))).toString('utf8')).toBe(lines)
  })

  test.each(
    (['parallelSegments', 'pageItems'] as const).flatMap(option =>
      [0, -1, 1.5, Number.NaN].map(n => [option, n] as const)
    )
  )('%s %p is refused before anything is written', async (option, n) => {
    const mock = mockClient(DynamoDBClient)
    mock.on(DescribeTableCommand).resolves({
      Table: {
        TableName: 't',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }]
      }
    })
    try {
      const out = join(dir, `never-${option}-${String(n)}`)
      await expect(
        exportTable(new DynamoDBClient({ region: 'us-east-1' }), {
          table: 't',
          dir: out,
          region: 'us-east-1',
          [option]: n,
          logger: silentLogger()
        })
      ).rejects.toThrow(new RegExp(`${option} must be an integer from 1`))
      expect(existsSync(out)).toBe(false)
      expect(mock.commandCalls(ScanCommand)).toHaveLength(0)
    } finally {
      mock.restore()
    }
  })
})

describe('ContentDigest: a multiset hash', () => {
  const items: WireItem[] = Array.from({ length: 50 }, (_, i) => ({
    pk: { S: `k${i}` },
    v: { N: String(i) }
  }))
  const digestOf = (list: WireItem[]): ContentDigest => {
    const d = new ContentDigest()
    list.forEach(i => d.add(i))
    return d
  }
  test('order does not matter', () => {
    expect(digestOf(items.slice().reverse()).hex()).toBe(digestOf(items).hex())
  })
  test('a duplicated item or a missing item changes it (duplicates do not cancel out)', () => {
    const first = items[0] as WireItem
    expect(digestOf([...items, first, first]).hex()).not.toBe(digestOf(items).hex())
    expect(digestOf(items.slice(1)).hex()).not.toBe(digestOf(items).hex())
  })
  test('merging per-segment digests equals one digest over everything', () => {
    const a = digestOf(items.slice(0, 20))
    a.merge(digestOf(items.slice(20)))
    expect(a.hex()).toBe(digestOf(items).hex())
    expect(a.count).toBe(50)
  })
})

describe('DynamoDB JSON ⇄ SDK values', () => {
  test('binary becomes base64 and back; everything else is untouched and not copied', () => {
    const plain = { a: { S: 'x' }, n: { N: '1E+125' }, m: { M: { l: { L: [{ NULL: true as const }] } } } }
    expect(sdkItemToWire(plain)).toBe(plain)
    const bin = {
      a: { S: 'x' },
      b: { B: Uint8Array.from([0, 255]) },
      m: { M: { bs: { BS: [Uint8Array.from([1])] } } }
    }
    const wire = sdkItemToWire(bin)
    expect(wire).toEqual({ a: { S: 'x' }, b: { B: 'AP8=' }, m: { M: { bs: { BS: ['AQ=='] } } } })
    expect(wireItemToSdk(wire)).toEqual({
      a: { S: 'x' },
      b: { B: Buffer.from([0, 255]) },
      m: { M: { bs: { BS: [Buffer.from([1])] } } }
    })
  })
  test.each([
    [
      'two types in one value',
      { a: { S: 'x', N: '1' } },
      'Item.`a`: attribute value must have exactly one of'
    ],
    ['unknown type', { a: { X: 'x' } }, 'Item.`a`: attribute value must have exactly one of'],
    ['N as a JSON number', { a: { N: 1 } }, 'Item.`a`: N must be a string'],
    ['B that is not base64', { a: { B: 'not base64!' } }, 'Item.`a`: binary value is not base64 text'],
    [
      'nested bad value with its path (map keys are data: not shown)',
      { a: { M: { 'alice@e.example': { L: [{ S: 'ok' }, { BOOL: 'yes' }] } } } },
      'Item.`a`.*[1]: BOOL must be true or false'
    ],
    ['NULL false', { a: { NULL: false } }, 'Item.`a`: NULL must be true'],
    ['SS with a number', { a: { SS: ['x', 1] } }, 'Item.`a`: SS must be an array of strings'],
    [
      'a value object with data for keys: only type-like keys are shown',
      { a: { 'alice@e.example': 'x', S: 'y' } },
      'found […, S]'
    ]
  ])('refuses %s', (_name, item, message) => {
    expect(() => wireItemToSdk(item)).toThrow(WireFormatError)
    expect(() => wireItemToSdk(item)).toThrow(message)
  })
})

describe('keyProblem: does an item fit the target key schema', () => {
  const keys = [
    { name: 'pk', type: 'HASH' as const, attributeType: 'S' as const },
    { name: 'sk', type: 'RANGE' as const, attributeType: 'N' as const }
  ]
  test.each<[string, WireItem, string | null]>([
    ['fits', { pk: { S: 'a' }, sk: { N: '1' } }, null],
    ['missing range key', { pk: { S: 'a' } }, 'key attribute `sk` is missing'],
    ['wrong type', { pk: { N: '1' }, sk: { N: '1' } }, 'key attribute `pk` has type N, the table wants S'],
    ['empty string key', { pk: { S: '' }, sk: { N: '1' } }, 'key attribute `pk` is empty']
  ])('%s', (_name, item, expected) => {
    expect(keyProblem(item, keys)).toBe(expected)
  })
})

describe('classifyError: what is worth another try', () => {
  test.each<[string, unknown, string]>([
    [
      'ProvisionedThroughputExceededException',
      { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } },
      'throttle'
    ],
    ['ThrottlingException', { name: 'ThrottlingException' }, 'throttle'],
    ['RequestLimitExceeded', { name: 'RequestLimitExceeded' }, 'throttle'],
    ['HTTP 500', { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }, 'transient'],
    ['HTTP 503 of unknown name', { name: 'Whatever', $metadata: { httpStatusCode: 503 } }, 'transient'],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    ['timeout', { name: 'TimeoutError', message: 'Connection timed out after 1000 ms' }, 'transient'],
    ['ValidationException', { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }, 'fatal'],
    ['AccessDenied', { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, 'fatal'],
    ['ResourceNotFound', { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }, 'fatal'],
    ['not an error', 'oops', 'fatal']
  ])('%s → %s', (_name, err, expected) => {
    expect(classifyError(err)).toBe(expected)
  })
})

test('backoffDelay: full jitter under an exponential ceiling capped at capMs', () => {
  const policy = { baseMs: 10, capMs: 1000 }
  expect(backoffDelay(1, () => 0.999, policy)).toBe(19)
  expect(backoffDelay(3, () => 0.5, policy)).toBe(40)
  expect(backoffDelay(20, () => 0.999, policy)).toBe(999)
  expect(backoffDelay(5, () => 0, policy)).toBe(0)
})

describe('AimdWindow: adaptive batches in flight', () => {
  test('slow start grows by one per clean batch up to the maximum', () => {
    const w = new AimdWindow(2, 8)
    for (let i = 0; i < 20; i++) w.clean()
    expect(w.size).toBe(8)
    expect(w.peak).toBe(8)
  })
  test('throttling halves the window once per burst, then growth is additive', () => {
    const w = new AimdWindow(16, 16)
    w.congestion(10, 20)
    expect(w.size).toBe(8)
    // Requests sent before the cut report the same congestion: no second halving.
    w.congestion(15, 21)
    expect(w.size).toBe(8)
    w.congestion(20, 22)
    expect(w.size).toBe(4)
    for (let i = 0; i < 4; i++) w.clean()
    expect(w.size).toBe(4) // +1/cwnd per batch: about one per window
    for (let i = 0; i < 4; i++) w.clean()
    expect(w.size).toBe(5)
  })
  test('stops growing, then shrinks, when round trips lengthen with the window (a saturated server)', () => {
    const w = new AimdWindow(1, 16)
    // A server that serves one batch per 10 ms: the round trip is window × 10 ms.
    for (let i = 0; i < 400; i++) w.clean(w.size * 10)
    expect(w.size).toBeGreaterThanOrEqual(2)
    expect(w.size).toBeLessThanOrEqual(AimdWindow.QUEUE_HIGH + 2)
  })
  test('grows to the maximum when round trips stay flat (DynamoDB under its limits)', () => {
    const w = new AimdWindow(1, 16)
    for (let i = 0; i < 400; i++) w.clean(20 + (i % 5))
    expect(w.size).toBe(16)
  })
  test('never below one', () => {
    const w = new AimdWindow(1, 4)
    for (let i = 0; i < 5; i++) w.congestion(100 + i, 200 + i)
    expect(w.size).toBe(1)
  })
})

describe('progress lines', () => {
  test('one line per interval of the injected clock, with done, rate and ETA', () => {
    let now = 0
    const lines: string[] = []
    const p = new Progress({
      label: 'Restore t',
      logger: silentLogger(lines),
      now: () => now,
      total: 1000,
      intervalMs: 5000
    })
    now = 1000
    p.add(100)
    expect(lines).toEqual([])
    now = 5000
    p.add(400)
    expect(lines).toEqual(['Restore t: 500/1000 items (50%), 100 items/s, ETA 5s'])
    now = 10_000
    p.finish()
    expect(lines[1]).toBe('Restore t: 500/1000 items (50%), 50 items/s — done in 10s')
  })
  test.each([
    [0, '0s'],
    [59_000, '59s'],
    [61_000, '1m01s'],
    [3_725_000, '1h02m']
  ])('formatDuration(%i) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  test("the logger's own sink gets structured updates at its pace, and the lines go away", () => {
    let now = 0
    const lines: string[] = []
    const updates: ProgressUpdate[] = []
    const logger: Logger = {
      ...silentLogger(lines),
      progress: { intervalMs: 100, update: u => updates.push(u) }
    }
    const p = new Progress({
      label: 'Verify t',
      task: 'verify',
      table: 't',
      logger,
      now: () => now,
      total: 40
    })
    now = 50
    p.add(10)
    now = 100
    p.add(10)
    now = 150
    p.add(10)
    now = 200
    p.finish()
    p.finish()
    expect(lines).toEqual([])
    expect(updates.map(u => [u.task, u.table, u.done, u.total, u.state])).toEqual([
      ['verify', 't', 20, 40, 'running'],
      ['verify', 't', 30, 40, 'done']
    ])
    expect(updates[0]).toMatchObject({ label: 'Verify t', elapsedMs: 100, rate: 200, etaMs: 100 })
  })

  test('a copy that stops says so in its last line, and nothing comes after it', () => {
    let now = 0
    const lines: string[] = []
    const p = new Progress({
      label: 'Export t',
      logger: silentLogger(lines),
      now: () => now,
      intervalMs: 1000
    })
    now = 2000
    p.add(30)
    p.finish('stopped')
    now = 9000
    p.add(5)
    p.finish()
    expect(lines).toEqual([
      'Export t: 30 items, 15 items/s',
      'Export t: 30 items, 15 items/s — stopped after 2s'
    ])
    expect(
      progressLine({
        task: 'export',
        table: 't',
        label: 'Export t',
        done: 1,
        total: null,
        elapsedMs: 0,
        rate: 0,
        etaMs: null,
        state: 'running'
      })
    ).toBe('Export t: 1 items, 0 items/s')
  })
})

test.each([
  [0, 4],
  [10 * 1024 ** 2, 4],
  [10 * 1024 ** 3, 20],
  [10 * 1024 ** 4, 256]
])('chooseSegments(%i bytes) = %i', (bytes, segments) => {
  expect(chooseSegments(bytes)).toBe(segments)
})

test('TOOL_VERSION recorded in manifests equals package.json version', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string
  }
  expect(TOOL_VERSION).toBe(pkg.version)
})

describe('legacy reader: streams {"Items":[...]} without holding the file', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'legacy-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function readAll(file: string, skip = 0): Promise<{ line: number; item: WireItem }[]> {
    const out: { line: number; item: WireItem }[] = []
    for await (const chunk of readLegacyFile(file, { skipItems: skip })) out.push(...chunk)
    return out
  }

  test('strings with braces, brackets, quotes and escapes; Items not first; across 1 MB chunks; gzip too', async () => {
    const items: WireItem[] = Array.from({ length: 6000 }, (_, i) => ({
      pk: { S: `k${i} {[\\"]} "x" \\ ] }` },
      v: { L: [{ M: { a: { S: '}]'.repeat(i % 7) } } }] }
    }))
    const text = JSON.stringify(
      {
        Count: 6000,
        ScannedCount: 6000,
        LastEvaluatedKey: { pk: { S: 'Items' } },
        Items: items,
        ConsumedCapacity: null
      },
      null,
      4
    )
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024)
    await writeFile(join(dir, 'plain.json'), text)
    await writeFile(join(dir, 'zipped.json.gz'), gzipSync(text))
    const plain = await readAll(join(dir, 'plain.json'))
    expect(plain.map(p => p.item)).toEqual(items)
    expect(plain[0]?.line).toBe(text.slice(0, text.indexOf('{\n            "pk"')).split('\n').length)
    expect((await readAll(join(dir, 'zipped.json.gz'))).map(p => p.item)).toEqual(items)
    expect((await readAll(join(dir, 'plain.json'), 5990)).map(p => p.item)).toEqual(items.slice(5990))
  })

  test.each([
    ['no Items array', '{"Count":0}', 'no top-level "Items" array'],
    ['a bare array', '[{"a":{"S":"x"}}]', 'expected a JSON object like {"Items":[...]}'],
    [
      'an element that is not an object',
      '{"Items":[{"a":{"S":"x"}}, 1]}',
      'line 1: Items[1] is not an object'
    ],
    ['truncated', '{"Items":[{"a":{"S":"x"}},{"a":', 'truncated: the JSON ends at line 1 inside Items[1]']
  ])('refuses %s', async (_name, text, message) => {
    const file = join(dir, 'bad.json')
    await writeFile(file, text)
    await expect(readAll(file)).rejects.toThrow(message)
  })
})

describe('messages name an item by place and salted key hash, never by its values', () => {
  const keys: KeyAttribute[] = [
    { name: 'email', type: 'HASH', attributeType: 'S' },
    { name: 'n', type: 'RANGE', attributeType: 'N' }
  ]
  const item: WireItem = { email: { S: 'alice@e.example' }, n: { N: '7' }, note: { S: 'ab' } }

  test('keyHash: 12 hex digits, the same for the same key and salt, other for another salt or key', () => {
    const hash = keyHash(item, keys, 'salt-1')
    expect(hash).toMatch(/^[0-9a-f]{12}$/)
    expect(keyHash({ ...item, note: { S: 'other' } }, keys, 'salt-1')).toBe(hash)
    expect(keyHash(item, keys, 'salt-2')).not.toBe(hash)
    expect(keyHash({ ...item, n: { N: '8' } }, keys, 'salt-1')).not.toBe(hash)
  })

  test('itemRef names file, line and hash', () => {
    expect(itemRef('data/segment-0-of-4.json.gz', 17, 'abcdef012345')).toBe(
      'the item at data/segment-0-of-4.json.gz line 17 (key hash abcdef012345)'
    )
    expect(itemRef('f', -1, 'abcdef012345')).toBe('the item at f (line unknown) (key hash abcdef012345)')
  })

  test.each([
    [
      'a value DynamoDB quotes',
      'ValidationException: The parameter cannot be converted to a numeric value: alice@e.example',
      'ValidationException: The parameter cannot be converted to a numeric value: ‹value›'
    ],
    ['a short key value, standing alone', 'bad key 7 here', 'bad key ‹value› here'],
    ['a short key value inside a word: still taken out (key values always)', 'gsi7pk', 'gsi‹value›pk'],
    ['a short other value only where it stands alone', 'value ab in abc', 'value ‹value› in abc'],
    ['no value: unchanged', 'Number overflow', 'Number overflow']
  ])('withoutItemValues: %s', (_case, message, expected) => {
    expect(withoutItemValues(message, item, keys)).toBe(expected)
  })

  test('a line that is not JSON is refused without quoting it (V8 would quote the text it failed on)', () => {
    let message = ''
    try {
      parseLine('f.json.gz', 3, 'secret-value-here')
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/^f\.json\.gz: line 3: not valid JSON/)
    expect(message).not.toContain('secret')
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { canonicalItemBytes } from '../../src/data/canonical-bytes.js'
import { ContentDigest, canonicalItem, canonicalItemText, normalizeNumber } from '../../src/data/digest.js'
import { sdkItemToWire, type WireItem, type WireValue } from '../../src/data/dynamodb-json.js'
import { DataFileWriter } from '../../src/data/export.js'
import { PageItems } from '../../src/data/json-scan.js'
import { seededRandom } from '../../test-support/fault-proxy.js'
import { benchItem } from '../../bench/generate.js'
import { trickyItems } from './helpers.js'

/** The byte path's canonical text, or null when it refuses the item. */
function viaBytes(text: string): string | null {
  const bytes = Buffer.from(text)
  return canonicalItemBytes(bytes, 0, bytes.length)?.toString('utf8') ?? null
}

/** The reference: parse, then canonicalItem. */
const reference = (text: string): string => canonicalItem(JSON.parse(text) as WireItem)

describe('canonicalItemBytes: the canonical form from the bytes DynamoDB sends', () => {
  test('takes the compact items DynamoDB sends (all but those with escapes), and gives exactly the parsed canonical form', () => {
    const texts = [
      ...Array.from({ length: 300 }, (_, i) => JSON.stringify(sdkItemToWire(benchItem(i)))),
      ...trickyItems({ string: 5000, binary: 5000 }).map(i => JSON.stringify(sdkItemToWire(i)))
    ]
    for (const text of texts) {
      expect(viaBytes(text)).toBe(text.includes('\\') ? null : reference(text))
      expect(canonicalItemText(text)).toBe(reference(text))
    }
  })

  test.each([
    [
      'names',
      '{"\ue000":{"S":"1"},"😀":{"S":"2"},"\uffff":{"S":"3"},"\ud7ff":{"S":"4"},"𝄞":{"S":"5"},"z":{"S":"6"}}'
    ],
    ['set members', '{"a":{"SS":["\ue000","😀","\uffff","\ud7ff","𝄞","z","\ue000x"]}}'],
    ['names sharing a prefix', '{"ab\ue000":{"S":"1"},"ab😀":{"S":"2"},"ab":{"S":"3"}}']
  ])(
    'sorts %s in UTF-16 order around U+E000 and beyond U+FFFF (UTF-8 byte order differs there)',
    (_name, text) => {
      const got = viaBytes(text)
      expect(got).not.toBeNull()
      expect(got).toBe(reference(text))
    }
  )

  test.each<[string, string]>([
    ['whitespace between tokens', '{ "a":{"S":"x"}}'],
    ['a line break', '{"a":{"S":"x"},\n"b":{"N":"1"}}'],
    ['an escape in a string', '{"a":{"S":"x\\ny"}}'],
    ['an escape in a name', '{"a\\u0041":{"S":"x"}}'],
    ['a duplicate name', '{"a":{"S":"x"},"a":{"S":"y"}}'],
    ['a duplicate name out of order', '{"b":{"S":"x"},"a":{"S":"y"},"b":{"S":"z"}}'],
    ['a value with two type keys', '{"a":{"S":"x","N":"1"}}'],
    ['an unknown type', '{"a":{"Q":"x"}}'],
    ['a number that is not one', '{"a":{"N":"abc"}}'],
    ['a number with spaces', '{"a":{"N":" 1"}}'],
    ['an exponent longer than a double holds exactly', '{"a":{"N":"1e1234567890123456"}}'],
    ['NULL false', '{"a":{"NULL":false}}'],
    ['BOOL as a string', '{"a":{"BOOL":"true"}}'],
    ['text after the item', '{"a":{"S":"x"}}x'],
    ['a truncated item', '{"a":{"S":"x"}']
  ])('refuses %s (the parsed path gives the canonical form instead)', (_name, text) => {
    expect(viaBytes(text)).toBeNull()
    let expected: string | Error
    try {
      expected = reference(text)
    } catch (err) {
      expected = err as Error
    }
    if (expected instanceof Error) expect(() => canonicalItemText(text)).toThrow(SyntaxError)
    else expect(canonicalItemText(text)).toBe(expected)
  })

  test.each([
    '0',
    '-0',
    '+0.000e5',
    '1',
    '-1',
    '10',
    '1.50',
    '15E-1',
    '0001.5',
    '1E+2',
    '1e-0',
    '-1E-130',
    '1E+125',
    '.5',
    '-.5',
    '5.',
    '+7',
    '12345678901234567890123456789012345678',
    '-0.12345678901234567890123456789012345678',
    '9.9999999999999999999999999999999999999E+125',
    '100000000000000000000000000000000000000000000e-5',
    '0.000000000000000000000000000000000000000001',
    '1e123456789012345'
  ])('number %s is normalised as normalizeNumber does', n => {
    expect(viaBytes(`{"n":{"N":"${n}"}}`)).toBe(`{"n":N${normalizeNumber(n)}}`)
    expect(viaBytes(`{"n":{"NS":["${n}","2"]}}`)).toBe(reference(`{"n":{"NS":["${n}","2"]}}`))
  })

  test('maps and sets big enough to grow its buffers, whatever size they have reached, keep every member', () => {
    // Records of all enclosing maps are held while a nested value is written: an item with D
    // levels of 250 names holds ~250·D. Going up to ~4,250 crosses whatever size the shared
    // buffers have reached; the unsorted outer map must keep its order across that growth.
    const level = (depth: number): string => {
      const names = Array.from({ length: 250 }, (_, i) => `n${String(i).padStart(3, '0')}`)
      const inner =
        depth === 0
          ? `{"SS":[${names
              .map(n => `"s${n}"`)
              .reverse()
              .join(',')}]}`
          : `{"M":${level(depth - 1)}}`
      return `{${names.map((n, i) => `"${n}":${i === 0 ? inner : `{"N":"${i}"}`}`).join(',')}}`
    }
    for (let depth = 1; depth <= 16; depth++) {
      const text = `{"b":{"N":"1"},"a":{"M":${level(depth)}},"c":{"N":"2"}}`
      expect(viaBytes(text)).toBe(reference(text))
    }
  })

  test('nesting deeper than the stack is left to the parsed path (DynamoDB allows 32 levels)', () => {
    const depth = 20_000
    const text = `${'{"a":{"M":'.repeat(depth)}{}${'}}'.repeat(depth)}`
    expect(viaBytes(text)).toBeNull()
  })

  test('random items and random damage: the byte path either refuses or agrees with the parsed path', () => {
    const random = seededRandom(20261126)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
    const chars = [
      'a',
      'b',
      'z',
      'A',
      ' ',
      '!',
      '"',
      '\\',
      '\n',
      'é',
      'ü',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '😀',
      '𝄞',
      '~',
      '{',
      '}',
      '[',
      ']',
      ',',
      ':'
    ]
    const str = (max: number): string =>
      Array.from({ length: Math.floor(random() * max) }, () => pick(chars)).join('')
    const num = (): string =>
      pick(['', '-', '+']) +
      pick(['0', '00', '1', '7', '10', '120', '', '123456789']) +
      pick(['', '.', '.0', '.5', '.050']) +
      pick(['', 'e1', 'E+2', 'e-3', 'E-130', 'e0'])
    const value = (depth: number): WireValue => {
      switch (Math.floor(random() * (depth > 3 ? 8 : 10))) {
        case 0:
          return { S: str(8) }
        case 1:
          return { N: num() }
        case 2:
          return { B: Buffer.from(str(6)).toString('base64') }
        case 3:
          return { SS: Array.from({ length: 1 + Math.floor(random() * 4) }, () => str(4)) }
        case 4:
          return { NS: Array.from({ length: 1 + Math.floor(random() * 4) }, num) }
        case 5:
          return {
            BS: Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
              Buffer.from(str(3)).toString('base64')
            )
          }
        case 6:
          return random() < 0.5 ? { BOOL: random() < 0.5 } : { NULL: true }
        case 7:
          return { S: '' }
        case 8:
          return { L: Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)) }
        default:
          return { M: map(depth + 1) }
      }
    }
    const map = (depth: number): WireItem =>
      Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [str(5), value(depth)]))
    let taken = 0
    let damaged = 0
    for (let i = 0; i < 3000; i++) {
      let text = JSON.stringify(map(0))
      if (i % 3 === 2) {
        // Damage: delete, duplicate or replace one character.
        const at = Math.floor(random() * text.length)
        const op = Math.floor(random() * 3)
        text =
          op === 0
            ? text.slice(0, at) + text.slice(at + 1)
            : op === 1
              ? text.slice(0, at) + text.slice(at, at + 2) + text.slice(at + 1)
              : text.slice(0, at) + pick(['"', '{', '}', ',', ':', '1', 'x', ' ', '\\']) + text.slice(at + 1)
        damaged++
      }
      // Lone surrogates (a damaged astral character) have no UTF-8 spelling: not byte-path input.
      if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) continue
      const got = viaBytes(text)
      if (got === null) continue
      taken++
      expect(got).toBe(reference(text))
    }
    // The byte path did the work on most of the undamaged items (not a test that refuses all).
    expect(taken).toBeGreaterThan(1000)
    expect(damaged).toBe(1000)
  })
})

describe('ContentDigest over page items', () => {
  test('addPageItem equals add(JSON.parse(text)) on compact and unusual items, and says which were compact', () => {
    const texts = [
      JSON.stringify(sdkItemToWire(benchItem(1))),
      '{"a":{"S":"x"},\n"b":{"N":"1"}}',
      '{"a":{"S":"esc\\"aped"}}',
      '{"\ue000":{"S":"1"},"😀":{"S":"2"}}'
    ]
    const page = PageItems.fromTexts(texts)
    const byPage = new ContentDigest()
    const byItem = new ContentDigest()
    expect(texts.map((_, i) => byPage.addPageItem(page, i))).toEqual([true, false, false, true])
    for (const t of texts) byItem.add(JSON.parse(t) as WireItem)
    expect(byPage.hex()).toBe(byItem.hex())
    expect(byPage.count).toBe(4)
  })

  test('a page that is not valid UTF-8 is read as text (replacement characters), the same in digest and file', async () => {
    const body = Buffer.concat([Buffer.from('{"a":{"S":"x'), Buffer.from([0xff]), Buffer.from('y"}}')])
    const page = PageItems.fromBytes(body, Int32Array.of(0, body.length))
    expect(page.utf8).toBe(false)
    const digest = new ContentDigest()
    expect(digest.addPageItem(page, 0)).toBe(false)
    const expected = new ContentDigest()
    expected.add({ a: { S: 'x\ufffdy' } })
    expect(digest.hex()).toBe(expected.hex())
  })
})

describe('DataFileWriter.addPage writes the service bytes of compact items, and one line per item always', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canonical-bytes-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('compact items byte for byte; an item with line breaks re-spelled compactly', async () => {
    const compact = '{"pk":{"S":"é😀"},"n":{"N":"1.50"},"ss":{"SS":["b","a"]}}'
    const spread = '{"pk":{"S":"two"},\r\n "n":{"N":"2"}}'
    const page = PageItems.fromBytes(
      Buffer.from(`[${compact},${spread}]`),
      Int32Array.of(
        1,
        1 + Buffer.byteLength(compact),
        2 + Buffer.byteLength(compact),
        2 + Buffer.byteLength(compact) + spread.length
      )
    )
    const writer = new DataFileWriter(join(dir, 'p.json.gz'), 'data/p.json.gz', 1)
    const digest = new ContentDigest()
    writer.addPage(page, digest)
    const entry = await writer.close()
    const lines = `{"Item":${compact}}\n{"Item":${JSON.stringify(JSON.parse(spread))}}\n`
    expect(gunzipSync(readFileSync(join(dir, 'p.json.gz'))).toString('utf8')).toBe(lines)
    expect(entry).toMatchObject({ items: 2, uncompressedBytes: Buffer.byteLength(lines) })
    const expected = new ContentDigest()
    expected.addText(compact)
    expected.addText(spread)
    expect(digest.hex()).toBe(expected.hex())
  })
})

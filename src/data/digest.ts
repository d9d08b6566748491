/**
 * Canonical form of a DynamoDB-JSON item and an order-independent digest over many items.
 *
 * Canonical form (version 1), chosen so that two items DynamoDB considers equal map to the same
 * string whatever the order of map keys or set members and whatever the spelling of numbers:
 * - map keys sorted (UTF-16 code unit order), recursively;
 * - set members sorted (sets are unordered in DynamoDB); lists keep their order;
 * - numbers normalised to `[-]digits e exponent` (no leading/trailing zeros): "1.50", "15E-1" and
 *   "0001.5" are the same number, and engines differ in how they spell numbers back;
 * - binary as base64 text as given (DynamoDB, the SDK and the CLI all emit standard padded base64).
 *
 * The table digest is the sum, modulo 2^256, of sha256(canonical form) over all items: a multiset
 * hash, so parallel scan order does not matter and a duplicated or missing item changes it
 * (XOR would let pairs of duplicates cancel out).
 */
import { hash } from 'node:crypto'
import type { WireItem, WireValue } from './dynamodb-json.js'

export const DIGEST_ALGORITHM = 'sum-mod-2^256(sha256(canonical-v1))'

const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** `"-0012.3400E+2"` → `"-1234e0"`; zero is `"0"`. Text that is not a number is kept, marked. */
const PLAIN_INTEGER = /^-?[1-9]\d*$/

export function normalizeNumber(n: string): string {
  // Fast path: an integer without leading zeros (most numbers) only needs its trailing zeros moved.
  if (PLAIN_INTEGER.test(n)) {
    let end = n.length
    while (n.charCodeAt(end - 1) === 48) end--
    return `${n.slice(0, end)}e${n.length - end}`
  }
  const m = NUMBER_RE.exec(n.trim())
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return `?${n}`
  const sign = m[1] === '-' ? '-' : ''
  const frac = m[3] ?? ''
  let digits = (m[2] ?? '') + frac
  let exp = Number(m[4] ?? 0) - frac.length
  let start = 0
  while (start < digits.length && digits.charCodeAt(start) === 48) start++
  digits = digits.slice(start)
  if (digits === '') return '0'
  let end = digits.length
  while (digits.charCodeAt(end - 1) === 48) end--
  exp += digits.length - end
  digits = digits.slice(0, end)
  return `${sign}${digits}e${exp}`
}

function sortedJoin(members: string[]): string {
  return members.slice().sort().join(',')
}

function typeOf(v: WireValue): string | undefined {
  for (const k in v) return k
  return undefined
}

function canonicalValue(v: WireValue): string {
  const t = typeOf(v)
  const x = (v as Record<string, unknown>)[t as string]
  switch (t) {
    case 'S':
      return `S${JSON.stringify(x)}`
    case 'N':
      return `N${normalizeNumber(x as string)}`
    case 'B':
      return `B${x as string}`
    case 'SS':
      return `SS[${sortedJoin((x as string[]).map(s => JSON.stringify(s)))}]`
    case 'NS':
      return `NS[${sortedJoin((x as string[]).map(normalizeNumber))}]`
    case 'BS':
      return `BS[${sortedJoin(x as string[])}]`
    case 'BOOL':
      return x === true ? 'BOOL1' : 'BOOL0'
    case 'NULL':
      return 'NULL'
    case 'L':
      return `L[${(x as WireValue[]).map(canonicalValue).join(',')}]`
    case 'M':
      return `M${canonicalItem(x as WireItem)}`
    default:
      // Unknown future type: keep its JSON so that it at least compares by its text.
      return `?${JSON.stringify(v)}`
  }
}

/** The canonical text of an item (see the module comment). */
export function canonicalItem(item: WireItem): string {
  const keys = Object.keys(item).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string
    if (i > 0) out += ','
    out += `${JSON.stringify(k)}:${canonicalValue(item[k] as WireValue)}`
  }
  return `${out}}`
}

/**
 * Thrown inside the text scanner when the item text is not in the compact shape it handles; the
 * caller then falls back to JSON.parse + canonicalItem (same canonical form, just slower).
 */
const NOT_FAST = new Error('item text not in the compact shape the scanner handles')

const QUOTE = 34
/** Anything JSON does not allow raw inside a string, and whitespace between tokens. */
// eslint-disable-next-line no-control-regex -- exactly the control characters are meant
const UNUSUAL = /[\u0000-\u001f]/

/**
 * The canonical text (exactly canonicalItem's) computed from an item's compact DynamoDB JSON text
 * without building the item: map keys and set members are sorted as they are sliced out of the
 * text. A string literal without a backslash is already what JSON.stringify would spell for its
 * value (JSON forbids raw control characters in strings and the text is well-formed UTF-16), so
 * it is reused as is; literals with escapes are decoded and respelled. Anything else unusual
 * (whitespace, duplicate names, unknown types, more than one type key) leaves the fast path.
 */
class TextCanonicalizer {
  private pos = 0
  constructor(private readonly text: string) {}

  private expect(code: number): void {
    if (this.text.charCodeAt(this.pos) !== code) throw NOT_FAST
    this.pos++
  }

  /** The string literal at pos, quotes included, as JSON.stringify spells its value. */
  private literal(): string {
    const end = this.literalEnd()
    const lit = this.text.slice(this.pos, end + 1)
    // Literals with escapes leave the fast path (checked on the slice: linear in the text).
    if (lit.indexOf('\\') >= 0) throw NOT_FAST
    this.pos = end + 1
    return lit
  }

  /** The characters between the quotes of the literal at pos (a number, base64). */
  private literalContent(): string {
    const end = this.literalEnd()
    const content = this.text.slice(this.pos + 1, end)
    if (content.indexOf('\\') >= 0) throw NOT_FAST
    this.pos = end + 1
    return content
  }

  /** Index of the closing quote of the literal at pos (the first quote: escapes are refused). */
  private literalEnd(): number {
    if (this.text.charCodeAt(this.pos) !== QUOTE) throw NOT_FAST
    const end = this.text.indexOf('"', this.pos + 1)
    if (end < 0) throw NOT_FAST
    return end
  }

  private literalArray(content: boolean): string[] {
    const out: string[] = []
    this.expect(91)
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++
      return out
    }
    for (;;) {
      out.push(content ? this.literalContent() : this.literal())
      const c = this.text.charCodeAt(this.pos++)
      if (c === 93) return out
      if (c !== 44) throw NOT_FAST
    }
  }

  private word(w: string): void {
    if (!this.text.startsWith(w, this.pos)) throw NOT_FAST
    this.pos += w.length
  }

  /** `{"T":` at pos: the type tag (read by character, no string made); pos moves past the colon. */
  private typeTag(): Tag {
    const text = this.text
    const p = this.pos
    if (text.charCodeAt(p) !== 123 || text.charCodeAt(p + 1) !== QUOTE) throw NOT_FAST
    const c0 = text.charCodeAt(p + 2)
    const c1 = text.charCodeAt(p + 3)
    let tag: Tag | undefined
    let length: number
    if (c1 === QUOTE) {
      length = 1
      tag = ONE_LETTER_TAGS[c0]
    } else if (c1 === 83 && text.charCodeAt(p + 4) === QUOTE) {
      length = 2
      tag = SET_TAGS[c0]
    } else if (text.startsWith('BOOL"', p + 2)) {
      length = 4
      tag = Tag.BOOL
    } else if (text.startsWith('NULL"', p + 2)) {
      length = 4
      tag = Tag.NULL
    } else throw NOT_FAST
    if (tag === undefined || text.charCodeAt(p + 3 + length) !== 58) throw NOT_FAST
    this.pos = p + 4 + length
    return tag
  }

  /** `{"T":x}` at pos → canonicalValue's text. */
  value(): string {
    let out: string
    switch (this.typeTag()) {
      case Tag.S:
        out = `S${this.literal()}`
        break
      case Tag.N:
        out = `N${normalizeNumber(this.literalContent())}`
        break
      case Tag.B:
        out = `B${this.literalContent()}`
        break
      case Tag.SS:
        out = `SS[${this.literalArray(false).sort().join(',')}]`
        break
      case Tag.NS:
        out = `NS[${this.literalArray(true).map(normalizeNumber).sort().join(',')}]`
        break
      case Tag.BS:
        out = `BS[${this.literalArray(true).sort().join(',')}]`
        break
      case Tag.BOOL:
        if (this.text.charCodeAt(this.pos) === 116) {
          this.word('true')
          out = 'BOOL1'
        } else {
          this.word('false')
          out = 'BOOL0'
        }
        break
      case Tag.NULL:
        this.word('true')
        out = 'NULL'
        break
      case Tag.L: {
        this.expect(91)
        out = 'L['
        if (this.text.charCodeAt(this.pos) === 93) this.pos++
        else {
          for (let first = true; ; first = false) {
            if (!first) out += ','
            out += this.value()
            const c = this.text.charCodeAt(this.pos++)
            if (c === 93) break
            if (c !== 44) throw NOT_FAST
          }
        }
        out += ']'
        break
      }
      case Tag.M:
        out = `M${this.map()}`
        break
    }
    this.expect(125)
    return out
  }

  /** `{"name":value,...}` at pos → canonicalItem's text. */
  map(): string {
    this.expect(123)
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++
      return '{}'
    }
    // Sorted by the name itself (a name may hold characters that sort below the closing quote,
    // so the `"name":value` texts cannot be sorted as they are). Names usually come sorted.
    const names: string[] = []
    const parts: string[] = []
    let sorted = true
    for (;;) {
      const name = this.literal()
      const bare = name.slice(1, -1)
      this.expect(58)
      // An equal name too: JSON.parse keeps the last value; the sort below leaves it to the slow path.
      if (names.length > 0 && !((names[names.length - 1] as string) < bare)) sorted = false
      names.push(bare)
      parts.push(`${name}:${this.value()}`)
      const c = this.text.charCodeAt(this.pos++)
      if (c === 125) break
      if (c !== 44) throw NOT_FAST
    }
    let order: number[] | null = null
    if (!sorted) {
      order = names.map((_, i) => i)
      order.sort((x, y) => byName(names[x] as string, names[y] as string))
      for (let i = 1; i < order.length; i++)
        if (names[order[i - 1] as number] === names[order[i] as number]) throw NOT_FAST
    }
    let out = '{'
    for (let i = 0; i < parts.length; i++) {
      const part = parts[order === null ? i : (order[i] as number)] as string
      out += i === 0 ? part : `,${part}`
    }
    return `${out}}`
  }

  item(): string {
    const out = this.map()
    if (this.pos !== this.text.length) throw NOT_FAST
    return out
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

enum Tag {
  S,
  N,
  B,
  SS,
  NS,
  BS,
  BOOL,
  NULL,
  L,
  M
}
/** By character code of the tag's first letter. */
const ONE_LETTER_TAGS: Partial<Record<number, Tag>> = {
  83: Tag.S,
  78: Tag.N,
  66: Tag.B,
  76: Tag.L,
  77: Tag.M
}
const SET_TAGS: Partial<Record<number, Tag>> = { 83: Tag.SS, 78: Tag.NS, 66: Tag.BS }

/**
 * canonicalItem of the item whose DynamoDB JSON text this is, without parsing it when it is in
 * the compact shape DynamoDB sends (the usual case); otherwise parsed (invalid JSON throws).
 */
export function canonicalItemText(text: string): string {
  // A lone surrogate would be escaped by JSON.stringify: not reusable as is.
  if (!UNUSUAL.test(text) && (text as string & { isWellFormed(): boolean }).isWellFormed()) {
    try {
      return new TextCanonicalizer(text).item()
    } catch (err) {
      if (err !== NOT_FAST) throw err
    }
  }
  return canonicalItem(JSON.parse(text) as WireItem)
}

const TWO32 = 4294967296

/** Order-independent digest of a multiset of items: count + sum of sha256(canonical) mod 2^256. */
export class ContentDigest {
  /** 8 × 32-bit limbs, most significant first. */
  private readonly limbs = [0, 0, 0, 0, 0, 0, 0, 0]
  count = 0

  add(item: WireItem): void {
    this.addLatin1(hash('sha256', canonicalItem(item), 'binary'))
  }

  /** Same as add(JSON.parse(text)), but without building the item when the text is compact. */
  addText(text: string): void {
    this.addLatin1(hash('sha256', canonicalItemText(text), 'binary'))
  }

  addHash(hash: Buffer): void {
    this.addLatin1(hash.toString('latin1'))
  }

  /**
   * Adds a 32-byte hash given as a latin1 ('binary') string, one character per byte. The one-shot hash
   * (Node ≥ 20.12) returns it as a small heap string: no Hash object and no Buffer (an
   * ArrayBuffer with its own backing store) per item for the GC to collect.
   */
  private addLatin1(h: string): void {
    let carry = 0
    for (let i = 7; i >= 0; i--) {
      const j = i * 4
      const word =
        ((h.charCodeAt(j) << 24) |
          (h.charCodeAt(j + 1) << 16) |
          (h.charCodeAt(j + 2) << 8) |
          h.charCodeAt(j + 3)) >>>
        0
      const sum = (this.limbs[i] as number) + word + carry
      carry = sum >= TWO32 ? 1 : 0
      this.limbs[i] = carry === 1 ? sum - TWO32 : sum
    }
    this.count++
  }

  merge(other: ContentDigest): void {
    const buf = Buffer.alloc(32)
    other.limbs.forEach((l, i) => buf.writeUInt32BE(l, i * 4))
    const count = this.count
    this.addHash(buf)
    this.count = count + other.count
  }

  hex(): string {
    return this.limbs.map(l => l.toString(16).padStart(8, '0')).join('')
  }
}

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
import { canonicalItemBytes } from './canonical-bytes.js'
import type { PageItems } from './json-scan.js'

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
 * canonicalItem of the item whose DynamoDB JSON text this is, read from its UTF-8 bytes without
 * parsing when it is in the compact shape DynamoDB sends (the usual case; canonical-bytes.ts);
 * otherwise parsed (invalid JSON throws).
 */
export function canonicalItemText(text: string): string {
  // A lone surrogate has no UTF-8 spelling (JSON.stringify escapes it): parsed.
  if ((text as string & { isWellFormed(): boolean }).isWellFormed()) {
    const bytes = Buffer.from(text)
    const canonical = canonicalItemBytes(bytes, 0, bytes.length)
    if (canonical !== null) return canonical.toString('utf8')
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

  /**
   * Same as add(JSON.parse(text)) for the item whose DynamoDB JSON is bytes[start, end) (valid
   * UTF-8), without building the item when the text is compact. Returns whether it was: a compact
   * text holds no whitespace and no control character.
   */
  addUtf8(bytes: Uint8Array, start: number, end: number): boolean {
    const canonical = canonicalItemBytes(bytes, start, end)
    if (canonical !== null) {
      this.addLatin1(hash('sha256', canonical, 'binary'))
      return true
    }
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.add(JSON.parse(buf.toString('utf8', start, end)) as WireItem)
    return false
  }

  /** Same as add(JSON.parse(text)), but without building the item when the text is compact. */
  addText(text: string): void {
    this.addLatin1(hash('sha256', canonicalItemText(text), 'binary'))
  }

  /** Item i of a page; returns whether its text was compact (see addUtf8). */
  addPageItem(page: PageItems, i: number): boolean {
    if (page.utf8) return this.addUtf8(page.bytes, page.start(i), page.end(i))
    this.addText(page.text(i))
    return false
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

  /** The digest of this multiset without `part` (a sub-multiset of it): count and sum minus part's. */
  without(part: ContentDigest): ContentDigest {
    const out = new ContentDigest()
    let borrow = 0
    for (let i = 7; i >= 0; i--) {
      const diff = (this.limbs[i] as number) - (part.limbs[i] as number) - borrow
      borrow = diff < 0 ? 1 : 0
      out.limbs[i] = diff < 0 ? diff + TWO32 : diff
    }
    out.count = this.count - part.count
    return out
  }

  hex(): string {
    return this.limbs.map(l => l.toString(16).padStart(8, '0')).join('')
  }
}

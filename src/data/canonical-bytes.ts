/**
 * canonicalItem's text (canonical form v1, see digest.ts) as UTF-8 bytes, computed straight from
 * the UTF-8 bytes of an item's DynamoDB JSON as the service sent them: no string is decoded, no
 * object is built, and the output goes into one reused buffer that is hashed as it is.
 *
 * It handles the compact shape DynamoDB sends (no whitespace, no escapes in strings, one type key
 * per value, no duplicate names) and refuses anything else (returns -1); the caller then takes
 * the slow path (JSON.parse + canonicalItem), which gives the same canonical form. Equivalence
 * with the slow path rests on:
 * - a string without a backslash or a control character is spelled by JSON.stringify exactly as
 *   it is quoted in the input, so its bytes are copied (the input must be valid UTF-8: the caller
 *   checks that, once per page);
 * - map names and set members are sorted by UTF-16 code units in the slow path. UTF-8 byte order
 *   is that order except between U+E000-U+FFFF and the characters beyond U+FFFF (surrogate pairs
 *   in UTF-16, which sort below U+E000): bytes are compared through `utf16Rank`, which swaps the
 *   lead bytes of those two groups.
 */

import { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from './json-scan.js'

/**
 * A byte's rank for comparing UTF-8 texts in UTF-16 code unit order: the lead bytes of characters
 * beyond U+FFFF (F0-F4) move below those of U+E000-U+FFFF (EE, EF); every other byte keeps its
 * place. (The first byte where two UTF-8 texts differ is at a character boundary on both sides,
 * or within characters of the same lead byte.)
 */
function utf16Rank(b: number): number {
  return b < 0xee ? b : b >= 0xf0 ? b - 2 : b + 5
}

/** Thrown inside the canonicalizer when the input leaves the compact shape (caught in canonical()). */
const NOT_COMPACT = new Error('item not in the compact shape the byte canonicalizer handles')

const BOOL1 = Buffer.from('BOOL1')
const BOOL0 = Buffer.from('BOOL0')
const NULL = Buffer.from('NULL')
const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')

class ByteCanonicalizer {
  /** Output; grows to the largest item seen (an item is at most 400 KB). */
  out: Buffer = Buffer.allocUnsafeSlow(16 * 1024)
  private o = 0
  private src: Uint8Array = this.out
  private p = 0

  /** Writes the canonical bytes of src[start, end) to `out`; their length, or -1 (not compact). */
  canonical(src: Uint8Array, start: number, end: number): number {
    // The canonical form is never much longer than the input (numbers gain at most "e0" and
    // lose their quotes; every value loses its `{"T":` wrapper): twice the input is ample, and a
    // write past the end would be caught below rather than lost.
    const need = 2 * (end - start) + 64
    if (this.out.length < need) this.out = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.out.length))
    this.src = src
    this.p = start
    this.o = 0
    this.top = 0
    try {
      this.map()
      if (this.p !== end || this.o > this.out.length) return -1
      return this.o
    } catch (err) {
      // Nesting deeper than the stack (DynamoDB allows 32 levels) is left to the slow path too.
      if (err === NOT_COMPACT || err instanceof RangeError) return -1
      throw err
    }
  }

  private expect(c: number): void {
    if (this.src[this.p] !== c) throw NOT_COMPACT
    this.p++
  }

  private put(c: number): void {
    this.out[this.o++] = c
  }

  private putBytes(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.out[this.o++] = bytes[i] as number
  }

  private copy(from: number, to: number): void {
    const src = this.src
    const out = this.out
    let o = this.o
    for (let i = from; i < to; i++) out[o++] = src[i] as number
    this.o = o
  }

  /**
   * Index of the closing quote of the string literal at `at`; refuses escapes and control
   * characters (JSON.stringify would spell those differently).
   */
  private literalEnd(at: number): number {
    const src = this.src
    if (src[at] !== QUOTE) throw NOT_COMPACT
    for (let i = at + 1; i < src.length; i++) {
      const c = src[i] as number
      if (c === QUOTE) return i
      if (c === BACKSLASH || c < 0x20) throw NOT_COMPACT
    }
    throw NOT_COMPACT
  }

  private word(w: Uint8Array): void {
    const src = this.src
    for (let i = 0; i < w.length; i++) if (src[this.p + i] !== w[i]) throw NOT_COMPACT
    this.p += w.length
  }

  /** Compares src[a0, a1) with src[b0, b1) in UTF-16 code unit order (a prefix first). */
  private compare(a0: number, a1: number, b0: number, b1: number): number {
    const src = this.src
    const n = Math.min(a1 - a0, b1 - b0)
    for (let i = 0; i < n; i++) {
      const x = src[a0 + i] as number
      const y = src[b0 + i] as number
      if (x !== y) return utf16Rank(x) - utf16Rank(y)
    }
    return a1 - a0 - (b1 - b0)
  }

  /**
   * Sort records, a stack: the records of nested maps and sets sit above their parent's, and `top`
   * is the first free one. Record r has `keys[r]`, a big-endian key of the utf16Rank of the first
   * 4 bytes of its text (missing bytes are 0; real ones are ≥ 0x20, so a prefix sorts first);
   * `ranges[2r, 2r+1]`, its text's byte range; `order[r]`, filled by sortRecords; and for a map
   * member, `values[2r, 2r+1]`, its value's byte range. All four grow together (a parent map
   * reads its order and value ranges while a nested value pushes records above them).
   */
  private keys = new Uint32Array(256)
  private ranges = new Int32Array(512)
  private order = new Int32Array(256)
  private values = new Int32Array(512)
  private top = 0

  private grow(): void {
    const keys = new Uint32Array(this.keys.length * 2)
    keys.set(this.keys)
    this.keys = keys
    const order = new Int32Array(keys.length)
    order.set(this.order)
    this.order = order
    const ranges = new Int32Array(keys.length * 2)
    ranges.set(this.ranges)
    this.ranges = ranges
    const values = new Int32Array(keys.length * 2)
    values.set(this.values)
    this.values = values
  }

  private push(from: number, to: number): number {
    const r = this.top++
    if (r >= this.keys.length) this.grow()
    this.setRecord(r, from, to)
    return r
  }

  /** Points record r at the text src[from, to). */
  private setRecord(r: number, from: number, to: number): void {
    const src = this.src
    const len = to - from
    this.keys[r] =
      ((len > 0 ? utf16Rank(src[from] as number) << 24 : 0) |
        (len > 1 ? utf16Rank(src[from + 1] as number) << 16 : 0) |
        (len > 2 ? utf16Rank(src[from + 2] as number) << 8 : 0) |
        (len > 3 ? utf16Rank(src[from + 3] as number) : 0)) >>>
      0
    this.ranges[2 * r] = from
    this.ranges[2 * r + 1] = to
  }

  /** Records x and y compared by their bytes (shorter first on a common prefix). */
  private compareRecords(x: number, y: number): number {
    const kx = this.keys[x] as number
    const ky = this.keys[y] as number
    if (kx !== ky) return kx < ky ? -1 : 1
    const ranges = this.ranges
    return this.compare(
      ranges[2 * x] as number,
      ranges[2 * x + 1] as number,
      ranges[2 * y] as number,
      ranges[2 * y + 1] as number
    )
  }

  /**
   * Puts the record numbers first..top-1 into `order` (same indexes) in sorted order. Returns
   * false when two records are equal.
   */
  private sortRecords(first: number): boolean {
    const order = this.order
    let distinct = true
    order[first] = first
    // Insertion sort: maps and sets are mostly small, and often nearly sorted.
    for (let i = first + 1; i < this.top; i++) {
      let j = i
      while (j > first) {
        const c = this.compareRecords(order[j - 1] as number, i)
        if (c === 0) distinct = false
        if (c <= 0) break
        order[j] = order[j - 1] as number
        j--
      }
      order[j] = i
    }
    return distinct
  }

  /** `{"name":value,...}` at p. Names are sorted (by their bytes, without the quotes). */
  private map(): void {
    const src = this.src
    this.expect(LBRACE)
    if (src[this.p] === RBRACE) {
      this.p++
      this.put(LBRACE)
      this.put(RBRACE)
      return
    }
    // First pass: each member's name (a sort record) and its value's start and end.
    const first = this.top
    let sorted = true
    for (;;) {
      const nameStart = this.p
      const nameEnd = this.literalEnd(nameStart) + 1
      const r = this.push(nameStart + 1, nameEnd - 1)
      if (r > first && sorted && this.compareRecords(r - 1, r) >= 0) sorted = false
      this.p = nameEnd
      this.expect(COLON)
      const valueStart = this.p
      this.skipValue()
      this.values[2 * r] = valueStart
      this.values[2 * r + 1] = this.p
      const c = src[this.p++]
      if (c === RBRACE) break
      if (c !== COMMA) throw NOT_COMPACT
    }
    const after = this.p
    const end = this.top
    // An equal name: JSON.parse keeps the last value; left to the slow path.
    if (!sorted && (end - first > MAX_INSERTION_SORT || !this.sortRecords(first))) throw NOT_COMPACT
    this.put(LBRACE)
    for (let i = first; i < end; i++) {
      // Records of nested maps go above `end`: `order` up to it stays as it is.
      const r = sorted ? i : (this.order[i] as number)
      if (i > first) this.put(COMMA)
      const nameFrom = (this.ranges[2 * r] as number) - 1
      const nameTo = (this.ranges[2 * r + 1] as number) + 1
      this.copy(nameFrom, nameTo)
      this.put(COLON)
      this.p = this.values[2 * r] as number
      this.value()
      // The value must end where the first pass found its end.
      if (this.p !== this.values[2 * r + 1]) throw NOT_COMPACT
    }
    this.put(RBRACE)
    this.top = first
    this.p = after
  }

  /** Moves p past the JSON value at p (strings as literalEnd allows them; no whitespace). */
  private skipValue(): void {
    const src = this.src
    let depth = 0
    for (;;) {
      const c = src[this.p]
      if (c === undefined || c < 0x20) throw NOT_COMPACT
      if (c === QUOTE) this.p = this.literalEnd(this.p) + 1
      else {
        this.p++
        if (c === LBRACE || c === LBRACKET) depth++
        else if (c === RBRACE || c === RBRACKET) depth--
      }
      if (depth <= 0) {
        if (depth < 0) throw NOT_COMPACT
        return
      }
    }
  }

  /** `{"T":x}` at p → canonicalValue's text. */
  private value(): void {
    const src = this.src
    const p = this.p
    if (src[p] !== LBRACE || src[p + 1] !== QUOTE) throw NOT_COMPACT
    const t0 = src[p + 2] as number
    const t1 = src[p + 3] as number
    if (t1 === QUOTE) {
      if (src[p + 4] !== COLON) throw NOT_COMPACT
      this.p = p + 5
      switch (t0) {
        case 83:
        case 78:
        case 66: {
          // S: the quoted literal as it is; N: the number normalised; B: the base64 text.
          const end = this.literalEnd(this.p)
          this.put(t0)
          if (t0 === 83) this.copy(this.p, end + 1)
          else if (t0 === 78) this.number(this.p + 1, end)
          else this.copy(this.p + 1, end)
          this.p = end + 1
          break
        }
        case 76: {
          // L: values in order.
          this.put(76)
          this.put(LBRACKET)
          this.expect(LBRACKET)
          if (src[this.p] === RBRACKET) this.p++
          else
            for (let first = true; ; first = false) {
              if (!first) this.put(COMMA)
              this.value()
              const c = src[this.p++]
              if (c === RBRACKET) break
              if (c !== COMMA) throw NOT_COMPACT
            }
          this.put(RBRACKET)
          break
        }
        case 77:
          // M
          this.put(77)
          this.map()
          break
        default:
          throw NOT_COMPACT
      }
    } else if (t1 === 83 && src[p + 4] === QUOTE && src[p + 5] === COLON) {
      // SS, NS, BS
      this.p = p + 6
      this.put(t0)
      this.put(83)
      this.put(LBRACKET)
      if (t0 === 83) this.sortedMembers(true)
      else if (t0 === 66) this.sortedMembers(false)
      else if (t0 === 78) this.numberSet()
      else throw NOT_COMPACT
      this.put(RBRACKET)
    } else if (t0 === 66 && this.startsWith(p + 2, 'BOOL":')) {
      this.p = p + 8
      if (src[this.p] === 116) {
        this.word(TRUE)
        this.putBytes(BOOL1)
      } else {
        this.word(FALSE)
        this.putBytes(BOOL0)
      }
    } else if (t0 === 78 && this.startsWith(p + 2, 'NULL":')) {
      this.p = p + 8
      this.word(TRUE)
      this.putBytes(NULL)
    } else throw NOT_COMPACT
    this.expect(RBRACE)
  }

  private startsWith(at: number, ascii: string): boolean {
    for (let i = 0; i < ascii.length; i++) if (this.src[at + i] !== ascii.charCodeAt(i)) return false
    return true
  }

  /** The literals of the array at p (`[...]`) as sort records, with or without their quotes. */
  private literals(quoted: boolean): void {
    const src = this.src
    this.expect(LBRACKET)
    if (src[this.p] === RBRACKET) {
      this.p++
      return
    }
    for (;;) {
      const end = this.literalEnd(this.p)
      if (quoted) this.push(this.p, end + 1)
      else this.push(this.p + 1, end)
      this.p = end + 1
      const c = src[this.p++]
      if (c === RBRACKET) return
      if (c !== COMMA) throw NOT_COMPACT
    }
  }

  /** SS (members sorted as quoted JSON strings) or BS (base64 texts sorted). */
  private sortedMembers(quoted: boolean): void {
    const first = this.top
    this.literals(quoted)
    this.putSorted(first)
  }

  /** NS: members normalised, then sorted as those texts. */
  private numberSet(): void {
    const first = this.top
    this.literals(false)
    // Normalised into the output in their order, each record re-pointed at its normal form.
    const regionStart = this.o
    for (let r = first; r < this.top; r++) {
      const from = this.o
      this.number(this.ranges[2 * r] as number, this.ranges[2 * r + 1] as number)
      this.ranges[2 * r] = from - regionStart
      this.ranges[2 * r + 1] = this.o - regionStart
    }
    // Then sorted and written again from a copy of those texts (records read `src`).
    const src = this.src
    this.src = Buffer.from(this.out.subarray(regionStart, this.o))
    for (let r = first; r < this.top; r++)
      this.setRecord(r, this.ranges[2 * r] as number, this.ranges[2 * r + 1] as number)
    this.o = regionStart
    this.putSorted(first)
    this.src = src
  }

  /**
   * Writes the texts of records [first, top) sorted, comma-separated, and pops them. Equal texts
   * (not in a real set) keep their place among equals: the same bytes either way.
   */
  private putSorted(first: number): void {
    if (this.top - first > MAX_INSERTION_SORT) throw NOT_COMPACT
    this.sortRecords(first)
    for (let i = first; i < this.top; i++) {
      const r = this.order[i] as number
      if (i > first) this.put(COMMA)
      this.copy(this.ranges[2 * r] as number, this.ranges[2 * r + 1] as number)
    }
    this.top = first
  }

  /**
   * normalizeNumber (digest.ts) of the number text src[from, to), written to the output:
   * `[-]digits e exponent` without leading or trailing zeros, or `0`. Text that is not a number
   * in JSON-ish decimal notation is refused (the slow path marks it).
   */
  private number(from: number, to: number): void {
    const src = this.src
    let i = from
    let negative = false
    if (src[i] === 45 || src[i] === 43) {
      negative = src[i] === 45
      i++
    }
    const intStart = i
    while (i < to && (src[i] as number) >= 48 && (src[i] as number) <= 57) i++
    const intEnd = i
    let fracStart = i
    let fracEnd = i
    if (i < to && src[i] === 46) {
      i++
      fracStart = i
      while (i < to && (src[i] as number) >= 48 && (src[i] as number) <= 57) i++
      fracEnd = i
    }
    if (intEnd === intStart && fracEnd === fracStart) throw NOT_COMPACT
    let exp = 0
    if (i < to && (src[i] === 101 || src[i] === 69)) {
      i++
      let expNegative = false
      if (src[i] === 45 || src[i] === 43) {
        expNegative = src[i] === 45
        i++
      }
      const expStart = i
      while (i < to && (src[i] as number) >= 48 && (src[i] as number) <= 57) {
        exp = exp * 10 + ((src[i] as number) - 48)
        i++
      }
      // No digits, or more than an exact double holds (the slow path has the general rule).
      if (i === expStart || i - expStart > 15) throw NOT_COMPACT
      if (expNegative) exp = -exp
    }
    if (i !== to) throw NOT_COMPACT
    // The digits are int then frac; find the first and last non-zero among them.
    // (A method, not a closure: a closure made per number was 57 % of the export's garbage.)
    const intLen = intEnd - intStart
    const total = intLen + (fracEnd - fracStart)
    let first = 0
    while (first < total && this.digit(first, intStart, intLen, fracStart) === 0) first++
    if (first === total) {
      this.put(48)
      return
    }
    let last = total - 1
    while (this.digit(last, intStart, intLen, fracStart) === 0) last--
    exp += -(fracEnd - fracStart) + (total - 1 - last)
    if (negative) this.put(45)
    for (let k = first; k <= last; k++) this.put(48 + this.digit(k, intStart, intLen, fracStart))
    this.put(101)
    this.integer(exp)
  }

  /** Digit k of a number whose digits are intLen bytes at intStart, then the rest at fracStart. */
  private digit(k: number, intStart: number, intLen: number, fracStart: number): number {
    return (this.src[k < intLen ? intStart + k : fracStart + k - intLen] as number) - 48
  }

  private integer(n: number): void {
    if (n < 0) {
      this.put(45)
      n = -n
    }
    const start = this.o
    do {
      this.put(48 + (n % 10))
      n = Math.floor(n / 10)
    } while (n > 0)
    // Digits were written least significant first.
    for (let a = start, b = this.o - 1; a < b; a++, b--) {
      const t = this.out[a] as number
      this.out[a] = this.out[b] as number
      this.out[b] = t
    }
  }
}

/** Larger maps and sets take the slow path (insertion sort is quadratic). */
const MAX_INSERTION_SORT = 256

let shared: ByteCanonicalizer | null = null

/**
 * The canonical form (v1) of the item whose DynamoDB JSON is bytes[start, end) (valid UTF-8), as
 * UTF-8 bytes: a view of a shared buffer, valid until the next call. Null when the item is not
 * in the compact shape handled here; canonicalItem(JSON.parse(text)) then gives the same form.
 */
export function canonicalItemBytes(bytes: Uint8Array, start: number, end: number): Buffer | null {
  shared ??= new ByteCanonicalizer()
  const n = shared.canonical(bytes, start, end)
  return n < 0 ? null : shared.out.subarray(0, n)
}

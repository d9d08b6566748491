/**
 * Finds the elements of one top-level array in a JSON text without parsing the rest, so that each
 * element can be read (and dropped) on its own and its exact text reused.
 */
import { isUtf8 } from 'node:buffer'

/** JSON's structural characters, by code (UTF-16 code unit or UTF-8 byte: all are ASCII). */
export const QUOTE = 34
export const BACKSLASH = 92
export const COMMA = 44
export const COLON = 58
export const LBRACE = 123
export const RBRACE = 125
export const LBRACKET = 91
export const RBRACKET = 93

/**
 * The items of one Scan page: each item's DynamoDB JSON as a range of one UTF-8 buffer, exactly
 * as the service sent it, and as text on demand. The buffer is reused for the next response: a
 * PageItems is valid only while the page's consumer runs.
 */
export class PageItems {
  private constructor(
    readonly bytes: Buffer,
    /** Start and end of each item in `bytes`: entries [0, 2 × length). */
    private readonly bounds: Int32Array,
    readonly length: number,
    /** The bytes are valid UTF-8 (else text() has U+FFFD where they are not, as toString does). */
    readonly utf8: boolean,
    /** The items' texts when they were given as texts (fromTexts). */
    private readonly texts: string[] | null
  ) {}

  /** `bounds`: start and end of each item (the first 2 × `count` entries; default all of them). */
  static fromBytes(bytes: Buffer, bounds: Int32Array, count = bounds.length / 2): PageItems {
    return new PageItems(bytes, bounds, count, isUtf8(bytes), null)
  }

  /** Items given as texts (e.g. re-encoded from the SDK's decoded items). */
  static fromTexts(texts: string[]): PageItems {
    const bounds = new Int32Array(2 * texts.length)
    let at = 0
    texts.forEach((t, i) => {
      const n = Buffer.byteLength(t)
      bounds[2 * i] = at
      bounds[2 * i + 1] = at + n
      at += n
    })
    const bytes = Buffer.from(texts.join(''))
    // A lone surrogate has no UTF-8 spelling: such a page is read through its texts only.
    const wellFormed = texts.every(t => (t as string & { isWellFormed(): boolean }).isWellFormed())
    return new PageItems(bytes, bounds, texts.length, wellFormed, texts)
  }

  start(i: number): number {
    return this.bounds[2 * i] as number
  }

  end(i: number): number {
    return this.bounds[2 * i + 1] as number
  }

  text(i: number): string {
    return this.texts?.[i] ?? this.bytes.toString('utf8', this.start(i), this.end(i))
  }
}

export interface SplitArrayBytes {
  /** The elements, in order. */
  elements: PageItems
  /** The document's bytes with that array emptied (`"key":[]`). */
  rest: Buffer
}

const EMPTY_ARRAY = Buffer.from('[]')
/** Bounds entries a page starts with (two per item): 1,024 items. */
const INITIAL_BOUNDS = 2048

/**
 * The elements of the UTF-8 document's top-level `"key": [...]` array, or null when the document
 * is not an object with such an array (it is assumed valid JSON: it came from a JSON API). The
 * elements stay bytes (ranges of `bytes`): no string is made unless a consumer asks for one, and
 * a page's text never exists as one large string (large strings go straight to V8's large-object
 * space and, alive across a scavenge, to the old generation).
 * Byte-wise scanning is safe in UTF-8: bytes of multi-byte characters are all ≥ 0x80.
 */
export function splitTopLevelArrayBytes(bytes: Uint8Array, key: string): SplitArrayBytes | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = buf.length
  let depth = 0
  let lastString = ''
  let arrayStart = -1
  let elementStart = -1
  // A typed array: its entries live outside V8's heap, so a page's two offsets per item are no
  // garbage for the young generation (as a JS array they were ~67 bytes of it per item, grown by
  // copies). Doubled when full.
  let bounds = new Int32Array(INITIAL_BOUNDS)
  let count = 0
  for (let i = 0; i < n; i++) {
    const c = buf[i] as number
    if (c === QUOTE) {
      const start = i
      for (i++; i < n; i++) {
        const s = buf[i] as number
        if (s === BACKSLASH) i++
        else if (s === QUOTE) break
      }
      if (i >= n) return null
      if (depth === 1 && arrayStart < 0) lastString = buf.toString('utf8', start + 1, i)
      continue
    }
    if (c === LBRACE || c === LBRACKET) {
      if (depth === 1 && c === LBRACKET && arrayStart < 0 && lastString === key) arrayStart = i
      else if (depth === 2 && arrayStart >= 0 && elementStart < 0) elementStart = i
      depth++
    } else if (c === RBRACE || c === RBRACKET) {
      depth--
      if (depth === 2 && elementStart >= 0) {
        if (2 * count + 2 > bounds.length) {
          const bigger = new Int32Array(2 * bounds.length)
          bigger.set(bounds)
          bounds = bigger
        }
        bounds[2 * count] = elementStart
        bounds[2 * count + 1] = i + 1
        count++
        elementStart = -1
      } else if (depth === 1 && arrayStart >= 0 && c === RBRACKET) {
        return {
          elements: PageItems.fromBytes(buf, bounds, count),
          rest: Buffer.concat([buf.subarray(0, arrayStart), EMPTY_ARRAY, buf.subarray(i + 1)])
        }
      }
    } else if (c === COMMA && depth === 1) {
      lastString = ''
    }
  }
  return null
}

/**
 * The bytes of the value of top-level member `name` (its JSON text, quotes included, e.g.
 * `"expiresAt"`) of the object at bytes[start, end), as [start, end), or null when it has none.
 * Nested members of the same name are not matched. Same byte-wise walk as the splitter above.
 */
export function topLevelMember(
  buf: Buffer,
  start: number,
  end: number,
  name: Buffer
): [number, number] | null {
  let depth = 0
  for (let i = start; i < end; i++) {
    const c = buf[i] as number
    if (c === QUOTE) {
      const from = i
      for (i++; i < end; i++) {
        const s = buf[i] as number
        if (s === BACKSLASH) i++
        else if (s === QUOTE) break
      }
      if (depth !== 1 || buf[i + 1] !== COLON) continue
      if (i + 1 - from !== name.length || buf.compare(name, 0, name.length, from, i + 1) !== 0) continue
      // The member's value: an attribute value is an object.
      const valueStart = i + 2
      let d = 0
      for (let j = valueStart; j < end; j++) {
        const v = buf[j] as number
        if (v === QUOTE) {
          for (j++; j < end; j++) {
            const s = buf[j] as number
            if (s === BACKSLASH) j++
            else if (s === QUOTE) break
          }
        } else if (v === LBRACE || v === LBRACKET) d++
        else if (v === RBRACE || v === RBRACKET) {
          d--
          if (d === 0) return [valueStart, j + 1]
        }
      }
      return null
    }
    if (c === LBRACE || c === LBRACKET) depth++
    else if (c === RBRACE || c === RBRACKET) depth--
  }
  return null
}

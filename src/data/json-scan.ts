/**
 * Finds the elements of one top-level array in a JSON text without parsing the rest, so that each
 * element can be parsed (and dropped) on its own and its exact text reused.
 */

const QUOTE = 34
const BACKSLASH = 92

export interface SplitArrayBytes {
  /** Each element's JSON text, decoded from UTF-8 on its own, in order. */
  elements: string[]
  /** The document's bytes with that array emptied (`"key":[]`). */
  rest: Buffer
}

const EMPTY_ARRAY = Buffer.from('[]')

/**
 * The elements of the UTF-8 document's top-level `"key": [...]` array, or null when the document
 * is not an object with such an array (it is assumed valid JSON: it came from a JSON API). Only
 * the elements become strings, one small string each, so a page's text never exists as one large
 * string (large strings go straight to V8's large-object space and, alive across a scavenge, to
 * the old generation).
 * Byte-wise scanning is safe in UTF-8: bytes of multi-byte characters are all ≥ 0x80.
 */
export function splitTopLevelArrayBytes(bytes: Uint8Array, key: string): SplitArrayBytes | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = buf.length
  let depth = 0
  let lastString = ''
  let arrayStart = -1
  let elementStart = -1
  const elements: string[] = []
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
    if (c === 123 || c === 91) {
      if (depth === 1 && c === 91 && arrayStart < 0 && lastString === key) arrayStart = i
      else if (depth === 2 && arrayStart >= 0 && elementStart < 0) elementStart = i
      depth++
    } else if (c === 125 || c === 93) {
      depth--
      if (depth === 2 && elementStart >= 0) {
        elements.push(buf.toString('utf8', elementStart, i + 1))
        elementStart = -1
      } else if (depth === 1 && arrayStart >= 0 && c === 93) {
        return {
          elements,
          rest: Buffer.concat([buf.subarray(0, arrayStart), EMPTY_ARRAY, buf.subarray(i + 1)])
        }
      }
    } else if (c === 44 && depth === 1) {
      lastString = ''
    }
  }
  return null
}

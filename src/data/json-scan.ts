/**
 * Finds the elements of one top-level array in a JSON text without parsing the rest, so that each
 * element can be parsed (and dropped) on its own and its exact text reused.
 */

const QUOTE = 34
const BACKSLASH = 92

/** Index just past the string that starts at `i` (text[i] === '"'). */
function skipString(text: string, i: number): number {
  let j = i + 1
  for (;;) {
    const q = text.indexOf('"', j)
    if (q < 0) return -1
    let b = q - 1
    while (text.charCodeAt(b) === BACKSLASH) b--
    // An even number of backslashes before the quote: it ends the string.
    if ((q - 1 - b) % 2 === 0) return q + 1
    j = q + 1
  }
}

export interface SplitArray {
  /** Each element's JSON text, in order. */
  elements: string[]
  /** The document with that array emptied (`"key":[]`). */
  rest: string
}

/**
 * The elements of `text`'s top-level `"key": [...]` array. Returns null when the document is not
 * an object with such an array; assumes `text` is valid JSON (it came from a JSON API).
 */
export function splitTopLevelArray(text: string, key: string): SplitArray | null {
  let depth = 0
  let lastString = ''
  let arrayStart = -1
  let elementStart = -1
  const elements: string[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = skipString(text, i)
      if (end < 0) return null
      if (depth === 1 && arrayStart < 0) lastString = text.slice(i + 1, end - 1)
      i = end - 1
      continue
    }
    if (c === 123 || c === 91) {
      // { or [
      if (depth === 1 && c === 91 && arrayStart < 0 && lastString === key) arrayStart = i
      else if (depth === 2 && arrayStart >= 0 && elementStart < 0) elementStart = i
      depth++
    } else if (c === 125 || c === 93) {
      depth--
      if (depth === 2 && elementStart >= 0) {
        elements.push(text.slice(elementStart, i + 1))
        elementStart = -1
      } else if (depth === 1 && arrayStart >= 0 && c === 93) {
        return { elements, rest: `${text.slice(0, arrayStart)}[]${text.slice(i + 1)}` }
      }
    } else if (c === 58 && depth === 1) {
      // ':' keeps lastString as the key; any other separator clears it.
    } else if (c === 44 && depth === 1) {
      lastString = ''
    }
  }
  return null
}

export interface SplitArrayBytes {
  /** Each element's JSON text, decoded from UTF-8 on its own, in order. */
  elements: string[]
  /** The document's bytes with that array emptied (`"key":[]`). */
  rest: Buffer
}

const EMPTY_ARRAY = Buffer.from('[]')

/**
 * splitTopLevelArray on the UTF-8 bytes of the document: only the elements become strings, one
 * small string each, so a page's text never exists as one large string (large strings go straight
 * to V8's large-object space and, alive across a scavenge, to the old generation).
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

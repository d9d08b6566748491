/**
 * The restore's write path reads each data-file line only as far as it must: the item's text (sent
 * as is) and its key (to keep two puts of one key out of one request and to match UnprocessedItems
 * back to their lines). A line in the compact shape our export and S3 export write is scanned, not
 * parsed: building every item's object tree only to read two attributes was most of the restore's
 * garbage. Anything else (whitespace, escapes in names or keys, a missing key) returns null and the
 * caller parses the line (the precheck has parsed and validated every line already).
 */
import type { SdkItem, WireItem } from './dynamodb-json.js'
import { LINE_PREFIX, type KeyAttribute } from './manifest.js'
import { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from './json-scan.js'

/** Index just past the string literal that starts at `i`, or -1. */
function skipString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === BACKSLASH) j++
    else if (c === QUOTE) return j + 1
  }
  return -1
}

/** Index just past the JSON value that starts at `i` (an object: attribute values are `{...}`), or -1. */
function skipObject(s: string, i: number): number {
  if (s.charCodeAt(i) !== LBRACE) return -1
  let depth = 0
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === QUOTE) {
      j = skipString(s, j) - 1
      if (j < 0) return -1
    } else if (c === LBRACE || c === LBRACKET) depth++
    else if (c === RBRACE || c === RBRACKET) {
      depth--
      if (depth === 0) return j + 1
    }
  }
  return -1
}

/**
 * The item text and key text (as keyText spells it: `"value";` per key attribute) of a
 * compact `{"Item":{...}}` line, or null when the line is not in that shape.
 */
export function scanItemLine(line: string, keys: KeyAttribute[]): { text: string; key: string } | null {
  if (!line.startsWith(LINE_PREFIX) || line.charCodeAt(line.length - 1) !== RBRACE) return null
  const itemStart = LINE_PREFIX.length
  if (line.charCodeAt(itemStart) !== LBRACE) return null
  const found: (string | undefined)[] = new Array<string | undefined>(keys.length)
  let pos = itemStart + 1
  if (line.charCodeAt(pos) === RBRACE) pos++
  else {
    for (;;) {
      if (line.charCodeAt(pos) !== QUOTE) return null
      const nameEnd = skipString(line, pos)
      if (nameEnd < 0 || line.charCodeAt(nameEnd) !== COLON) return null
      // A name with escapes could spell a key attribute's name (and JSON.parse keeps the last of
      // two equal names): only plain names are read here.
      for (let i = pos + 1; i < nameEnd - 1; i++) if (line.charCodeAt(i) === BACKSLASH) return null
      const valueStart = nameEnd + 1
      const valueEnd = skipObject(line, valueStart)
      if (valueEnd < 0) return null
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as KeyAttribute
        // The literal `"name"` exactly (the last one wins, as in JSON.parse).
        if (nameEnd - pos - 2 === key.name.length && line.startsWith(key.name, pos + 1)) {
          found[k] = keyValueLiteral(line, valueStart, valueEnd, key.attributeType) ?? undefined
          if (found[k] === undefined) return null
        }
      }
      pos = valueEnd
      const c = line.charCodeAt(pos++)
      if (c === RBRACE) break
      if (c !== COMMA) return null
    }
  }
  // The item's closing brace, then the line's.
  if (pos !== line.length - 1) return null
  let key = ''
  for (const f of found) {
    if (f === undefined) return null
    key += `${f};`
  }
  return { text: line.slice(itemStart, line.length - 1), key }
}

/** `{"S":"abc"}` → `"abc"` (the literal, quotes kept) when it has no escapes; otherwise null. */
function keyValueLiteral(line: string, start: number, end: number, type: string): string | null {
  const head = `{"${type}":"`
  if (
    !line.startsWith(head, start) ||
    line.charCodeAt(end - 1) !== RBRACE ||
    line.charCodeAt(end - 2) !== QUOTE
  )
    return null
  const literal = line.slice(start + head.length - 1, end - 1)
  // One plain string and nothing else (the precheck has refused values with two type keys).
  return literal.includes('\\') || literal.indexOf('"', 1) !== literal.length - 1 ? null : literal
}

/** The item's key as text, from DynamoDB JSON (B as base64) or SDK values (B as bytes). */
export function keyText(item: SdkItem | WireItem, keys: KeyAttribute[]): string {
  let s = ''
  for (const k of keys) {
    const raw = (item[k.name] as Record<string, unknown> | undefined)?.[k.attributeType]
    s += `${JSON.stringify(raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : raw)};`
  }
  return s
}

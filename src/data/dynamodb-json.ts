/**
 * DynamoDB JSON as it travels on the wire and as it sits in our data files.
 *
 * The low-level SDK client hands us `AttributeValue`s exactly as DynamoDB sent them, except that
 * binary values arrive decoded as `Uint8Array`. DynamoDB JSON (the wire format, the S3-export
 * format and `aws dynamodb scan` output) carries binary as base64 text, so the only conversion
 * done here is bytes ⇄ base64. Numbers stay strings: a 38-digit N is never turned into a JS number.
 */
import { code } from '../errors.js'
import type { AttributeValue } from '@aws-sdk/client-dynamodb'

/** One attribute value in DynamoDB JSON (binary as base64). */
export type WireValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: WireValue[] }
  | { M: WireItem }

export type WireItem = Record<string, WireValue>
export type SdkItem = Record<string, AttributeValue>

const TYPE_KEYS = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'BOOL', 'NULL', 'L', 'M'])

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

function valueToWire(v: AttributeValue): WireValue {
  if (v.B !== undefined) return { B: bytesToBase64(v.B) }
  if (v.BS !== undefined) return { BS: v.BS.map(bytesToBase64) }
  if (v.M !== undefined) {
    const m = sdkItemToWire(v.M)
    return m === (v.M as unknown) ? (v as WireValue) : { M: m }
  }
  if (v.L !== undefined) {
    let changed = false
    const l = v.L.map(e => {
      const w = valueToWire(e)
      if (w !== (e as unknown)) changed = true
      return w
    })
    return changed ? { L: l } : (v as WireValue)
  }
  // S, N, SS, NS, BOOL, NULL are already JSON-safe. The SDK's union objects carry exactly one
  // member; unknown members (a future attribute type) are passed through untouched.
  return v as WireValue
}

/** Converts an SDK item to DynamoDB JSON. Items without binary values are only walked, not copied. */
export function sdkItemToWire(item: SdkItem): WireItem {
  let out: WireItem | null = null
  for (const key in item) {
    const v = item[key] as AttributeValue
    const w = valueToWire(v)
    if (out === null && w !== (v as unknown)) {
      out = {}
      for (const k in item) {
        if (k === key) break
        out[k] = item[k] as WireValue
      }
    }
    if (out !== null) out[key] = w
  }
  return out ?? (item as WireItem)
}

/**
 * A malformed value found while reading a backup; `path` is the attribute path inside the item:
 * the top-level attribute's name, then `.*` for each map key below it (a map's keys are the item's
 * data, never shown) and `[i]` for list positions.
 */
export class WireFormatError extends Error {
  constructor(
    readonly path: string,
    message: string
  ) {
    super(`${path}: ${message}`)
    this.name = 'WireFormatError'
  }
}

/** The keys found where a type key was expected: type-like ones shown, anything else (data) not. */
function typeKeys(keys: string[]): string {
  return `[${keys.map(k => (/^[A-Z]{1,4}$/.test(k) ? k : '…')).join(', ')}]`
}

/** The path of attribute `name` below `path`: the top-level name in a code span, map keys hidden. */
function attributePath(path: string, name: string): string {
  return path === 'Item' ? `Item.${code(name)}` : `${path}.*`
}

function base64ToBytes(s: unknown, path: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new WireFormatError(path, 'binary value is not base64 text')
  }
  return Buffer.from(s, 'base64')
}

function stringArray(a: unknown, path: string, type: string): string[] {
  if (!Array.isArray(a) || a.some(x => typeof x !== 'string'))
    throw new WireFormatError(path, `${type} must be an array of strings`)
  return a as string[]
}

function valueFromWire(v: unknown, path: string): AttributeValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new WireFormatError(path, 'attribute value must be an object like {"S":"..."}')
  const keys = Object.keys(v)
  const type = keys[0]
  if (keys.length !== 1 || type === undefined || !TYPE_KEYS.has(type)) {
    throw new WireFormatError(
      path,
      `attribute value must have exactly one of ${[...TYPE_KEYS].join(', ')}; found ${typeKeys(keys)}`
    )
  }
  const x = (v as Record<string, unknown>)[type]
  switch (type) {
    case 'S':
    case 'N':
      if (typeof x !== 'string') throw new WireFormatError(path, `${type} must be a string`)
      return v as AttributeValue
    case 'B':
      return { B: base64ToBytes(x, path) }
    case 'SS':
    case 'NS':
      stringArray(x, path, type)
      return v as AttributeValue
    case 'BS':
      return { BS: stringArray(x, path, type).map((s, i) => base64ToBytes(s, `${path}[${i}]`)) }
    case 'BOOL':
      if (typeof x !== 'boolean') throw new WireFormatError(path, 'BOOL must be true or false')
      return v as AttributeValue
    case 'NULL':
      if (x !== true) throw new WireFormatError(path, 'NULL must be true')
      return v as AttributeValue
    case 'L':
      if (!Array.isArray(x)) throw new WireFormatError(path, 'L must be an array')
      return { L: x.map((e, i) => valueFromWire(e, `${path}[${i}]`)) }
    default:
      return { M: wireItemToSdk(x, path) }
  }
}

/** Parses (and validates) a DynamoDB JSON item into SDK attribute values. */
export function wireItemToSdk(item: unknown, path = 'Item'): SdkItem {
  if (item === null || typeof item !== 'object' || Array.isArray(item))
    throw new WireFormatError(path, 'must be an object of attributes')
  const out: SdkItem = {}
  for (const [k, v] of Object.entries(item)) out[k] = valueFromWire(v, attributePath(path, k))
  return out
}

function checkBase64(s: unknown, path: string): void {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
    throw new WireFormatError(path, 'binary value is not base64 text')
}

function checkValue(v: unknown, path: () => string): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new WireFormatError(path(), 'attribute value must be an object like {"S":"..."}')
  let type: string | undefined
  let n = 0
  for (const k in v) {
    type ??= k
    n++
  }
  if (n !== 1 || type === undefined || !TYPE_KEYS.has(type)) {
    throw new WireFormatError(
      path(),
      `attribute value must have exactly one of ${[...TYPE_KEYS].join(', ')}; found ${typeKeys(Object.keys(v))}`
    )
  }
  const x = (v as Record<string, unknown>)[type]
  switch (type) {
    case 'S':
    case 'N':
      if (typeof x !== 'string') throw new WireFormatError(path(), `${type} must be a string`)
      return
    case 'B':
      return checkBase64(x, path())
    case 'SS':
    case 'NS':
      stringArray(x, path(), type)
      return
    case 'BS':
      stringArray(x, path(), type).forEach((e, i) => checkBase64(e, `${path()}[${i}]`))
      return
    case 'BOOL':
      if (typeof x !== 'boolean') throw new WireFormatError(path(), 'BOOL must be true or false')
      return
    case 'NULL':
      if (x !== true) throw new WireFormatError(path(), 'NULL must be true')
      return
    case 'L':
      if (!Array.isArray(x)) throw new WireFormatError(path(), 'L must be an array')
      x.forEach((e, i) => checkValue(e, () => `${path()}[${i}]`))
      return
    default:
      checkWireItem(x, path())
  }
}

/** Throws WireFormatError (with the attribute path) unless `item` is valid DynamoDB JSON; allocates nothing when it is. */
export function checkWireItem(item: unknown, path = 'Item'): asserts item is WireItem {
  if (item === null || typeof item !== 'object' || Array.isArray(item))
    throw new WireFormatError(path, 'must be an object of attributes')
  for (const k in item) checkValue((item as Record<string, unknown>)[k], () => attributePath(path, k))
}

/**
 * Does this item fit this key schema? The one place that says so, for the restore's pre-check
 * (the backup into the target table) and the executor's check before a delete (the export into
 * the table the deploy will create).
 */
import { createHmac, randomBytes } from 'node:crypto'
import { code } from '../errors.js'
import type { ScalarAttrType } from '../types.js'
import type { WireItem } from './dynamodb-json.js'
import type { KeyAttribute } from './manifest.js'

/** The keys of the table the deploy will create: its primary key, and every index key's type. */
export interface TargetKeys {
  primary: KeyAttribute[]
  /** Every attribute used by the table's, its LSIs' and its GSIs' key schemas, with its type. */
  keyTypes: Record<string, ScalarAttrType>
}

/**
 * Item key values never appear in a message, a log line or a report: they can be personal data or
 * anything an application's user typed. An item is named by its place (file and line) and by a
 * short hash of its key, salted so that nobody can guess a key from the hash: with the backup's
 * `keyHashSalt` (manifest.json) one can recompute it, as `keyHash` does; without the backup not.
 */
let runSalt: string | undefined

/** A salt for sources without one of their own (legacy scan files, older manifests): one per run. */
export function runKeyHashSalt(): string {
  runSalt ??= randomBytes(16).toString('hex')
  return runSalt
}

/** A new salt for a backup's manifest. */
export function newKeyHashSalt(): string {
  return randomBytes(16).toString('hex')
}

/**
 * 12 hex digits of HMAC-SHA256(salt, the key's canonical JSON: `[[name, type, value], …]` in
 * key-schema order, the value as DynamoDB JSON writes it, missing parts as null).
 */
export function keyHash(item: WireItem, keys: KeyAttribute[], salt: string): string {
  const parts = keys.map(k => {
    const v = item[k.name] as Record<string, unknown> | undefined
    const type = v ? (Object.keys(v)[0] ?? null) : null
    const value = type !== null ? (v?.[type] ?? null) : null
    return [k.name, type, typeof value === 'string' ? value : null]
  })
  return createHmac('sha256', salt).update(JSON.stringify(parts)).digest('hex').slice(0, 12)
}

/** How messages name an item: `the item at FILE line N (key hash HASH)`; never its values. */
export function itemRef(file: string, line: number, hash: string): string {
  return `the item at ${file} ${line > 0 ? `line ${line}` : '(line unknown)'} (key hash ${hash})`
}

export function schemaText(keys: KeyAttribute[]): string {
  return keys.map(k => `${code(k.name)} ${k.type} ${k.attributeType}`).join(', ')
}

/** Every scalar value an item holds (strings, numbers, binary as base64), at any depth. */
function itemValues(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) itemValues(v, out)
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) itemValues(v, out)
  return out
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * An AWS message about one item with every value of that item taken out: DynamoDB's messages can
 * quote a value ("The parameter cannot be converted to a numeric value: 12abc"). Values of 4 or
 * more characters go wherever they appear; shorter ones where they stand alone (so that `1` does
 * not garble `gsi1pk`); key values, however short, always.
 */
export function withoutItemValues(message: string, item: WireItem, keys: KeyAttribute[]): string {
  const keyValues = new Set(keys.flatMap(k => itemValues(item[k.name], [])))
  const values = [...new Set(itemValues(item, []))].filter(v => v !== '').sort((a, b) => b.length - a.length)
  let out = message
  for (const v of values) {
    const pattern =
      v.length >= 4 || keyValues.has(v)
        ? new RegExp(escapeRegExp(v), 'g')
        : new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(v)}(?![A-Za-z0-9])`, 'g')
    out = out.replace(pattern, '‹value›')
  }
  return out
}

/** Why an item cannot go into a table with these keys, or null when it can. */
export function keyProblem(item: WireItem, keys: KeyAttribute[]): string | null {
  for (const k of keys) {
    const v = item[k.name] as Record<string, unknown> | undefined
    if (v === undefined) return `key attribute ${code(k.name)} is missing`
    const type = Object.keys(v)[0]
    if (type !== k.attributeType)
      return `key attribute ${code(k.name)} has type ${type}, the table wants ${k.attributeType}`
    if (k.attributeType !== 'N' && v[type] === '') return `key attribute ${code(k.name)} is empty`
  }
  return null
}

export function keysText(target: TargetKeys): string {
  const primary = target.primary.map(k => k.name)
  const index = Object.keys(target.keyTypes).filter(n => !primary.includes(n))
  const text = (n: string): string => `${code(n)} (${target.keyTypes[n]})`
  return `${primary.map(text).join(', ')}${index.length > 0 ? `; index keys ${index.map(text).join(', ')}` : ''}`
}

/**
 * Why an item cannot be written into the new table, or null when it can: its primary key must be
 * there with the right type; an index key may be absent (sparse index) but, when present, must
 * have the index's type and must not be empty (DynamoDB rejects both).
 */
export function itemMisfit(item: WireItem, target: TargetKeys): string | null {
  const primary = keyProblem(item, target.primary)
  if (primary !== null) return primary
  for (const [name, type] of Object.entries(target.keyTypes)) {
    if (target.primary.some(k => k.name === name)) continue
    const value = item[name] as Record<string, unknown> | undefined
    if (value === undefined) continue
    const actual = Object.keys(value)[0]
    if (actual !== type)
      return `index key attribute ${code(name)} has type ${actual}, the new table wants ${type}`
    if (type !== 'N' && value[type] === '') return `index key attribute ${code(name)} is empty`
  }
  return null
}

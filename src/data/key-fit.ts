/**
 * Does this item fit this key schema? The one place that says so, for the restore's pre-check
 * (the backup into the target table) and the executor's check before a delete (the export into
 * the table the deploy will create).
 */
import type { ScalarAttrType } from '../types.js'
import type { SdkItem, WireItem } from './dynamodb-json.js'
import type { KeyAttribute } from './manifest.js'

/** The keys of the table the deploy will create: its primary key, and every index key's type. */
export interface TargetKeys {
  primary: KeyAttribute[]
  /** Every attribute used by the table's, its LSIs' and its GSIs' key schemas, with its type. */
  keyTypes: Record<string, ScalarAttrType>
}

export function describeKey(item: SdkItem | WireItem, keys: KeyAttribute[]): string {
  const parts = keys.map(k => {
    const v = item[k.name] as Record<string, unknown> | undefined
    const raw = v?.[k.attributeType]
    const text =
      raw instanceof Uint8Array
        ? Buffer.from(raw).toString('base64')
        : typeof raw === 'string'
          ? raw
          : undefined
    return `${k.name}=${text === undefined ? '(missing)' : JSON.stringify(text)}`
  })
  return `{${parts.join(', ')}}`
}

export function schemaText(keys: KeyAttribute[]): string {
  return keys.map(k => `${k.name} ${k.type} ${k.attributeType}`).join(', ')
}

/** Why an item cannot go into a table with these keys, or null when it can. */
export function keyProblem(item: WireItem, keys: KeyAttribute[]): string | null {
  for (const k of keys) {
    const v = item[k.name] as Record<string, unknown> | undefined
    if (v === undefined) return `key attribute "${k.name}" is missing`
    const type = Object.keys(v)[0]
    if (type !== k.attributeType)
      return `key attribute "${k.name}" has type ${type}, the table wants ${k.attributeType}`
    if (k.attributeType !== 'N' && v[type] === '') return `key attribute "${k.name}" is empty`
  }
  return null
}

export function keysText(target: TargetKeys): string {
  const primary = target.primary.map(k => k.name)
  const index = Object.keys(target.keyTypes).filter(n => !primary.includes(n))
  const text = (n: string): string => `${n} (${target.keyTypes[n]})`
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
      return `index key attribute "${name}" has type ${actual}, the new table wants ${type}`
    if (type !== 'N' && value[type] === '') return `index key attribute "${name}" is empty`
  }
  return null
}

import { join } from 'node:path'
import { ContentDigest } from '../data/digest.js'
import type { WireItem } from '../data/dynamodb-json.js'
import type { BackupManifest, KeyAttribute } from '../data/manifest.js'
import { readDataFile, sha256File } from '../data/readers.js'
import { describeKey, keyProblem } from '../data/restore.js'
import { templateTableConfig } from '../compare/template-config.js'
import type { Finding, ScalarAttrType } from '../types.js'

/** The keys of the table the deploy will create: its primary key, and every index key's type. */
export interface TargetKeys {
  primary: KeyAttribute[]
  /** Every attribute used by the table's, its LSIs' and its GSIs' key schemas, with its type. */
  keyTypes: Record<string, ScalarAttrType>
}

/** The template's keys for the table, or null when no template describes them statically. */
export function targetKeysOf(finding: Finding, stage: string, region: string): TargetKeys | null {
  const { spec } = finding
  if (spec.properties === null || spec.stack === null) return null
  const { config } = templateTableConfig(spec, { stackName: spec.stack, stage, region })
  if (!config.keys || !config.attributeTypes) return null
  const primary: KeyAttribute[] = []
  for (const k of config.keys) {
    const attributeType = config.attributeTypes[k.name]
    if (attributeType === undefined) return null
    primary.push({ ...k, attributeType })
  }
  return { primary, keyTypes: config.attributeTypes }
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

export interface ExportCheck {
  items: number
  misfits: number
  firstMisfit: string | null
  /** What is wrong with the files themselves (checksums, count, digest); empty when they match. */
  problems: string[]
}

/**
 * Reads the export back from disk, as a restore will: every data file's sha256, every line parsed,
 * count and content digest against the manifest, and (given the new table's keys) whether every
 * item can be written into it. Streams; memory stays flat.
 */
export async function checkExportOnDisk(
  manifest: BackupManifest,
  dir: string,
  target: TargetKeys | null
): Promise<ExportCheck> {
  const digest = new ContentDigest()
  const result: ExportCheck = { items: 0, misfits: 0, firstMisfit: null, problems: [] }
  for (const file of manifest.dataFiles) {
    const path = join(dir, file.path)
    const { sha256 } = await sha256File(path)
    if (sha256 !== file.sha256)
      result.problems.push(`${file.path}: sha256 ${sha256} differs from the manifest's`)
    for await (const batch of readDataFile(path)) {
      for (const { item } of batch) {
        result.items++
        digest.add(item)
        const misfit = target === null ? null : itemMisfit(item, target)
        if (misfit === null) continue
        result.misfits++
        result.firstMisfit ??= `${describeKey(item, target?.primary ?? [])}: ${misfit}`
      }
    }
  }
  if (result.items !== manifest.itemCount) {
    result.problems.push(`the files hold ${result.items} items, the manifest says ${manifest.itemCount}`)
  }
  if (digest.hex() !== manifest.contentDigest.value) {
    result.problems.push('the content digest of the files differs from the manifest')
  }
  return result
}

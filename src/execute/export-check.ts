import { join } from 'node:path'
import { ContentDigest } from '../data/digest.js'
import type { BackupManifest, KeyAttribute } from '../data/manifest.js'
import { readDataFile, sha256File } from '../data/readers.js'
import { itemMisfit, itemRef, keyHash, runKeyHashSalt, type TargetKeys } from '../data/key-fit.js'
import { templateTableConfig } from '../compare/template-config.js'
import { templateContextOf } from '../compare/differences.js'
import type { Finding } from '../types.js'

/** The template's keys for the table, or null when no template describes them statically. */
export function targetKeysOf(finding: Finding, stage: string, account?: string): TargetKeys | null {
  const { spec } = finding
  const ctx = templateContextOf(finding, stage, account)
  if (spec.properties === null || ctx === null) return null
  const { config } = templateTableConfig(spec, ctx)
  if (!config.keys || !config.attributeTypes) return null
  const primary: KeyAttribute[] = []
  for (const k of config.keys) {
    const attributeType = config.attributeTypes[k.name]
    if (attributeType === undefined) return null
    primary.push({ ...k, attributeType })
  }
  return { primary, keyTypes: config.attributeTypes }
}

export interface ExportCheck {
  items: number
  misfits: number
  /** The first item that does not fit, named by file, line and key hash (never its key values), and why. */
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
  const salt = manifest.keyHashSalt ?? runKeyHashSalt()
  for (const file of manifest.dataFiles) {
    const path = join(dir, file.path)
    const { sha256 } = await sha256File(path)
    if (sha256 !== file.sha256)
      result.problems.push(`${file.path}: sha256 ${sha256} differs from the manifest's`)
    for await (const batch of readDataFile(path)) {
      for (const { item, line } of batch) {
        result.items++
        digest.add(item)
        const misfit = target === null ? null : itemMisfit(item, target)
        if (misfit === null) continue
        result.misfits++
        result.firstMisfit ??= `${itemRef(file.path, line, keyHash(item, manifest.table.keySchema, salt))}: ${misfit}`
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

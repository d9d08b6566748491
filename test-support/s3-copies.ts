/**
 * What a restore "from AWS alone" would find in the bucket: the tests read an S3 copy back with
 * nothing but S3 (manifest, then every data file it lists), check it against its manifest, and
 * return its items in the canonical form tableContent uses, to compare with the table it came from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { getObjectBytes, listObjects } from '../src/aws/s3.js'
import { canonicalItem, ContentDigest } from '../src/data/digest.js'
import type { BackupManifest } from '../src/data/manifest.js'
import { readDataFile, sha256File } from '../src/data/readers.js'

export interface S3CopyContent {
  manifest: BackupManifest
  /** The items, canonical and sorted. */
  items: string[]
}

/** Reads the copy whose manifest is `manifestKey`; throws when a file or the digest does not match. */
export async function readS3Copy(s3: S3Client, bucket: string, manifestKey: string): Promise<S3CopyContent> {
  const manifest = JSON.parse(
    (await getObjectBytes(s3, bucket, manifestKey)).toString('utf8')
  ) as BackupManifest
  const folder = manifestKey.slice(0, -'manifest.json'.length)
  const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-s3-copy-'))
  const items: string[] = []
  const digest = new ContentDigest()
  try {
    for (const file of manifest.dataFiles) {
      const path = join(dir, file.path.replaceAll('/', '_'))
      writeFileSync(path, await getObjectBytes(s3, bucket, `${folder}${file.path}`))
      const { sha256 } = await sha256File(path)
      if (sha256 !== file.sha256)
        throw new Error(`${folder}${file.path}: sha256 ${sha256}, manifest ${file.sha256}`)
      let count = 0
      for await (const batch of readDataFile(path)) {
        for (const { item } of batch) {
          items.push(canonicalItem(item))
          digest.add(item)
          count++
        }
      }
      if (count !== file.items)
        throw new Error(`${folder}${file.path}: ${count} items, manifest ${file.items}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  if (items.length !== manifest.itemCount)
    throw new Error(`${items.length} items, manifest ${manifest.itemCount}`)
  if (digest.hex() !== manifest.contentDigest.value)
    throw new Error('content digest differs from the manifest')
  return { manifest, items: items.sort() }
}

/** Every manifest.json key under `prefix`, sorted. */
export async function s3Manifests(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = []
  for await (const page of listObjects(s3, { bucket, prefix }))
    keys.push(...page.objects.map(o => o.key).filter(k => k.endsWith('/manifest.json')))
  return keys.sort()
}

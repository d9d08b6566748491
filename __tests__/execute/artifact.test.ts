/**
 * The workflow artifact, against a fake artifact service that speaks the protocol
 * @actions/artifact v6 uses (the runner's ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL point at it):
 * only this run's own files are uploaded, stored without a second compression, with the
 * retention asked for. The bundle's default (no upload) is checked end to end in
 * __tests__/e2e/backup-restore-flow.test.ts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { runFiles, uploadRunArtifact } from '../../src/execute/artifact.js'
import { MANIFEST_FORMAT } from '../../src/data/manifest.js'
import type { Logger } from '../../src/types.js'
import { startArtifactService, type ArtifactService } from '../../test-support/artifact-service.js'

let service: ArtifactService
let backupDir: string
let outside: string
const saved = { token: process.env.ACTIONS_RUNTIME_TOKEN, url: process.env.ACTIONS_RESULTS_URL }
const lines: string[] = []
const logger: Logger = {
  info: m => lines.push(m),
  warning: m => lines.push(`warning: ${m}`),
  debug: () => {}
}

/** A manifest and its two gzip data files, as an export writes them, under backupDir/table/stamp. */
function writeExport(table: string, stamp: string): { manifest: string; files: string[] } {
  const dir = join(backupDir, table, stamp)
  mkdirSync(join(dir, 'data'), { recursive: true })
  const dataFiles = [0, 1].map(i => {
    const path = `data/segment-${i}-of-2.json.gz`
    const body = gzipSync(`{"Item":{"pk":{"S":"${table}-${i}"}}}\n`)
    writeFileSync(join(dir, path), body)
    return {
      path,
      sha256: createHash('sha256').update(body).digest('hex'),
      items: 1,
      bytes: body.length,
      uncompressedBytes: 1
    }
  })
  const manifest = join(dir, 'manifest.json')
  writeFileSync(
    manifest,
    JSON.stringify({
      format: MANIFEST_FORMAT,
      table: { name: table, keySchema: [{ name: 'pk', type: 'HASH', attributeType: 'S' }] },
      itemCount: 2,
      dataFiles,
      contentDigest: { algorithm: 'x', value: 'y' }
    })
  )
  return { manifest, files: [manifest, ...dataFiles.map(f => join(dir, f.path))] }
}

beforeAll(async () => {
  service = await startArtifactService()
})
afterAll(async () => {
  await service.stop()
})
beforeEach(() => {
  backupDir = mkdtempSync(join(tmpdir(), 'orphan-guard-artifact-'))
  outside = mkdtempSync(join(tmpdir(), 'orphan-guard-outside-'))
  process.env.ACTIONS_RUNTIME_TOKEN = service.runtimeToken
  process.env.ACTIONS_RESULTS_URL = `${service.url}/`
  lines.length = 0
})
afterEach(() => {
  rmSync(backupDir, { recursive: true, force: true })
  rmSync(outside, { recursive: true, force: true })
  for (const [name, value] of [
    ['ACTIONS_RUNTIME_TOKEN', saved.token],
    ['ACTIONS_RESULTS_URL', saved.url]
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe('uploadRunArtifact', () => {
  it("uploads this run's files only, stored as they are, with the retention asked for", async () => {
    const run = writeExport('pr-5-orders', '20260101T000000000Z')
    writeExport('pr-6-other-stage', '20260101T000000000Z') // another run's backup in the same folder
    writeFileSync(join(backupDir, '.env'), 'AWS_SECRET_ACCESS_KEY=do-not-upload')
    writeFileSync(join(backupDir, 'pre-deploy-report-pr-5.json'), '{}')
    const template = join(backupDir, 'import-pr-5-db.json')
    writeFileSync(template, '{"template":{}}')

    const uploaded = await uploadRunArtifact({
      backupDir,
      stage: 'pr-5',
      manifests: [run.manifest],
      importTemplates: [template],
      retentionDays: 7,
      logger,
      now: Date.parse('2026-01-01T00:00:00Z')
    })

    const name = `dynamodb-orphan-guard-pr-5-${Date.parse('2026-01-01T00:00:00Z')}`
    expect(uploaded).toMatchObject({ name, files: 4, retentionDays: 7 })
    expect(uploaded?.id).toBe(service.artifacts.at(-1)?.id)
    const entries = service.entries(name)
    expect(entries.map(e => e.name).sort()).toEqual(
      [
        'import-pr-5-db.json',
        'pr-5-orders/20260101T000000000Z/data/segment-0-of-2.json.gz',
        'pr-5-orders/20260101T000000000Z/data/segment-1-of-2.json.gz',
        'pr-5-orders/20260101T000000000Z/manifest.json'
      ].sort()
    )
    // Stored: the gzip data files are not compressed a second time (nor anything else).
    expect(entries.map(e => e.method)).toEqual(entries.map(() => 0))
    expect(entries.every(e => e.compressedSize === e.size)).toBe(true)
    // Retention: CreateArtifact carries an expiry 7 days out.
    const expires = Date.parse(String(service.artifacts.at(-1)?.create.expires_at))
    expect(Math.round((expires - Date.now()) / 86_400_000)).toBe(7)
    expect(lines.join('\n')).toMatch(/everyone who can read the repository can download it/)
  })

  it('refuses a file outside backup-dir or a link, uploading nothing', async () => {
    const run = writeExport('pr-5-orders', '20260101T000000000Z')
    writeFileSync(join(outside, 'secret'), 'x')
    symlinkSync(join(outside, 'secret'), join(backupDir, 'import-pr-5-db.json'))
    const before = service.artifacts.length

    await expect(
      runFiles(backupDir, [run.manifest], [join(backupDir, 'import-pr-5-db.json')])
    ).rejects.toThrow(/is not a regular file/)
    await expect(runFiles(backupDir, [run.manifest], [join(outside, 'secret')])).rejects.toThrow(
      /is not inside/
    )
    const uploaded = await uploadRunArtifact({
      backupDir,
      stage: 'pr-5',
      manifests: [run.manifest],
      importTemplates: [join(outside, 'secret')],
      retentionDays: 7,
      logger,
      now: 1
    })
    expect(uploaded).toBeNull()
    expect(service.artifacts.length).toBe(before)
    expect(lines.join('\n')).toMatch(/warning: Could not upload the files of this run/)
  })

  it('without the artifact service: a warning, nothing uploaded, the files stay on disk', async () => {
    delete process.env.ACTIONS_RUNTIME_TOKEN
    const run = writeExport('pr-5-orders', '20260101T000000000Z')
    const before = service.requests.length
    const uploaded = await uploadRunArtifact({
      backupDir,
      stage: 'pr-5',
      manifests: [run.manifest],
      importTemplates: [],
      retentionDays: 7,
      logger,
      now: 1
    })
    expect(uploaded).toBeNull()
    expect(service.requests.length).toBe(before)
    expect(lines.join('\n')).toMatch(/no artifact service/)
  })
})

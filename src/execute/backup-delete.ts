import { join } from 'node:path'
import type { AwsClients } from '../aws/clients.js'
import { createOnDemandBackup } from '../aws/backup.js'
import { deleteTableAndWait, turnOffDeletionProtection, type WaitOptions } from '../aws/dynamodb-write.js'
import { exportTable } from '../data/export.js'
import { MANIFEST_FILE, type BackupManifest, type KeyAttribute } from '../data/manifest.js'
import { readDataFile } from '../data/readers.js'
import { describeKey, keyProblem } from '../data/restore.js'
import { templateTableConfig } from '../template-config.js'
import { digestTable } from '../data/verify.js'
import { errorMessage, OperationError } from '../errors.js'
import type { Finding, KeyElement, Logger, Policy } from '../types.js'
import { assertMayTouch, assertSafeToDelete, SafetyRefusal } from './safety.js'
import { callText, timestamp, type StepLog } from './steps.js'

export interface BackupDeleteInput {
  finding: Finding
  stage: string
  policy: Policy
  backupDir: string
  awsBackup: boolean
  dryRun: boolean
  region: string
  logger: Logger
  steps: StepLog
  wait: WaitOptions
  now: () => number
}

export interface BackupDeleteResult {
  manifestPath: string | null
  backupArn: string | null
  itemCount: number
}

export function backupName(table: string, epochMs: number): string {
  return `orphan-guard-${table}-${timestamp(epochMs)}`.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 255)
}

/** Where the export of a table goes: `<backup-dir>/<table>/<UTC timestamp>/`. */
export function exportDir(backupDir: string, table: string, epochMs: number): string {
  return join(backupDir, table, timestamp(epochMs))
}

/**
 * backup-restore, pre-deploy phase, one table: on-demand backup (when aws-backup) until AVAILABLE,
 * streamed export, verification of the export against the table (count AND content digest), then —
 * only after all that — deletion protection off and DeleteTable. Any failure before the delete
 * leaves the table untouched; any failure after the backup leaves the backup intact, and the thrown
 * OperationError says which state things are in.
 */
export async function backupAndDelete(
  clients: AwsClients,
  input: BackupDeleteInput
): Promise<BackupDeleteResult> {
  const { finding, steps, logger } = input
  const table = finding.tableName
  const started = input.now()
  const dir = exportDir(input.backupDir, table, started)
  const manifestPath = join(dir, MANIFEST_FILE)
  const protectionOn = finding.live?.deletionProtection === true

  if (input.dryRun) {
    if (input.awsBackup) {
      steps.planned(
        table,
        'on-demand backup',
        callText('CreateBackup', { TableName: table, BackupName: backupName(table, started) })
      )
    }
    steps.planned(table, 'export', `Scan (parallel segments, ConsistentRead) into ${manifestPath}`)
    steps.planned(table, 'verify export', 'Scan: item count and content digest must equal the export')
    const keys = templateKeys(finding, input.stage, input.region)
    if (keys !== null) {
      steps.planned(
        table,
        'check keys',
        `every exported item must fit the template's key schema (${keyText(keys)})`
      )
    }
    if (protectionOn) {
      steps.planned(
        table,
        'deletion protection off',
        callText('UpdateTable', { TableName: table, DeletionProtectionEnabled: false })
      )
    }
    steps.planned(table, 'delete', callText('DeleteTable', { TableName: table }))
    return { manifestPath: null, backupArn: null, itemCount: 0 }
  }

  // Before the first call that changes anything (a backup included): not protected, not owned.
  await assertMayTouch(clients, { tableName: table, expectedStack: finding.spec.stack, policy: input.policy })

  let backupArn: string | null = null
  if (input.awsBackup) {
    let backup
    try {
      backup = await createOnDemandBackup(clients.dynamodb, {
        table,
        backupName: backupName(table, started),
        sleep: input.wait.sleep,
        clock: input.now
      })
    } catch (err) {
      throw new OperationError(
        errorMessage(err),
        `${err instanceof OperationError ? `${err.state}; t` : 'T'}he table ${table} is untouched (nothing was deleted). Fix the cause and run again.`,
        { cause: err }
      )
    }
    backupArn = backup.arn
    steps.done(table, 'on-demand backup', `${backup.arn} is AVAILABLE`)
  }

  const kept = (): string =>
    [backupArn ? `on-demand backup ${backupArn}` : null, `export ${manifestPath}`]
      .filter(Boolean)
      .join(' and ')

  let manifest
  try {
    manifest = await exportTable(clients.dynamodb, { table, dir, region: input.region, logger, sleep: input.wait.sleep })
  } catch (err) {
    throw new OperationError(
      `Export of ${table} failed: ${errorMessage(err)}`,
      `The table ${table} is untouched (nothing was deleted).${backupArn ? ` The on-demand backup ${backupArn} exists.` : ''} Fix the cause and run again.`,
      { cause: err }
    )
  }
  steps.done(table, 'export', `${manifest.itemCount} items into ${manifestPath}`)

  const found = await digestTable(clients.dynamodb, { table, sleep: input.wait.sleep })
  if (found.itemCount !== manifest.itemCount || found.contentDigest !== manifest.contentDigest.value) {
    throw new OperationError(
      `The export of ${table} does not match the table (export: ${manifest.itemCount} items, table: ${found.itemCount} items${found.contentDigest !== manifest.contentDigest.value ? ', content digests differ' : ''}); was the table written to during the export?`,
      `The table ${table} is untouched (nothing was deleted). Stop writers to the table and run again.`
    )
  }
  steps.done(table, 'verify export', `${found.itemCount} items, content digest equal to the table's`)

  const targetKeys = templateKeys(finding, input.stage, input.region)
  if (targetKeys !== null) {
    await assertItemsFitKeys(manifest, dir, targetKeys, table)
    steps.done(
      table,
      'check keys',
      `every exported item fits the template's key schema (${keyText(targetKeys)})`
    )
  }

  await assertSafeToDelete(clients, {
    tableName: table,
    expectedStack: finding.spec.stack,
    policy: input.policy,
    backupVerified: true
  })

  try {
    if (protectionOn) {
      await turnOffDeletionProtection(clients.dynamodb, table, input.wait)
      steps.done(table, 'deletion protection off', 'turned off after the backup was verified')
    }
    await deleteTableAndWait(clients.dynamodb, table, input.wait)
  } catch (err) {
    throw new OperationError(
      `Deleting ${table} failed: ${errorMessage(err)}`,
      `The data is safe in ${kept()}. The table ${table} may still exist${protectionOn ? ' (deletion protection may now be off)' : ''}: check it, then run again, or restore with phase: restore after deleting it yourself.`,
      { cause: err }
    )
  }
  steps.done(
    table,
    'delete',
    `deleted; the deploy creates it anew, then phase: restore loads ${manifest.itemCount} items`
  )
  return { manifestPath, backupArn, itemCount: manifest.itemCount }
}

function keyText(keys: KeyAttribute[]): string {
  return keys.map(k => `${k.name} (${k.attributeType}, ${k.type})`).join(', ')
}

function sameKeys(a: KeyElement[], b: KeyAttribute[]): boolean {
  return a.length === b.length && a.every((k, i) => k.name === b[i]?.name && k.type === b[i]?.type)
}

/**
 * The key schema the deploy will create, when it differs from the live table's (else null: the
 * items came from a table with these very keys, so they fit). Null too when the template's keys
 * cannot be read statically; the restore's own pre-check still guards that case.
 */
export function templateKeys(finding: Finding, stage: string, region: string): KeyAttribute[] | null {
  const { spec, live } = finding
  if (spec.properties === null || spec.stack === null || live === null) return null
  const { config } = templateTableConfig(spec, { stackName: spec.stack, stage, region })
  if (!config.keys || !config.attributeTypes) return null
  const keys: KeyAttribute[] = []
  for (const k of config.keys) {
    const attributeType = config.attributeTypes[k.name]
    if (attributeType === undefined) return null
    keys.push({ ...k, attributeType })
  }
  const liveKeys = live.keys.map(k => ({ ...k, attributeType: live.attributeTypes[k.name] ?? 'S' }))
  return sameKeys(live.keys, keys) && keys.every((k, i) => k.attributeType === liveKeys[i]?.attributeType)
    ? null
    : keys
}

/**
 * When the template changes the key schema, the table may only be deleted if every exported item
 * can be written into the new table: otherwise the restore after the deploy would fail and the
 * data would live on only in the backup. Streams the export (memory stays flat).
 */
async function assertItemsFitKeys(
  manifest: BackupManifest,
  dir: string,
  keys: KeyAttribute[],
  table: string
): Promise<void> {
  let misfits = 0
  let first = ''
  for (const file of manifest.dataFiles) {
    for await (const batch of readDataFile(join(dir, file.path))) {
      for (const { item } of batch) {
        const problem = keyProblem(item, keys)
        if (problem === null) continue
        misfits++
        if (first === '') first = `${describeKey(item, keys)}: ${problem}`
      }
    }
  }
  if (misfits > 0) {
    throw new SafetyRefusal(
      `Refusing to delete ${table}: ${misfits} of ${manifest.itemCount} items do not fit the template's new key schema (${keyText(keys)}), so the restore after the deploy could not write them; first: ${first}. Its export is kept in ${dir}. Migrate the items to the new keys yourself, or keep the old keys in the template, then run again.`
    )
  }
}

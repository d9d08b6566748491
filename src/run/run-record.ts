/**
 * What the pre-deploy step leaves in backup-dir for the restore step of the same workflow run: the
 * exports it wrote (their manifests). The restore step uses them as the first source of a restore
 * that AWS says is owed; a record of another run (a runner that keeps its disk) is ignored. Nothing
 * here decides whether a restore is owed: that is found in AWS (inspect/owed-restores.ts).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../data/manifest.js'
import { isRecord } from '../types.js'

const FORMAT = 'dynamodb-orphan-guard/run-record@1'

export function runRecordPath(backupDir: string, stage: string): string {
  return join(backupDir, `orphan-guard-run-${stage}.json`)
}

/** The run's identity: GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT ('' outside GitHub Actions). */
export function currentRunId(env: Readonly<Record<string, string | undefined>>): string {
  return env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}.${env.GITHUB_RUN_ATTEMPT ?? '1'}` : ''
}

export async function writeRunRecord(
  backupDir: string,
  record: { stage: string; runId: string; manifests: string[] }
): Promise<void> {
  await writeFileAtomic(
    runRecordPath(backupDir, record.stage),
    `${JSON.stringify({ format: FORMAT, ...record }, null, 2)}\n`
  )
}

/** The manifests the pre-deploy step of this very run wrote ([] when there is no such record). */
export async function readRunRecord(backupDir: string, stage: string, runId: string): Promise<string[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(runRecordPath(backupDir, stage), 'utf8'))
  } catch {
    return []
  }
  if (!isRecord(parsed) || parsed.format !== FORMAT || parsed.stage !== stage || parsed.runId !== runId)
    return []
  return Array.isArray(parsed.manifests)
    ? parsed.manifests.filter((m): m is string => typeof m === 'string')
    : []
}

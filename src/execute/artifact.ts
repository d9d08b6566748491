import { DefaultArtifactClient } from '@actions/artifact'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../errors.js'
import type { Logger } from '../types.js'

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

/**
 * Uploads the backup folder as a workflow artifact when the runner provides the artifact service
 * (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL); otherwise, or when the upload fails, says so
 * and goes on: the backup files stay on the runner's disk for the restore step of the same job.
 */
export async function uploadBackupArtifact(
  backupDir: string,
  stage: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env
): Promise<string | null> {
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
    const message = `No artifact service on this runner: the backups stay in ${backupDir} only (the restore step must run in the same job).`
    if (logger.notice) logger.notice(message)
    else logger.info(message)
    return null
  }
  const name = `dynamodb-orphan-guard-${stage}-${Date.now()}`
  try {
    const files = await filesUnder(backupDir)
    const { id } = await new DefaultArtifactClient().uploadArtifact(name, files, backupDir, {
      retentionDays: 35
    })
    logger.info(`Uploaded ${files.length} backup file(s) as artifact ${name} (id ${id ?? '?'}).`)
    return name
  } catch (err) {
    logger.warning(
      `Could not upload the backups as a workflow artifact (${errorMessage(err)}); they stay in ${backupDir}.`
    )
    return null
  }
}

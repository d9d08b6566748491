/**
 * The run's own files as a workflow artifact, only when `upload-artifact` is true. Everyone who
 * can read the repository can download an artifact (anyone signed in to GitHub, for a public
 * repository), and an export is the table's data: so nothing is uploaded by default, and what is
 * uploaded is exactly what this run wrote (each export's manifest and the data files it lists,
 * each import template), never "whatever is in backup-dir".
 */
import { DefaultArtifactClient, type UploadArtifactOptions } from '@actions/artifact'
import { lstat, realpath } from 'node:fs/promises'
import { dirname, join, relative, isAbsolute } from 'node:path'
import { readManifest } from '../data/manifest.js'
import { errorMessage } from '../errors.js'
import type { Logger } from '../types.js'

/** What was uploaded. */
export interface ArtifactUpload {
  name: string
  /** The artifact's id (links to it on the run's page), when the service gave one. */
  id: number | null
  files: number
  bytes: number
  retentionDays: number
}

/** The part of @actions/artifact's client the upload uses (tests hand in their own). */
export interface ArtifactUploader {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options?: UploadArtifactOptions
  ): Promise<{ id?: number; size?: number }>
}

export interface ArtifactRequest {
  backupDir: string
  stage: string
  /** Manifests this run wrote (RunResult.backupManifests). */
  manifests: string[]
  /** Import templates this run wrote. */
  importTemplates: string[]
  retentionDays: number
  logger: Logger
  /** Milliseconds since the epoch, for the artifact's name. */
  now: number
  env?: NodeJS.ProcessEnv
  uploader?: ArtifactUploader
}

/** An artifact's name: `dynamodb-orphan-guard-<stage>-<epoch ms>`. */
export function artifactName(stage: string, epochMs: number): string {
  return `dynamodb-orphan-guard-${stage}-${epochMs}`
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * The files this run wrote, checked: each manifest with the data files it lists, and each import
 * template; every one a regular file (not a link) whose real path lies inside backup-dir.
 */
export async function runFiles(
  backupDir: string,
  manifests: string[],
  templates: string[]
): Promise<string[]> {
  const root = await realpath(backupDir)
  const files: string[] = []
  for (const manifestPath of manifests) {
    const manifest = await readManifest(manifestPath)
    files.push(manifestPath, ...manifest.dataFiles.map(f => join(dirname(manifestPath), f.path)))
  }
  files.push(...templates)
  const checked: string[] = []
  for (const file of [...new Set(files)]) {
    const stat = await lstat(file)
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`)
    if (!inside(await realpath(file), root)) throw new Error(`${file} is not inside ${backupDir}`)
    checked.push(file)
  }
  return checked
}

/**
 * Uploads the run's own files (runFiles) from backup-dir, stored as they are: the data files are
 * gzip already, so the zip does not compress again (compression level 0 stores every entry).
 * Without the artifact service (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL) or when the upload
 * fails, says so and goes on: the files stay on the runner's disk for the restore step of the
 * same job. Returns what was uploaded, or null.
 */
export async function uploadRunArtifact(request: ArtifactRequest): Promise<ArtifactUpload | null> {
  const { backupDir, logger, retentionDays } = request
  const env = request.env ?? process.env
  if (request.manifests.length + request.importTemplates.length === 0) return null
  if (!request.uploader && (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL)) {
    logger.warning(
      `upload-artifact is true, but this runner has no artifact service: the files stay in ${backupDir} only (the restore step must run in the same job).`
    )
    return null
  }
  const name = artifactName(request.stage, request.now)
  try {
    const files = await runFiles(backupDir, request.manifests, request.importTemplates)
    let bytes = 0
    for (const file of files) bytes += (await lstat(file)).size
    const uploader = request.uploader ?? new DefaultArtifactClient()
    const { id } = await uploader.uploadArtifact(name, files, backupDir, {
      retentionDays,
      compressionLevel: 0
    })
    logger.info(
      `Uploaded ${files.length} file(s) of this run (${bytes} bytes, stored as they are) as artifact ${name}, kept ${retentionDays} day(s); everyone who can read the repository can download it.`
    )
    return { name, id: id ?? null, files: files.length, bytes, retentionDays }
  } catch (err) {
    logger.warning(
      `Could not upload the files of this run as a workflow artifact (${errorMessage(err)}); they stay in ${backupDir}.`
    )
    return null
  }
}

import { existsSync } from 'node:fs'
import { InputError } from '../errors.js'
import { assertBackupBucket } from '../execute/backup-bucket.js'
import { discoverTables, readDeployment } from '../discover/discover.js'
import { readCallerIdentity } from '../inspect/identity.js'
import { uploadRunArtifact, type ArtifactUpload } from '../execute/artifact.js'
import { executePlan, type ExecuteDeps } from '../execute/execute-plan.js'
import { isLegacyFile, restoreBackups } from '../execute/restore-backups.js'
import { checkTables } from './check-tables.js'
import { checkWarnings } from '../plan/warnings.js'
import type { CallerIdentity, ImportArtifact, Inputs, RunResult, UnresolvedTable } from '../types.js'

export interface PhaseResult {
  result: RunResult
  unresolved: UnresolvedTable[]
  notes: string[]
  /** What makes the check uncertain (plan/warnings.ts): already logged as annotations, shown first in the report. */
  warnings: string[]
  importArtifacts: ImportArtifact[]
  /** The workflow artifact of this run's files (upload-artifact), when one was uploaded. */
  artifact?: ArtifactUpload | null
  /** The credentials' identity, when the phase read it. */
  identity?: CallerIdentity | null
}

async function preDeployPhase(inputs: Inputs, deps: ExecuteDeps): Promise<PhaseResult> {
  const check = await checkTables(inputs, deps.clients, deps.logger)
  const unresolved = check.plan.unresolved ?? []
  const { result, importArtifacts } = await executePlan(check, inputs, deps)
  let artifact: ArtifactUpload | null = null
  if (inputs.uploadArtifact) {
    artifact = await uploadRunArtifact({
      backupDir: inputs.backupDir,
      stage: inputs.stage,
      manifests: result.backupManifests,
      importTemplates: importArtifacts.map(a => a.templatePath),
      retentionDays: inputs.artifactRetentionDays,
      logger: deps.logger,
      now: deps.clock.now()
    })
  } else if (result.backupManifests.length > 0) {
    deps.logger.info(
      `upload-artifact is off: the exports stay in ${inputs.backupDir} on this runner only, for the restore step of this job${inputs.awsBackup ? ' (and in the on-demand backups)' : ''}.`
    )
  }
  return {
    result,
    unresolved,
    notes: [...check.discovery.notes, ...check.plan.notes],
    warnings: checkWarnings(check),
    importArtifacts,
    artifact,
    identity: check.identity
  }
}

/**
 * The tables of this stage the restore phase may load: the `tables` input, else the template's
 * (names resolved as the pre-deploy step resolved them: with the credentials' account).
 */
async function stageTables(inputs: Inputs, deps: ExecuteDeps): Promise<string[] | null> {
  if (inputs.tables.length > 0) return inputs.tables
  if (!existsSync(inputs.template)) return null
  const deployment = readDeployment({
    template: inputs.template,
    stage: inputs.stage,
    stackName: inputs.stackName,
    tables: []
  })
  const { identity, problem } = await readCallerIdentity(
    deps.clients.forRegion(deps.clients.defaultRegion).sts
  )
  const discovery = discoverTables(deployment, {
    template: inputs.template,
    stage: inputs.stage,
    tables: [],
    region: inputs.awsRegion,
    ...(identity ? { account: identity.account } : {}),
    ...(problem ? { accountUnknown: problem } : {})
  })
  return discovery.tables.flatMap(t => (t.tableName === null ? [] : [t.tableName]))
}

async function restorePhase(inputs: Inputs, deps: ExecuteDeps): Promise<PhaseResult> {
  const tables = isLegacyFile(inputs.backupDir) ? inputs.tables : await stageTables(inputs, deps)
  if (tables === null) {
    // Restoring "whatever is in the folder" could load another stage's or a stale backup.
    throw new InputError(
      'template',
      `phase restore needs to know this stage's tables: no template at ${inputs.template} and no tables input. Set template (the same as in the pre-deploy step) or tables.`
    )
  }
  const result = await restoreBackups(deps.clients, {
    backupDir: inputs.backupDir,
    tables,
    dryRun: inputs.dryRun || inputs.strategy === 'report',
    logger: deps.logger,
    clock: deps.clock,
    signal: deps.signal
  })
  return { result, unresolved: [], notes: [], warnings: [], importArtifacts: [] }
}

/** Runs the phase the inputs ask for. */
export async function runPhase(inputs: Inputs, deps: ExecuteDeps): Promise<PhaseResult> {
  // The bucket first: a copy that cannot be written must not be found out after a table is gone.
  if (inputs.s3Bucket !== null) {
    const home = deps.clients.forRegion(deps.clients.defaultRegion)
    await assertBackupBucket(home.s3, inputs.s3Bucket, inputs.awsRegion)
  }
  return inputs.phase === 'restore' ? restorePhase(inputs, deps) : preDeployPhase(inputs, deps)
}

import type { AwsClients } from './aws/clients.js'
import { checkTables } from './pipeline.js'
import { outcomeWithoutExecution } from './outcome.js'
import type { ImportArtifact, UnresolvedTable } from './report/markdown.js'
import type { Inputs, Logger, RunResult } from './types.js'

export interface PhaseResult {
  result: RunResult
  unresolved: UnresolvedTable[]
  notes: string[]
  importArtifacts: ImportArtifact[]
}

async function preDeploy(inputs: Inputs, clients: AwsClients, logger: Logger): Promise<PhaseResult> {
  const { discovery, plan } = await checkTables(inputs, clients, logger)
  const unresolved = discovery.tables
    .filter(t => t.tableName === null)
    .map(t => ({ logicalId: t.logicalId ?? '?', stack: t.stack ?? '?', reason: t.unresolvedReason ?? '' }))
  const result: RunResult = {
    outcome: outcomeWithoutExecution(plan),
    plan,
    steps: [],
    backupManifests: [],
    backupArns: [],
    restoredItems: 0
  }
  return { result, unresolved, notes: [...discovery.notes, ...plan.notes], importArtifacts: [] }
}

/** Runs the phase the inputs ask for. */
export async function runPhase(inputs: Inputs, clients: AwsClients, logger: Logger): Promise<PhaseResult> {
  return preDeploy(inputs, clients, logger)
}

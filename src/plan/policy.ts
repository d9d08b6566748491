/** Which runs are protected (stage or account), and the policy the plan applies. Pure. */
import { minimatch } from 'minimatch'
import type { CallerIdentity, CopyMode, Inputs, Policy, S3Location } from '../types.js'

/**
 * Whether `stage` matches one of the `protected-stages` glob patterns (whole-name, case-insensitive:
 * `prod-*` matches `prod-eu` and `PROD-EU`; `prod` does not match `production-ish`). Patterns are
 * taken literally: a leading `!` or `#` has no special meaning, so a pattern can only add protection.
 */
export function isProtectedStage(stage: string, patterns: string[]): boolean {
  return patterns
    .map(p => p.trim())
    .filter(p => p !== '')
    .some(pattern => minimatch(stage, pattern, { nocase: true, dot: true, nonegate: true, nocomment: true }))
}

/**
 * Why the run is protected, or null when it is not: the stage matches `protected-stages`, or the
 * credentials' account is one of `protected-accounts`. With `protected-accounts` set, an account
 * that could not be read counts as protected (unknown is the unsafe case).
 */
export function protection(
  inputs: Pick<Inputs, 'stage' | 'protectedStages'> & { protectedAccounts?: string[] },
  identity: CallerIdentity | null | undefined
): string | null {
  if (isProtectedStage(inputs.stage, inputs.protectedStages))
    return `stage ${inputs.stage} is protected (protected-stages)`
  const accounts = inputs.protectedAccounts ?? []
  if (accounts.length === 0) return null
  if (!identity)
    return "the credentials' account could not be read (STS GetCallerIdentity), and with protected-accounts set an unknown account counts as protected"
  if (accounts.includes(identity.account))
    return `account ${identity.account} is protected (protected-accounts)`
  return null
}

export function makePolicy(
  inputs: Pick<Inputs, 'stage' | 'strategy' | 'protectedStages' | 'allowDataLoss'> & {
    protectedAccounts?: string[]
    awsBackup?: boolean
    s3Bucket?: S3Location | null
    awsRegion?: string
    copyMode?: CopyMode
    serverSideThresholdBytes?: number
  },
  identity?: CallerIdentity | null
): Policy {
  const because = protection(inputs, identity)
  return {
    stage: inputs.stage,
    strategy: inputs.strategy,
    protectedStage: because !== null,
    ...(because !== null ? { protectedBecause: because } : {}),
    allowDataLoss: inputs.allowDataLoss,
    ...(inputs.awsBackup === undefined ? {} : { awsBackup: inputs.awsBackup }),
    ...(inputs.s3Bucket === undefined ? {} : { s3Bucket: inputs.s3Bucket !== null }),
    ...(inputs.s3Bucket && inputs.awsRegion
      ? {
          templateBucket: {
            name: [inputs.s3Bucket.bucket, inputs.s3Bucket.prefix].filter(p => p !== '').join('/'),
            // The s3-bucket is checked to be in the action's region before anything else (backup-bucket.ts).
            region: inputs.awsRegion
          }
        }
      : {}),
    ...(inputs.copyMode === undefined ? {} : { copyMode: inputs.copyMode }),
    ...(inputs.serverSideThresholdBytes === undefined
      ? {}
      : { serverSideThresholdBytes: inputs.serverSideThresholdBytes })
  }
}

/** The sentence that says why nothing may be deleted here (for a protected policy). */
export function protectedReason(policy: Policy): string {
  return policy.protectedBecause ?? `stage ${policy.stage} is protected (protected-stages)`
}

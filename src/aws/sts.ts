/**
 * Whose credentials these are. GetCallerIdentity needs no IAM permission, so it works whatever
 * the role may do; an account the action is told to protect, the account in a manifest and the
 * account a stack is pinned to are all compared against this answer.
 */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts'
import type { CallerIdentity } from '../types.js'
import type { Sender } from './clients.js'

/** The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`, …). */
export function partitionOfArn(arn: string): string {
  const partition = arn.split(':')[1]
  if (!arn.startsWith('arn:') || !partition) throw new Error(`'${arn}' is not an ARN`)
  return partition
}

export async function getCallerIdentity(sts: Sender<STSClient>): Promise<CallerIdentity> {
  const out = await sts.send(new GetCallerIdentityCommand({}))
  if (!out.Account || !out.Arn || !out.UserId)
    throw new Error('GetCallerIdentity returned no account, ARN or UserId')
  return { account: out.Account, arn: out.Arn, partition: partitionOfArn(out.Arn), userId: out.UserId }
}

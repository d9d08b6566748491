import type { STSClient } from '@aws-sdk/client-sts'
import type { Sender } from '../aws/clients.js'
import { getCallerIdentity } from '../aws/sts.js'
import { errorMessage } from '../errors.js'
import type { CallerIdentity } from '../types.js'

/**
 * The credentials' account and ARN, read once per run. A failure is not fatal here: the check
 * goes on, and every rule that depends on the account treats an unknown account as the unsafe
 * case (protected, not checkable), saying why.
 */
export async function readCallerIdentity(
  sts: Sender<STSClient>
): Promise<{ identity: CallerIdentity | null; problem?: string }> {
  try {
    return { identity: await getCallerIdentity(sts) }
  } catch (err) {
    return {
      identity: null,
      problem: `The credentials' account could not be read (GetCallerIdentity: ${errorMessage(err)})`
    }
  }
}

import type { S3Client } from '@aws-sdk/client-s3'
import type { Sender } from '../aws/clients.js'
import { headBucket } from '../aws/s3.js'
import { InputError } from '../errors.js'
import type { S3Location } from '../types.js'

/**
 * The `s3-bucket` input checked against AWS, as the first AWS call of a run that has it (before
 * any other call, so before anything could be changed): the bucket exists, these credentials can
 * read it (HeadBucket needs s3:ListBucket), and it is in the action's `aws-region`. Anything else
 * is an InputError naming `s3-bucket`: the fix is in the input (or the bucket), and no table may be
 * deleted on the strength of a copy that could not be written.
 *
 * Why `aws-region`: the tables of the stage are mostly there, and a copy in their region neither
 * moves their data across regions (transfer cost, data residency) nor makes the restore read it
 * from afar. There is one bucket: the copies of a table of a stack pinned to ANOTHER region go to
 * this bucket too, so they do cross regions (the README says so under Stacks in several regions).
 */
export async function assertBackupBucket(
  s3: Sender<S3Client>,
  location: S3Location,
  region: string
): Promise<void> {
  const head = await headBucket(s3, location.bucket)
  const name = `bucket ${location.bucket}`
  if (!head.exists) {
    throw new InputError(
      's3-bucket',
      `${name} does not exist (${head.problem}). Create it in ${region}, or fix the name.`
    )
  }
  if (head.region !== null && head.region !== region) {
    throw new InputError(
      's3-bucket',
      `${name} is in ${head.region}, but aws-region is ${region}. Use a bucket in ${region}, so that the copies of the tables there stay in their region.`
    )
  }
  if (!head.readable) {
    throw new InputError(
      's3-bucket',
      `${name} cannot be read with these credentials (${head.problem}). Grant s3:ListBucket on it (and s3:PutObject, s3:GetObject on its objects), or fix the name.`
    )
  }
  // A readable bucket without the region header (an S3-compatible store that does not say) is
  // taken as the endpoint's own region.
}

import type { S3Client } from '@aws-sdk/client-s3'
import type { Sender } from '../aws/clients.js'
import { headBucket } from '../aws/s3.js'
import { InputError } from '../errors.js'
import type { S3Location } from '../types.js'

/**
 * The `s3-bucket` input checked against AWS, as the first AWS call of a run that has it (before
 * any other call, so before anything could be changed): the bucket exists, these credentials can
 * read it (HeadBucket needs s3:ListBucket), and it is in the run's region. Anything else is an
 * InputError naming `s3-bucket`: the fix is in the input (or the bucket), and no table may be
 * deleted on the strength of a copy that could not be written.
 *
 * Why the same region: the copy is the data of a table of that region, a bucket elsewhere would
 * move it across regions (cost, data residency), and DynamoDB ImportTable (issue 13) and the
 * restore read it from the table's region.
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
      `${name} is in ${head.region}, but the tables are in ${region}. Use a bucket in ${region}: the copies of a table stay in its region.`
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

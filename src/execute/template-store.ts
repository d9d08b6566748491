/**
 * Where an import template goes. With `s3-bucket` set (and in the stack's region), always to it,
 * whatever its size, passed as TemplateURL: the template is a file kept with the backups (issue 11:
 * the import template is a file, in S3 when s3-bucket is set), and CloudFormation reads exactly the
 * object that was stored and checked. Otherwise inline (TemplateBody) up to 51,200 bytes, and above
 * that an S3 object in the CDK bootstrap assets bucket the cloud assembly names for the stack
 * (where `cdk deploy` itself puts large templates). TemplateURL takes up to 1,000,000 bytes, from a
 * bucket in the stack's region (CloudFormation reads other regions in some partitions only): a
 * stack in another region than `s3-bucket` gets the template inline or through its bootstrap bucket.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { Sender } from '../aws/clients.js'
import { TEMPLATE_BODY_LIMIT_BYTES, TEMPLATE_URL_LIMIT_BYTES } from '../aws/cloudformation-import.js'
import { putObject, s3Uri, verifyObject, type StoredObject } from '../aws/s3.js'
import type { S3Location } from '../types.js'

/** The buckets an import of one stack may put its template in. */
export interface TemplateStores {
  /** The `s3-bucket` input (null when unset) and the region it is in (the action's `aws-region`). */
  s3Bucket: S3Location | null
  s3BucketRegion: string
  /** The stack's CDK bootstrap assets bucket, placeholders filled in (null when the assembly names none). */
  assetsBucket: string | null
  stage: string
}

/** Where the template of one import goes. */
export type TemplatePlace =
  | { kind: 'inline'; bytes: number }
  | {
      kind: 's3'
      bytes: number
      bucket: string
      key: string
      /** The https:// URL CreateChangeSet gets as TemplateURL. */
      url: string
      /** Which input or file named the bucket, for the report. */
      via: 's3-bucket' | 'CDK bootstrap assets bucket'
    }
  | { kind: 'refused'; bytes: number; reason: string }

/** Folder (under the `s3-bucket` prefix) of the import templates; not a stage folder of the backups. */
export const S3_BUCKET_FOLDER = 'cloudformation-import-templates'
/** Folder in the CDK bootstrap bucket (CDK's own assets are content hashes at its root). */
export const BOOTSTRAP_FOLDER = 'dynamodb-orphan-guard/import-templates'

/**
 * The regional https URL of an object, as CloudFormation reads TemplateURL:
 * `https://BUCKET.s3.REGION.amazonaws.com/KEY` (virtual-hosted; `.amazonaws.com.cn` in the China
 * regions), path-style `https://s3.REGION.amazonaws.com/BUCKET/KEY` for a bucket name with dots
 * (a dotted name does not match the wildcard TLS certificate of the virtual host).
 */
export function templateUrl(bucket: string, key: string, region: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  const path = key.split('/').map(encodeURIComponent).join('/')
  return bucket.includes('.')
    ? `https://s3.${region}.${domain}/${bucket}/${path}`
    : `https://${bucket}.s3.${region}.${domain}/${path}`
}

function join(...parts: string[]): string {
  return parts.filter(p => p !== '').join('/')
}

/**
 * Where the `bytes`-byte template of an import into `stackName` (in `region`) goes; pure. Refused
 * when it is too large for any place, or needs S3 and no bucket in the stack's region is known.
 */
export function placeTemplate(
  bytes: number,
  target: { stackName: string; region: string; changeSetName: string },
  stores: TemplateStores
): TemplatePlace {
  if (bytes > TEMPLATE_URL_LIMIT_BYTES) {
    return {
      kind: 'refused',
      bytes,
      reason: `the import template is ${bytes} bytes; CloudFormation takes at most ${TEMPLATE_URL_LIMIT_BYTES} even through TemplateURL. Split the stack, or import by hand`
    }
  }
  const file = `${target.stackName}/${target.changeSetName}.json`
  const { s3Bucket } = stores
  if (s3Bucket !== null && stores.s3BucketRegion === target.region) {
    const key = join(s3Bucket.prefix, S3_BUCKET_FOLDER, stores.stage, file)
    return {
      kind: 's3',
      bytes,
      bucket: s3Bucket.bucket,
      key,
      url: templateUrl(s3Bucket.bucket, key, target.region),
      via: 's3-bucket'
    }
  }
  if (bytes <= TEMPLATE_BODY_LIMIT_BYTES) return { kind: 'inline', bytes }
  if (stores.assetsBucket !== null) {
    const key = join(BOOTSTRAP_FOLDER, stores.stage, file)
    return {
      kind: 's3',
      bytes,
      bucket: stores.assetsBucket,
      key,
      url: templateUrl(stores.assetsBucket, key, target.region),
      via: 'CDK bootstrap assets bucket'
    }
  }
  const elsewhere =
    s3Bucket !== null
      ? ` (s3-bucket ${s3Bucket.bucket} is in ${stores.s3BucketRegion}, and CloudFormation reads the template of a stack in ${target.region} from a bucket in ${target.region})`
      : ''
  return {
    kind: 'refused',
    bytes,
    reason: `the import template is ${bytes} bytes, more than the ${TEMPLATE_BODY_LIMIT_BYTES} a TemplateBody may hold, and no S3 bucket in ${target.region} is known to pass it as TemplateURL${elsewhere}. Set the s3-bucket input to a bucket in ${target.region}, or synthesize with the CDK default synthesizer, whose cloud assembly names the bootstrap assets bucket of each stack`
  }
}

/**
 * Uploads the import template to its place and checks what S3 holds (its checksum, or the bytes
 * read back) before CloudFormation is given the URL. @throws when the upload or the check fails.
 */
export async function uploadTemplate(
  s3: Sender<S3Client>,
  place: Extract<TemplatePlace, { kind: 's3' }>,
  body: string
): Promise<StoredObject> {
  const stored = await putObject(s3, {
    bucket: place.bucket,
    key: place.key,
    body: Buffer.from(body, 'utf8'),
    contentType: 'application/json'
  })
  const check = await verifyObject(s3, stored)
  if (!check.ok) throw new Error(`the uploaded template does not match: ${check.problem}`)
  return stored
}

/** `s3://bucket/key` of a place, for messages. */
export function placeUri(place: Extract<TemplatePlace, { kind: 's3' }>): string {
  return s3Uri(place.bucket, place.key)
}

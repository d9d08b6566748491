import { describe, expect, it } from '@jest/globals'
import { TEMPLATE_BODY_LIMIT_BYTES, TEMPLATE_URL_LIMIT_BYTES } from '../../src/aws/cloudformation-import.js'
import {
  placeTemplate,
  templateUrl,
  uploadTemplate,
  type TemplateStores
} from '../../src/execute/template-store.js'

const target = {
  stackName: 'pr-7-large',
  region: 'us-east-1',
  changeSetName: 'orphan-guard-import-20261126T081332123Z'
}
const stores = (over: Partial<TemplateStores> = {}): TemplateStores => ({
  s3Bucket: null,
  s3BucketRegion: 'us-east-1',
  assetsBucket: null,
  stage: 'pr-7',
  ...over
})
const OVER = TEMPLATE_BODY_LIMIT_BYTES + 1

describe('placeTemplate: where an import template goes', () => {
  it('up to 51,200 bytes: inline, whatever buckets there are', () => {
    expect(placeTemplate(TEMPLATE_BODY_LIMIT_BYTES, target, stores())).toEqual({
      kind: 'inline',
      bytes: TEMPLATE_BODY_LIMIT_BYTES
    })
  })

  it('over it: to s3-bucket (under its prefix) when set, as a regional TemplateURL', () => {
    const place = placeTemplate(OVER, target, stores({ s3Bucket: { bucket: 'pr-backups', prefix: 'guard' } }))
    expect(place).toEqual({
      kind: 's3',
      bytes: OVER,
      bucket: 'pr-backups',
      key: 'guard/cloudformation-import-templates/pr-7/pr-7-large/orphan-guard-import-20261126T081332123Z.json',
      url: 'https://pr-backups.s3.us-east-1.amazonaws.com/guard/cloudformation-import-templates/pr-7/pr-7-large/orphan-guard-import-20261126T081332123Z.json',
      via: 's3-bucket'
    })
  })

  it('s3-bucket wins over the CDK bootstrap bucket', () => {
    const place = placeTemplate(
      OVER,
      target,
      stores({
        s3Bucket: { bucket: 'pr-backups', prefix: '' },
        assetsBucket: 'cdk-hnb659fds-assets-123456789012-us-east-1'
      })
    )
    expect(place).toMatchObject({ kind: 's3', bucket: 'pr-backups', via: 's3-bucket' })
  })

  it('without s3-bucket: to the CDK bootstrap assets bucket the assembly names', () => {
    const place = placeTemplate(
      OVER,
      target,
      stores({ assetsBucket: 'cdk-hnb659fds-assets-123456789012-us-east-1' })
    )
    expect(place).toEqual({
      kind: 's3',
      bytes: OVER,
      bucket: 'cdk-hnb659fds-assets-123456789012-us-east-1',
      key: 'dynamodb-orphan-guard/import-templates/pr-7/pr-7-large/orphan-guard-import-20261126T081332123Z.json',
      url: 'https://cdk-hnb659fds-assets-123456789012-us-east-1.s3.us-east-1.amazonaws.com/dynamodb-orphan-guard/import-templates/pr-7/pr-7-large/orphan-guard-import-20261126T081332123Z.json',
      via: 'CDK bootstrap assets bucket'
    })
  })

  it("an s3-bucket in another region than the stack's is not used; the stack's bootstrap bucket is", () => {
    const west = { ...target, region: 'us-west-2' }
    expect(
      placeTemplate(
        OVER,
        west,
        stores({ s3Bucket: { bucket: 'b', prefix: '' }, assetsBucket: 'cdk-x-assets-1-us-west-2' })
      )
    ).toMatchObject({
      bucket: 'cdk-x-assets-1-us-west-2',
      url: expect.stringContaining('.s3.us-west-2.amazonaws.com/')
    })
    expect(placeTemplate(OVER, west, stores({ s3Bucket: { bucket: 'b', prefix: '' } }))).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('s3-bucket b is in us-east-1')
    })
  })

  it('with neither: refused, naming s3-bucket', () => {
    expect(placeTemplate(OVER, target, stores())).toEqual({
      kind: 'refused',
      bytes: OVER,
      reason: expect.stringMatching(
        /^the import template is 51201 bytes, more than the 51200 a TemplateBody may hold, and no S3 bucket in us-east-1 is known.*Set the s3-bucket input/
      )
    })
  })

  it('over 1,000,000 bytes: refused, whatever buckets there are', () => {
    expect(
      placeTemplate(TEMPLATE_URL_LIMIT_BYTES + 1, target, stores({ s3Bucket: { bucket: 'b', prefix: '' } }))
    ).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('at most 1000000 even through TemplateURL')
    })
  })
})

describe('templateUrl', () => {
  it.each([
    [
      'a plain bucket: virtual-hosted, regional',
      'b',
      'k/x.json',
      'eu-west-1',
      'https://b.s3.eu-west-1.amazonaws.com/k/x.json'
    ],
    [
      'a dotted bucket: path-style',
      'my.bucket',
      'k.json',
      'us-east-1',
      'https://s3.us-east-1.amazonaws.com/my.bucket/k.json'
    ],
    [
      'China: amazonaws.com.cn',
      'b',
      'k.json',
      'cn-north-1',
      'https://b.s3.cn-north-1.amazonaws.com.cn/k.json'
    ],
    [
      "a key's special characters encoded per segment",
      'b',
      "a b/c'(d).json",
      'us-east-1',
      "https://b.s3.us-east-1.amazonaws.com/a%20b/c'(d).json"
    ]
  ])('%s', (_case, bucket, key, region, url) => {
    expect(templateUrl(bucket, key, region)).toBe(url)
  })
})

describe('uploadTemplate', () => {
  const place = {
    kind: 's3' as const,
    bytes: 3,
    bucket: 'b',
    key: 'k.json',
    url: 'https://b.s3.us-east-1.amazonaws.com/k.json',
    via: 's3-bucket' as const
  }

  it('refuses to hand CloudFormation an object that does not hold what was sent', async () => {
    // S3 took the PutObject, but the object it then describes is not the template (another writer, a proxy…).
    const s3 = {
      send: async (command: { constructor: { name: string } }) =>
        command.constructor.name === 'HeadObjectCommand'
          ? { ContentLength: 3, ChecksumSHA256: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }
          : {}
    }
    await expect(uploadTemplate(s3 as never, place, '{ }')).rejects.toThrow(
      /the uploaded template does not match: s3:\/\/b\/k.json: S3 reports checksum/
    )
  })
})

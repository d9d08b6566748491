import { compareTable } from '../../src/compare/compare.js'
import { templateTableConfig } from '../../src/compare/template-config.js'
import type { TableConfig } from '../../src/types.js'
import { tableConfig, tableSpec } from '../../test-support/builders.js'

const ctx = { stackName: 'pr-5-database', stage: 'pr-5', region: 'eu-west-1' }
const base = tableSpec().properties as Record<string, unknown>
const fromProps = (
  extra: Record<string, unknown>,
  resourceType: 'AWS::DynamoDB::Table' | 'AWS::DynamoDB::GlobalTable' = 'AWS::DynamoDB::Table'
) => templateTableConfig(tableSpec({ properties: { ...base, ...extra }, resourceType }), ctx)

interface Row {
  rule: string
  props: Record<string, unknown>
  config: Partial<TableConfig>
  unknown?: string[]
}

const rows: Row[] = [
  {
    rule: 'defaults: no BillingMode → PROVISIONED, STANDARD class, AWS owned SSE, no PITR/TTL/stream/protection/tags',
    props: {
      BillingMode: undefined,
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: '5' }
    },
    config: {
      billingMode: 'PROVISIONED',
      throughput: { read: 5, write: 5 },
      tableClass: 'STANDARD',
      sse: { enabled: false },
      pitr: false,
      ttl: { enabled: false },
      stream: { enabled: false },
      deletionProtection: false,
      tags: {},
      gsis: [],
      lsis: []
    }
  },
  {
    rule: 'keys HASH first, attribute types only for key attributes',
    props: {
      KeySchema: [
        { AttributeName: 'sk', KeyType: 'RANGE' },
        { AttributeName: 'pk', KeyType: 'HASH' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'unused', AttributeType: 'S' }
      ]
    },
    config: {
      keys: [
        { name: 'pk', type: 'HASH' },
        { name: 'sk', type: 'RANGE' }
      ],
      attributeTypes: { pk: 'S', sk: 'N' }
    }
  },
  {
    rule: 'SSEEnabled false → AWS owned key even with SSEType',
    props: { SSESpecification: { SSEEnabled: false, SSEType: 'KMS' } },
    config: { sse: { enabled: false } }
  },
  {
    rule: 'SSEEnabled true → KMS by default, key id kept',
    props: { SSESpecification: { SSEEnabled: 'true', KMSMasterKeyId: 'aaaa' } },
    config: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'aaaa' } }
  },
  {
    rule: 'SSE key from Fn::GetAtt → key unknown, the rest compared',
    props: { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
    config: { sse: { enabled: true, type: 'KMS' } },
    unknown: ['SSESpecification.KMSMasterKeyId']
  },
  {
    rule: 'PITR, TTL, stream, deletion protection, table class from their properties',
    props: {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      DeletionProtectionEnabled: true,
      TableClass: 'STANDARD_INFREQUENT_ACCESS'
    },
    config: {
      pitr: true,
      ttl: { enabled: true, attributeName: 'expiresAt' },
      stream: { enabled: true, viewType: 'NEW_AND_OLD_IMAGES' },
      deletionProtection: true,
      tableClass: 'STANDARD_INFREQUENT_ACCESS'
    }
  },
  {
    rule: 'tags: list → record, aws:* skipped, Fn::Sub of AWS::StackName resolved',
    props: {
      Tags: [
        { Key: 'team', Value: 'data' },
        { Key: 'stack', Value: { 'Fn::Sub': '${AWS::StackName}-x' } },
        { Key: 'aws:cdk:path', Value: 'ignored' }
      ]
    },
    config: { tags: { team: 'data', stack: 'pr-5-database-x' } }
  },
  {
    rule: 'tags: a value from a parameter is unknown for that tag only',
    props: {
      Tags: [
        { Key: 'team', Value: 'data' },
        { Key: 'owner', Value: { Ref: 'Owner' } }
      ]
    },
    config: { tags: { team: 'data' } },
    unknown: ['Tags.owner']
  },
  {
    rule: 'unknown: BillingMode from Fn::If is never guessed',
    props: { BillingMode: { 'Fn::If': ['IsProd', 'PROVISIONED', 'PAY_PER_REQUEST'] } },
    config: { billingMode: undefined },
    unknown: ['BillingMode']
  },
  {
    rule: 'unknown: a KeySchema given by a parameter',
    props: { KeySchema: { Ref: 'Keys' } },
    config: { keys: undefined },
    unknown: ['KeySchema']
  },
  {
    rule: 'GSIs: sorted by name, throughput only on provisioned tables, key types included',
    props: {
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      AttributeDefinitions: [
        ...(base.AttributeDefinitions as object[]),
        { AttributeName: 'email', AttributeType: 'S' }
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'zIndex',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['b', 'a'] },
          ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 }
        },
        {
          IndexName: 'aIndex',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }
        }
      ]
    },
    config: {
      attributeTypes: { pk: 'S', sk: 'S', email: 'S' },
      gsis: [
        {
          name: 'aIndex',
          keys: [{ name: 'email', type: 'HASH' }],
          projection: { type: 'ALL' },
          throughput: { read: 1, write: 1 }
        },
        {
          name: 'zIndex',
          keys: [{ name: 'email', type: 'HASH' }],
          projection: { type: 'INCLUDE', nonKeyAttributes: ['a', 'b'] },
          throughput: { read: 2, write: 3 }
        }
      ]
    }
  },
  {
    rule: 'GSIs: an index with an unresolvable part is listed by name, the others kept',
    props: {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'ok',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' }
        },
        {
          IndexName: 'opaque',
          KeySchema: [{ AttributeName: { Ref: 'Attr' }, KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' }
        }
      ]
    },
    config: { gsis: [{ name: 'ok', keys: [{ name: 'pk', type: 'HASH' }], projection: { type: 'ALL' } }] },
    unknown: ['GlobalSecondaryIndexes.opaque']
  },
  {
    rule: 'GSIs: an unresolvable index name makes the whole list unknown',
    props: {
      GlobalSecondaryIndexes: [
        {
          IndexName: { Ref: 'Name' },
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' }
        }
      ]
    },
    config: { gsis: undefined },
    unknown: ['GlobalSecondaryIndexes']
  },
  {
    rule: 'table name: the spec’s resolved name wins',
    props: { TableName: { Ref: 'Name' } },
    config: { tableName: 'pr-5-main-table' }
  }
]

describe('templateTableConfig', () => {
  it.each(rows)('$rule', ({ props, config, unknown }) => {
    const result = fromProps(props)
    for (const [field, value] of Object.entries(config)) {
      expect([field, result.config[field as keyof TableConfig]]).toEqual([field, value])
    }
    expect(result.unknown).toEqual(unknown ?? [])
  })

  it('tables-only mode (no template properties) gives nothing to compare', () => {
    expect(templateTableConfig(tableSpec({ properties: null }), ctx)).toEqual({ config: {}, unknown: [] })
  })

  it('an unresolved table name is unknown', () => {
    const result = templateTableConfig(
      tableSpec({ tableName: null, properties: { ...base, TableName: { Ref: 'Name' } } }),
      ctx
    )
    expect(result.config.tableName).toBeUndefined()
    expect(result.unknown).toContain('TableName')
  })

  it('GlobalTable: top-level keys/billing/SSE/TTL/stream, per-replica settings from the deploy region', () => {
    const result = fromProps(
      {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        Replicas: [
          { Region: 'us-east-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } },
          {
            Region: { Ref: 'AWS::Region' },
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
            TableClass: 'STANDARD_INFREQUENT_ACCESS',
            SSESpecification: { KMSMasterKeyId: 'alias/app' },
            Tags: [{ Key: 'team', Value: 'data' }]
          }
        ]
      },
      'AWS::DynamoDB::GlobalTable'
    )
    expect(result.config).toMatchObject({
      billingMode: 'PAY_PER_REQUEST',
      sse: { enabled: true, type: 'KMS', kmsKeyId: 'alias/app' },
      stream: { enabled: true, viewType: 'NEW_AND_OLD_IMAGES' },
      pitr: true,
      deletionProtection: true,
      tableClass: 'STANDARD_INFREQUENT_ACCESS',
      tags: { team: 'data' }
    })
    expect(result.unknown).toEqual([])
  })

  it('GlobalTable: without a replica for the region the first replica is used', () => {
    const result = templateTableConfig(
      tableSpec({
        resourceType: 'AWS::DynamoDB::GlobalTable',
        properties: { ...base, Replicas: [{ Region: 'us-east-1', DeletionProtectionEnabled: true }] }
      }),
      { stackName: 's', stage: 'pr-5' }
    )
    expect(result.config.deletionProtection).toBe(true)
  })

  it('GlobalTable: provisioned capacity is auto-scaled and not compared', () => {
    const result = fromProps(
      { BillingMode: 'PROVISIONED', Replicas: [{ Region: 'eu-west-1' }] },
      'AWS::DynamoDB::GlobalTable'
    )
    expect(result.config.throughput).toBeUndefined()
  })

  it('a template equal to the live table (after defaults) gives no difference', () => {
    const { config, unknown } = fromProps({})
    expect(compareTable(config, tableConfig(), unknown)).toEqual([])
  })
})

import { describe, expect, it } from '@jest/globals'
import { assessImportTable } from '../../src/compare/import-table.js'
import { tableCreationParameters } from '../../src/aws/dynamodb-transfer.js'
import type { TableSpec } from '../../src/types.js'
import { tableSpec } from '../../test-support/builders.js'

const ctx = { stackName: 'pr-5-database', stage: 'pr-5', region: 'us-east-1', accountId: '123456789012' }

function spec(properties: Record<string, unknown>, over: Partial<TableSpec> = {}): TableSpec {
  return tableSpec({
    properties: {
      TableName: 'pr-5-main-table',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'n', AttributeType: 'N' },
        { AttributeName: 'g', AttributeType: 'S' },
        { AttributeName: 'unused', AttributeType: 'S' }
      ],
      BillingMode: 'PAY_PER_REQUEST',
      ...properties
    },
    ...over
  })
}

const GSI = {
  IndexName: 'byG',
  KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
  Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['b', 'a'] }
}

describe('assessImportTable: the template table as ImportTable can create it', () => {
  it("takes the template's name, keys, attribute types of the keys, GSIs, billing mode and SSE", () => {
    const a = assessImportTable(
      spec({
        GlobalSecondaryIndexes: [GSI],
        SSESpecification: { SSEEnabled: true, KMSMasterKeyId: 'alias/app' },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true }
      }),
      ctx
    )
    expect(a).toEqual({
      cannot: [],
      streamEnabled: true,
      spec: {
        tableName: 'pr-5-main-table',
        keys: [
          { name: 'pk', type: 'HASH', attributeType: 'S' },
          { name: 'n', type: 'RANGE', attributeType: 'N' }
        ],
        attributeTypes: { pk: 'S', n: 'N', g: 'S' },
        billingMode: 'PAY_PER_REQUEST',
        gsis: [
          {
            name: 'byG',
            keys: [{ name: 'g', type: 'HASH' }],
            projection: { type: 'INCLUDE', nonKeyAttributes: ['a', 'b'] }
          }
        ],
        sse: { enabled: true, type: 'KMS', kmsKeyId: 'alias/app' }
      }
    })
    // What ImportTable is sent: TTL, the stream, tags and the like are the deploy's to set.
    expect(tableCreationParameters(a?.spec ?? ({} as never))).toEqual({
      TableName: 'pr-5-main-table',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'n', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'g', AttributeType: 'S' },
        { AttributeName: 'n', AttributeType: 'N' },
        { AttributeName: 'pk', AttributeType: 'S' }
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byG',
          KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['a', 'b'] }
        }
      ],
      SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: 'alias/app' }
    })
  })

  it('provisioned: the table and its GSIs keep their throughput; the write capacity is reported', () => {
    const a = assessImportTable(
      spec({
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
        GlobalSecondaryIndexes: [
          { ...GSI, ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 2 } }
        ]
      }),
      ctx
    )
    expect(a?.provisionedWrite).toBe(7)
    expect(tableCreationParameters(a?.spec ?? ({} as never))).toMatchObject({
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
      GlobalSecondaryIndexes: [{ ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 2 } }]
    })
  })

  it.each<[string, Record<string, unknown>, Partial<TableSpec>, RegExp]>([
    [
      'a local secondary index',
      {
        LocalSecondaryIndexes: [
          {
            IndexName: 'byG',
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'g', KeyType: 'RANGE' }
            ],
            Projection: { ProjectionType: 'ALL' }
          }
        ]
      },
      {},
      /local secondary index byG, and ImportTable cannot create a local secondary index/
    ],
    [
      'a key schema only known at deploy time',
      { KeySchema: { Ref: 'Keys' } },
      {},
      /KeySchema is only known at deploy time/
    ],
    [
      'a billing mode only known at deploy time',
      { BillingMode: { Ref: 'Mode' } },
      {},
      /BillingMode is only known at deploy time/
    ],
    [
      'a KMS key only known at deploy time',
      { SSESpecification: { SSEEnabled: true, KMSMasterKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
      {},
      /SSESpecification\.KMSMasterKeyId is only known at deploy time/
    ],
    [
      'a key attribute without a type',
      { AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] },
      {},
      /AttributeDefinitions do not give the type of n/
    ],
    [
      'a PROVISIONED table without throughput',
      { BillingMode: 'PROVISIONED' },
      {},
      /PROVISIONED without a ProvisionedThroughput/
    ],
    [
      'a PROVISIONED table whose GSI has no throughput',
      {
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
        GlobalSecondaryIndexes: [GSI]
      },
      {},
      /global secondary indexes without a ProvisionedThroughput \(byG\)/
    ],
    [
      'a global table with replicas in other regions',
      { Replicas: [{ Region: 'us-east-1' }, { Region: 'us-west-2' }] },
      { resourceType: 'AWS::DynamoDB::GlobalTable', replicaRegions: ['us-east-1', 'us-west-2'] },
      /replicas in us-east-1, us-west-2, and ImportTable creates a single-region table in us-east-1/
    ]
  ])('cannot create a table with %s', (_what, properties, over, reason) => {
    const a = assessImportTable(spec(properties, over), ctx)
    expect(a?.spec).toBeNull()
    expect(a?.cannot.join(' ')).toMatch(reason)
  })

  it('a single-region global table in its own region can be created', () => {
    const a = assessImportTable(
      spec(
        { Replicas: [{ Region: 'us-east-1' }] },
        { resourceType: 'AWS::DynamoDB::GlobalTable', replicaRegions: ['us-east-1'] }
      ),
      ctx
    )
    expect(a?.cannot).toEqual([])
    expect(a?.spec?.tableName).toBe('pr-5-main-table')
  })

  it('no template properties: nothing to assess', () => {
    expect(assessImportTable(tableSpec({ properties: null }), ctx)).toBeUndefined()
  })
})

/** toLiveTable: DescribeTable + side calls → the normalised TableConfig shape (pure, table-driven). */
import { describe, expect, it } from '@jest/globals'
import type { TableDescription } from '@aws-sdk/client-dynamodb'
import { toLiveTable, type LiveExtras } from '../../src/inspect/live-config.js'

const base: TableDescription = {
  TableName: 't',
  TableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/t',
  TableStatus: 'ACTIVE',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
  BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
  ItemCount: 0,
  TableSizeBytes: 0
}
const noExtras: LiveExtras = { ttl: { enabled: false }, pitr: false, tags: {} }

describe('toLiveTable', () => {
  it.each<[string, Partial<TableDescription>, Record<string, unknown>]>([
    [
      'billing mode defaults to PROVISIONED when BillingModeSummary is missing, with throughput',
      {
        BillingModeSummary: undefined,
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 3 }
      },
      { billingMode: 'PROVISIONED', throughput: { read: 5, write: 3 } }
    ],
    [
      'on-demand tables carry no throughput (AWS reports 0/0)',
      {},
      { billingMode: 'PAY_PER_REQUEST', throughput: undefined }
    ],
    [
      'SSE: no SSEDescription is the AWS-owned key',
      { SSEDescription: undefined },
      { sse: { enabled: false } }
    ],
    [
      'SSE: a non-KMS description is the AWS-owned key',
      { SSEDescription: { Status: 'ENABLED', SSEType: 'AES256' } },
      { sse: { enabled: false } }
    ],
    [
      'SSE: KMS is enabled with its key',
      {
        SSEDescription: {
          Status: 'ENABLED',
          SSEType: 'KMS',
          KMSMasterKeyArn: 'arn:aws:kms:us-east-1:1:key/k'
        }
      },
      { sse: { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k' } }
    ],
    ['table class defaults to STANDARD', {}, { tableClass: 'STANDARD' }],
    [
      'table class is read when present',
      { TableClassSummary: { TableClass: 'STANDARD_INFREQUENT_ACCESS' } },
      { tableClass: 'STANDARD_INFREQUENT_ACCESS' }
    ],
    ['deletion protection defaults to false', {}, { deletionProtection: false }],
    ['deletion protection is read', { DeletionProtectionEnabled: true }, { deletionProtection: true }],
    [
      'stream with its view type and ARN',
      { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' }, LatestStreamArn: 'arn:s' },
      { stream: { enabled: true, viewType: 'NEW_IMAGE' }, streamArn: 'arn:s' }
    ],
    ['no stream', {}, { stream: { enabled: false }, streamArn: undefined }],
    [
      'estimates are kept as estimates',
      { ItemCount: 7, TableSizeBytes: 99 },
      { itemCountEstimate: 7, sizeBytesEstimate: 99 }
    ],
    [
      'keys are HASH then RANGE',
      {
        KeySchema: [
          { AttributeName: 'sk', KeyType: 'RANGE' },
          { AttributeName: 'pk', KeyType: 'HASH' }
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' }
        ]
      },
      {
        keys: [
          { name: 'pk', type: 'HASH' },
          { name: 'sk', type: 'RANGE' }
        ],
        attributeTypes: { pk: 'S', sk: 'N' }
      }
    ]
  ])('%s', (_rule, patch, expected) => {
    const live = toLiveTable({ ...base, ...patch }, noExtras)
    for (const [key, value] of Object.entries(expected)) expect(live[key as keyof typeof live]).toEqual(value)
  })

  it('attributeTypes holds only attributes of the table and index key schemas; indexes are sorted by name', () => {
    const live = toLiveTable(
      {
        ...base,
        BillingModeSummary: undefined,
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'gpk', AttributeType: 'N' },
          { AttributeName: 'lsk', AttributeType: 'B' },
          { AttributeName: 'stray', AttributeType: 'S' }
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'zeta',
            KeySchema: [{ AttributeName: 'gpk', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['b', 'a'] },
            ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 4 }
          },
          {
            IndexName: 'alpha',
            KeySchema: [{ AttributeName: 'gpk', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
            ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }
          }
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: 'byL',
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'lsk', KeyType: 'RANGE' }
            ],
            Projection: { ProjectionType: 'ALL' }
          }
        ]
      },
      noExtras
    )

    expect(live.attributeTypes).toEqual({ pk: 'S', gpk: 'N', lsk: 'B' })
    expect(live.gsis).toEqual([
      {
        name: 'alpha',
        keys: [{ name: 'gpk', type: 'HASH' }],
        projection: { type: 'KEYS_ONLY' },
        throughput: { read: 1, write: 1 }
      },
      {
        name: 'zeta',
        keys: [{ name: 'gpk', type: 'HASH' }],
        projection: { type: 'INCLUDE', nonKeyAttributes: ['a', 'b'] },
        throughput: { read: 2, write: 4 }
      }
    ])
    expect(live.lsis).toEqual([
      {
        name: 'byL',
        keys: [
          { name: 'pk', type: 'HASH' },
          { name: 'lsk', type: 'RANGE' }
        ],
        projection: { type: 'ALL' }
      }
    ])
  })

  it('user tags exclude aws:* keys; allTags keeps them', () => {
    const tags = { team: 'orders', 'aws:cloudformation:stack-name': 'pr-5-db' }
    const live = toLiveTable(base, { ...noExtras, tags })

    expect(live.tags).toEqual({ team: 'orders' })
    expect(live.allTags).toEqual(tags)
  })

  it('TTL and PITR that could not be read fall back to off', () => {
    const live = toLiveTable(base, { ttl: null, pitr: null, tags: null })

    expect([live.ttl, live.pitr, live.tags]).toEqual([{ enabled: false }, false, {}])
  })
})

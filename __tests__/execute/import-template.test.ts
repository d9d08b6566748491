import { describe, expect, it } from '@jest/globals'
import {
  ImportRefusal,
  buildImportTemplate,
  canonicalJson,
  liveTableProperties,
  previousParameters,
  requiredCapabilities
} from '../../src/execute/import-template.js'
import type { CfnTemplate, LiveTable } from '../../src/types.js'
import { TEMPLATE_BODY_LIMIT_BYTES } from '../../src/aws/cloudformation-import.js'
import { deployedTemplate, liveAuditTable, liveMainTable } from './import-builders.js'

const main = {
  logicalId: 'MainTable74195DAB',
  live: liveMainTable(),
  deletionPolicy: 'Retain',
  updateReplacePolicy: 'Retain'
}

describe('liveTableProperties: the live table as AWS::DynamoDB::Table properties', () => {
  it('writes the live configuration of a pay-per-request table with a GSI, TTL and PITR', () => {
    expect(liveTableProperties(liveMainTable())).toEqual({
      TableName: 'pr-5-main-table',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'N' }
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' }
          ],
          Projection: { ProjectionType: 'ALL' }
        }
      ],
      SSESpecification: { SSEEnabled: false },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: false,
      TableClass: 'STANDARD',
      Tags: [
        { Key: 'env', Value: 'pr-5' },
        { Key: 'team', Value: 'payments' }
      ]
    })
  })

  it('AttributeDefinitions list exactly the key attributes of the table, its GSIs and LSIs (no other typed attribute)', () => {
    const live = liveMainTable({
      attributeTypes: { pk: 'S', sk: 'S', gsi1pk: 'S', gsi1sk: 'N', lsiSort: 'N', notAKey: 'B' },
      lsis: [
        {
          name: 'lsi1',
          keys: [
            { name: 'pk', type: 'HASH' },
            { name: 'lsiSort', type: 'RANGE' }
          ],
          projection: { type: 'INCLUDE', nonKeyAttributes: ['a', 'b'] }
        }
      ]
    })
    const props = liveTableProperties(live)
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'N' },
      { AttributeName: 'lsiSort', AttributeType: 'N' }
    ])
    expect(props.LocalSecondaryIndexes).toEqual([
      {
        IndexName: 'lsi1',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'lsiSort', KeyType: 'RANGE' }
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['a', 'b'] }
      }
    ])
  })

  it.each([
    [
      'PAY_PER_REQUEST has no ProvisionedThroughput on the table or its GSIs',
      liveMainTable(),
      undefined,
      undefined
    ],
    [
      'PROVISIONED carries ProvisionedThroughput on the table and on every GSI',
      liveMainTable({
        billingMode: 'PROVISIONED',
        throughput: { read: 5, write: 2 },
        gsis: [
          {
            name: 'gsi1',
            keys: [{ name: 'gsi1pk', type: 'HASH' }],
            projection: { type: 'KEYS_ONLY' },
            throughput: { read: 3, write: 1 }
          }
        ]
      }),
      { ReadCapacityUnits: 5, WriteCapacityUnits: 2 },
      { ReadCapacityUnits: 3, WriteCapacityUnits: 1 }
    ]
  ])('%s', (_rule, live: LiveTable, tableThroughput, gsiThroughput) => {
    const props = liveTableProperties(live)
    expect(props.ProvisionedThroughput).toEqual(tableThroughput)
    const gsis = props.GlobalSecondaryIndexes as Record<string, unknown>[]
    expect(gsis[0]?.ProvisionedThroughput).toEqual(gsiThroughput)
    if (!tableThroughput) expect(JSON.stringify(props)).not.toContain('ProvisionedThroughput')
  })

  it.each([
    ['AWS owned key', { enabled: false }, { SSEEnabled: false }],
    [
      'AWS managed KMS key',
      { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/aws-dynamodb' },
      {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/aws-dynamodb'
      }
    ],
    [
      'customer KMS key without a type',
      { enabled: true, kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/cmk' },
      { SSEEnabled: true, KMSMasterKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/cmk' }
    ],
    ['legacy AES256 (not a CloudFormation SSEType)', { enabled: true, type: 'AES256' }, { SSEEnabled: true }]
  ])('the SSE description maps to SSESpecification: %s', (_name, sse, expected) => {
    expect(liveTableProperties(liveMainTable({ sse })).SSESpecification).toEqual(expected)
  })

  it.each([
    [
      'stream enabled → StreamSpecification',
      { stream: { enabled: true, viewType: 'NEW_AND_OLD_IMAGES' } },
      'StreamSpecification',
      { StreamViewType: 'NEW_AND_OLD_IMAGES' }
    ],
    [
      'stream disabled → no StreamSpecification',
      { stream: { enabled: false } },
      'StreamSpecification',
      undefined
    ],
    [
      'TTL disabled → no TimeToLiveSpecification',
      { ttl: { enabled: false } },
      'TimeToLiveSpecification',
      undefined
    ],
    [
      'PITR off → PointInTimeRecoveryEnabled false',
      { pitr: false },
      'PointInTimeRecoverySpecification',
      { PointInTimeRecoveryEnabled: false }
    ],
    [
      'deletion protection on → DeletionProtectionEnabled true',
      { deletionProtection: true },
      'DeletionProtectionEnabled',
      true
    ],
    [
      'infrequent access class → TableClass',
      { tableClass: 'STANDARD_INFREQUENT_ACCESS' },
      'TableClass',
      'STANDARD_INFREQUENT_ACCESS'
    ],
    ['no user tags → no Tags', { tags: {} }, 'Tags', undefined]
  ])('%s', (_rule, overrides: Partial<LiveTable>, property, expected) => {
    expect(liveTableProperties(liveMainTable(overrides))[property]).toEqual(expected)
  })

  it('never writes an aws:* tag, neither from allTags nor from a tags map that wrongly holds one', () => {
    const props = liveTableProperties(
      liveMainTable({ tags: { team: 'payments', 'aws:cloudformation:stack-name': 'old', 'AWS:x': 'y' } })
    )
    expect(props.Tags).toEqual([{ Key: 'team', Value: 'payments' }])
    expect(JSON.stringify(props)).not.toMatch(/aws:/i)
  })

  it('never writes ImportSourceSpecification', () => {
    expect(liveTableProperties(liveMainTable())).not.toHaveProperty('ImportSourceSpecification')
  })

  it.each([
    [
      'a key attribute without a known type',
      liveMainTable({ attributeTypes: { pk: 'S', sk: 'S', gsi1pk: 'S' } }),
      /gsi1sk/
    ],
    [
      'a PROVISIONED table without throughput',
      liveMainTable({ billingMode: 'PROVISIONED', gsis: [] }),
      /PROVISIONED/
    ],
    [
      'a PROVISIONED GSI without throughput',
      liveMainTable({ billingMode: 'PROVISIONED', throughput: { read: 1, write: 1 } }),
      /index gsi1/
    ]
  ])('refuses %s', (_case, live: LiveTable, message) => {
    expect(() => liveTableProperties(live)).toThrow(ImportRefusal)
    expect(() => liveTableProperties(live)).toThrow(message)
  })
})

describe('buildImportTemplate: an existing stack gets its deployed template plus only the imported tables', () => {
  const deployed = deployedTemplate()
  const { template, resourcesToImport, body } = buildImportTemplate({
    deployedTemplate: deployed,
    tables: [main]
  })

  it('keeps every deployed resource unchanged', () => {
    for (const [id, resource] of Object.entries(deployedTemplate().Resources ?? {})) {
      expect(template.Resources?.[id]).toEqual(resource)
    }
  })

  it('keeps Outputs, Parameters, Conditions and Rules unchanged', () => {
    const original = deployedTemplate()
    expect(template.Outputs).toEqual(original.Outputs)
    expect(template.Parameters).toEqual(original.Parameters)
    expect(template.Conditions).toEqual(original.Conditions)
    expect(template.Rules).toEqual(original.Rules)
    expect(Object.keys(template).sort()).toEqual(Object.keys(original).sort())
  })

  it('adds only the imported tables', () => {
    const added = Object.keys(template.Resources ?? {}).filter(
      id => !(id in (deployedTemplate().Resources ?? {}))
    )
    expect(added).toEqual(['MainTable74195DAB'])
  })

  it('gives the imported table its live properties and the synthesized DeletionPolicy/UpdateReplacePolicy', () => {
    expect(template.Resources?.MainTable74195DAB).toEqual({
      Type: 'AWS::DynamoDB::Table',
      Properties: liveTableProperties(liveMainTable()),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain'
    })
  })

  it('names the tables in ResourcesToImport by logical id and TableName', () => {
    expect(resourcesToImport).toEqual([
      {
        ResourceType: 'AWS::DynamoDB::Table',
        LogicalResourceId: 'MainTable74195DAB',
        ResourceIdentifier: { TableName: 'pr-5-main-table' }
      }
    ])
  })

  it('sends a body that is the template as JSON', () => {
    expect(JSON.parse(body)).toEqual(template)
  })

  it('does not mutate the deployed template it was given', () => {
    expect(deployed).toEqual(deployedTemplate())
  })
})

describe('buildImportTemplate: rules', () => {
  it.each([
    ['Retain when the synthesized template has no DeletionPolicy', null, null, 'Retain', 'Retain'],
    ['the synthesized policies when present', 'Delete', 'Snapshot', 'Delete', 'Snapshot']
  ])(
    'every imported table has a DeletionPolicy: %s',
    (_rule, deletionPolicy, updateReplacePolicy, expectedDeletion, expectedReplace) => {
      const { template } = buildImportTemplate({
        deployedTemplate: null,
        tables: [{ ...main, deletionPolicy, updateReplacePolicy }]
      })
      expect(template.Resources?.MainTable74195DAB?.DeletionPolicy).toBe(expectedDeletion)
      expect(template.Resources?.MainTable74195DAB?.UpdateReplacePolicy).toBe(expectedReplace)
    }
  )

  it('a new stack template holds only the tables (no CDKMetadata, Outputs, Conditions, Parameters, Rules)', () => {
    const audit = {
      logicalId: 'AuditTable1F2E3D4C',
      live: liveAuditTable(),
      deletionPolicy: null,
      updateReplacePolicy: null
    }
    const { template, resourcesToImport } = buildImportTemplate({
      deployedTemplate: null,
      tables: [main, audit]
    })
    expect(Object.keys(template).sort()).toEqual(['AWSTemplateFormatVersion', 'Resources'])
    expect(Object.keys(template.Resources ?? {})).toEqual(['MainTable74195DAB', 'AuditTable1F2E3D4C'])
    expect(resourcesToImport.map(r => r.ResourceIdentifier.TableName)).toEqual([
      'pr-5-main-table',
      'pr-5-audit'
    ])
  })

  it('the body is deterministic: the same tables with tags and keys in another order give the same bytes', () => {
    const a = buildImportTemplate({ deployedTemplate: deployedTemplate(), tables: [main] }).body
    const reordered = liveMainTable({ tags: { env: 'pr-5', team: 'payments' } })
    const shuffled = Object.fromEntries(Object.entries(deployedTemplate()).reverse()) as CfnTemplate
    const b = buildImportTemplate({ deployedTemplate: shuffled, tables: [{ ...main, live: reordered }] }).body
    expect(b).toBe(a)
  })

  it("builds a body of any size: where it goes (inline or S3) is template-store.ts's decision", () => {
    const big = deployedTemplate()
    big.Description = 'x'.repeat(TEMPLATE_BODY_LIMIT_BYTES)
    const built = buildImportTemplate({ deployedTemplate: big, tables: [main] })
    expect(Buffer.byteLength(built.body)).toBeGreaterThan(TEMPLATE_BODY_LIMIT_BYTES)
    expect(built.body).toBe(canonicalJson(built.template))
  })

  it.each([
    [
      'a logical id the deployed stack already has',
      { ...main, logicalId: 'SessionsTable7C302024' },
      /already a resource of the deployed stack/
    ],
    [
      'a table name the deployed stack already declares',
      { ...main, live: liveMainTable({ tableName: 'pr-5-literal' }) },
      /already declared in the deployed stack as LiteralTable/
    ]
  ])('refuses %s', (_case, table, message) => {
    const deployed = deployedTemplate()
    deployed.Resources = {
      ...deployed.Resources,
      LiteralTable: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'pr-5-literal' } }
    }
    expect(() => buildImportTemplate({ deployedTemplate: deployed, tables: [table] })).toThrow(message)
  })

  it('refuses the same table given twice', () => {
    expect(() =>
      buildImportTemplate({ deployedTemplate: null, tables: [main, { ...main, logicalId: 'Other' }] })
    ).toThrow(/given twice/)
  })
})

describe('requiredCapabilities: what the deployed template demands', () => {
  const withResources = (
    resources: CfnTemplate['Resources'],
    extra: Partial<CfnTemplate> = {}
  ): CfnTemplate => ({ Resources: resources, ...extra })
  it.each([
    ['no IAM, no macro → none', withResources({ T: { Type: 'AWS::DynamoDB::Table' } }), []],
    [
      'an IAM role → CAPABILITY_IAM',
      withResources({ R: { Type: 'AWS::IAM::Role', Properties: {} } }),
      ['CAPABILITY_IAM']
    ],
    [
      'a named IAM role → CAPABILITY_IAM + NAMED_IAM',
      withResources({ R: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'x' } } }),
      ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM']
    ],
    [
      'a Transform → CAPABILITY_AUTO_EXPAND',
      withResources(
        { F: { Type: 'AWS::Serverless::Function' } },
        { Transform: 'AWS::Serverless-2016-10-31' }
      ),
      ['CAPABILITY_AUTO_EXPAND']
    ],
    [
      'a nested stack (may hold IAM we cannot see) → all three',
      withResources({ N: { Type: 'AWS::CloudFormation::Stack' } }),
      ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']
    ]
  ])('%s', (_rule, template, expected) => {
    expect(requiredCapabilities(template)).toEqual(expected)
  })
})

describe('previousParameters', () => {
  it('keeps every deployed parameter at its previous value; a new stack has none', () => {
    expect(previousParameters(deployedTemplate())).toEqual([
      { ParameterKey: 'BootstrapVersion', UsePreviousValue: true }
    ])
    expect(previousParameters(null)).toEqual([])
  })
})

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}')
  })
})

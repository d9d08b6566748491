import type { Finding, LiveTable, StackState, TableConfig, TableSpec } from '../src/types.js'

/** A PAY_PER_REQUEST table keyed pk (S, HASH), sk (S, RANGE) with everything else at its default. */
export function tableConfig(overrides: Partial<TableConfig> = {}): TableConfig {
  return {
    tableName: 'pr-5-main-table',
    keys: [
      { name: 'pk', type: 'HASH' },
      { name: 'sk', type: 'RANGE' }
    ],
    attributeTypes: { pk: 'S', sk: 'S' },
    billingMode: 'PAY_PER_REQUEST',
    gsis: [],
    lsis: [],
    sse: { enabled: false },
    stream: { enabled: false },
    ttl: { enabled: false },
    pitr: false,
    deletionProtection: false,
    tableClass: 'STANDARD',
    tags: {},
    ...overrides
  }
}

export function liveTable(overrides: Partial<LiveTable> = {}): LiveTable {
  return {
    ...tableConfig(),
    arn: 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main-table',
    status: 'ACTIVE',
    itemCountEstimate: 0,
    sizeBytesEstimate: 0,
    allTags: {},
    ...overrides
  }
}

export function tableSpec(overrides: Partial<TableSpec> = {}): TableSpec {
  return {
    tableName: 'pr-5-main-table',
    stack: 'pr-5-database',
    logicalId: 'MainTable74195DAB',
    resourceType: 'AWS::DynamoDB::Table',
    nestedPath: [],
    deletionPolicy: 'Retain',
    updateReplacePolicy: 'Retain',
    properties: {
      TableName: 'pr-5-main-table',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' }
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' }
      ],
      BillingMode: 'PAY_PER_REQUEST'
    },
    templateFile: '/repo/cdk.out/pr-5-database.template.json',
    ...overrides
  }
}

export function stackState(overrides: Partial<StackState> = {}): StackState {
  return { name: 'pr-5-database', exists: true, status: 'UPDATE_COMPLETE', ...overrides }
}

/** A retained orphan holding data, matching the template, whose stack exists and is idle. */
export function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    spec: tableSpec(),
    tableName: 'pr-5-main-table',
    region: 'us-east-1',
    exists: true,
    live: liveTable(),
    owner: 'retained',
    retainedFrom: 'pr-5-database',
    hasData: true,
    stack: stackState(),
    differences: [],
    problems: [],
    ...overrides
  }
}

import { compareRecreated, compareTable } from '../../src/compare/compare.js'
import type { IndexConfig, TableConfig } from '../../src/types.js'
import { tableConfig } from '../../test-support/builders.js'

const gsi = (name: string, hash: string, extra: Partial<IndexConfig> = {}): IndexConfig => ({
  name,
  keys: [{ name: hash, type: 'HASH' }],
  projection: { type: 'ALL' },
  ...extra
})
const lsi = (name: string, range: string): IndexConfig => ({
  name,
  keys: [
    { name: 'pk', type: 'HASH' },
    { name: range, type: 'RANGE' }
  ],
  projection: { type: 'KEYS_ONLY' }
})
const types = (extra: TableConfig['attributeTypes']) => ({ pk: 'S' as const, sk: 'S' as const, ...extra })

interface Row {
  rule: string
  live: Partial<TableConfig>
  template: Partial<TableConfig>
  unknown?: string[]
  /** [property, severity] in the expected order. */
  expected: [string, string][]
  message?: RegExp
}

const rows: Row[] = [
  { rule: 'identical configuration → no difference', live: {}, template: {}, expected: [] },
  {
    rule: 'fields absent from the template wish are not compared',
    live: { billingMode: 'PROVISIONED', pitr: true, tags: { team: 'a' } },
    template: { keys: tableConfig().keys },
    expected: []
  },
  // blocking
  {
    rule: 'blocking: table name differs',
    live: {},
    template: { tableName: 'pr-6-main-table' },
    expected: [['TableName', 'blocking']],
    message:
      /^Table name differs: live table is pr-5-main-table, template wants pr-6-main-table; CloudFormation would have to replace/
  },
  {
    rule: 'blocking: sort key differs (name and type named)',
    live: {},
    template: {
      keys: [
        { name: 'pk', type: 'HASH' },
        { name: 'createdAt', type: 'RANGE' }
      ],
      attributeTypes: { pk: 'S', createdAt: 'N' }
    },
    expected: [['KeySchema', 'blocking']],
    message:
      /^Sort key differs: live table has sk \(S\), template wants createdAt \(N\); CloudFormation would have to replace the table/
  },
  {
    rule: 'blocking: partition key differs',
    live: {},
    template: {
      keys: [
        { name: 'id', type: 'HASH' },
        { name: 'sk', type: 'RANGE' }
      ],
      attributeTypes: { id: 'S', sk: 'S' }
    },
    expected: [['KeySchema', 'blocking']],
    message: /^Partition key differs: live table has pk \(S\), template wants id \(S\)/
  },
  {
    rule: 'blocking: template drops the sort key',
    live: {},
    template: { keys: [{ name: 'pk', type: 'HASH' }] },
    expected: [['KeySchema', 'blocking']],
    message: /^Sort key differs: live table has sk \(S\), template wants none/
  },
  {
    rule: 'blocking: hash and range roles swapped',
    live: {},
    template: {
      keys: [
        { name: 'sk', type: 'HASH' },
        { name: 'pk', type: 'RANGE' }
      ]
    },
    expected: [['KeySchema', 'blocking']],
    message: /^Partition and sort keys differ/
  },
  {
    rule: 'blocking: type of a table key attribute differs',
    live: {},
    template: { keys: tableConfig().keys, attributeTypes: { pk: 'S', sk: 'N' } },
    expected: [['AttributeDefinitions', 'blocking']],
    message: /^Type of sort key sk differs: live table has S, template wants N/
  },
  {
    rule: 'key types are not compared when the template keys are unknown',
    live: {},
    template: { keys: tableConfig().keys, attributeTypes: { pk: 'S', sk: 'N' } },
    unknown: ['KeySchema'],
    expected: []
  },
  {
    rule: 'blocking: LSI only in the template',
    live: {},
    template: { lsis: [lsi('byDate', 'date')], attributeTypes: types({ date: 'S' }) },
    expected: [['LocalSecondaryIndexes', 'blocking']]
  },
  {
    rule: 'blocking: LSI only on the live table',
    live: { lsis: [lsi('byDate', 'date')], attributeTypes: types({ date: 'S' }) },
    template: { lsis: [] },
    expected: [['LocalSecondaryIndexes', 'blocking']]
  },
  {
    rule: 'blocking: LSI key type differs',
    live: { lsis: [lsi('byDate', 'date')], attributeTypes: types({ date: 'S' }) },
    template: { lsis: [lsi('byDate', 'date')], attributeTypes: types({ date: 'N' }) },
    expected: [['LocalSecondaryIndexes', 'blocking']]
  },
  // GSIs
  {
    rule: 'converges: exactly one GSI to add',
    live: {},
    template: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'S' }) },
    expected: [['GlobalSecondaryIndexes', 'converges']],
    message: /byEmail is only in the template; the deploy creates it in place/
  },
  {
    rule: 'converges: exactly one GSI to remove',
    live: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'S' }) },
    template: { gsis: [] },
    expected: [['GlobalSecondaryIndexes', 'converges']]
  },
  {
    rule: 'dangerous: two GSIs to add (one per update)',
    live: {},
    template: { gsis: [gsi('a', 'x'), gsi('b', 'y')], attributeTypes: types({ x: 'S', y: 'S' }) },
    expected: [
      ['GlobalSecondaryIndexes', 'dangerous'],
      ['GlobalSecondaryIndexes', 'dangerous']
    ],
    message: /only one global secondary index per update, and this deploy would need 2/
  },
  {
    rule: 'dangerous: one GSI added and another removed (a rename)',
    live: { gsis: [gsi('old', 'x')], attributeTypes: types({ x: 'S' }) },
    template: { gsis: [gsi('new', 'x')], attributeTypes: types({ x: 'S' }) },
    expected: [
      ['GlobalSecondaryIndexes', 'dangerous'],
      ['GlobalSecondaryIndexes', 'dangerous']
    ]
  },
  {
    rule: 'dangerous: an existing GSI changes its key type (CloudFormation cannot change GSI keys)',
    live: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'S' }) },
    template: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'N' }) },
    expected: [['GlobalSecondaryIndexes', 'dangerous']],
    message: /cannot change an existing index's keys or projection/
  },
  {
    rule: 'dangerous: an existing GSI changes its projection',
    live: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'S' }) },
    template: {
      gsis: [gsi('byEmail', 'email', { projection: { type: 'KEYS_ONLY' } })],
      attributeTypes: types({ email: 'S' })
    },
    expected: [['GlobalSecondaryIndexes', 'dangerous']]
  },
  {
    rule: 'converges: GSI throughput differs on a provisioned table',
    live: {
      billingMode: 'PROVISIONED',
      throughput: { read: 5, write: 5 },
      gsis: [gsi('byEmail', 'email', { throughput: { read: 1, write: 1 } })],
      attributeTypes: types({ email: 'S' })
    },
    template: {
      billingMode: 'PROVISIONED',
      gsis: [gsi('byEmail', 'email', { throughput: { read: 2, write: 1 } })],
      attributeTypes: types({ email: 'S' })
    },
    expected: [['GlobalSecondaryIndexes', 'converges']]
  },
  {
    rule: 'a GSI template-config could not read in full still counts as an add',
    live: { gsis: [gsi('old', 'x')], attributeTypes: types({ x: 'S' }) },
    template: { gsis: [gsi('old', 'x')], attributeTypes: types({ x: 'S' }) },
    unknown: ['GlobalSecondaryIndexes.opaque'],
    expected: [['GlobalSecondaryIndexes', 'converges']]
  },
  {
    rule: 'a partly unknown GSI the live table has is neither removed nor compared',
    live: { gsis: [gsi('opaque', 'x')], attributeTypes: types({ x: 'S' }) },
    template: { gsis: [] },
    unknown: ['GlobalSecondaryIndexes.opaque'],
    expected: []
  },
  // converging scalars
  {
    rule: 'converges: billing mode',
    live: {},
    template: { billingMode: 'PROVISIONED', throughput: { read: 5, write: 5 } },
    expected: [['BillingMode', 'converges']]
  },
  {
    rule: 'converges: provisioned throughput',
    live: { billingMode: 'PROVISIONED', throughput: { read: 5, write: 5 } },
    template: { billingMode: 'PROVISIONED', throughput: { read: 10, write: 5 } },
    expected: [['ProvisionedThroughput', 'converges']],
    message: /live table has 5 read \/ 5 write, template wants 10 read \/ 5 write/
  },
  {
    rule: 'converges: SSE from AWS owned key to KMS',
    live: {},
    template: { sse: { enabled: true, type: 'KMS' } },
    expected: [['SSESpecification', 'converges']]
  },
  {
    rule: 'converges: SSE with another customer managed key (key id vs live ARN)',
    live: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:us-east-1:1:key/aaaa' } },
    template: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'bbbb' } },
    expected: [['SSESpecification', 'converges']]
  },
  {
    rule: 'SSE: the same key by id matches its live ARN',
    live: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:us-east-1:1:key/aaaa' } },
    template: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'aaaa' } },
    expected: []
  },
  {
    rule: 'SSE: a key alias is not compared (needs KMS)',
    live: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'arn:aws:kms:us-east-1:1:key/aaaa' } },
    template: { sse: { enabled: true, type: 'KMS', kmsKeyId: 'alias/app' } },
    expected: []
  },
  {
    rule: 'converges: point-in-time recovery',
    live: {},
    template: { pitr: true },
    expected: [['PointInTimeRecoverySpecification', 'converges']]
  },
  {
    rule: 'converges: TTL enabled by the template',
    live: {},
    template: { ttl: { enabled: true, attributeName: 'expiresAt' } },
    expected: [['TimeToLiveSpecification', 'converges']]
  },
  {
    rule: 'dangerous: TTL moved to another attribute while enabled',
    live: { ttl: { enabled: true, attributeName: 'ttl' } },
    template: { ttl: { enabled: true, attributeName: 'expiresAt' } },
    expected: [['TimeToLiveSpecification', 'dangerous']]
  },
  {
    rule: 'converges: user tags differ',
    live: { tags: { team: 'a', old: 'x' } },
    template: { tags: { team: 'b' } },
    expected: [['Tags', 'converges']],
    message: /Tags differ \(old, team\)/
  },
  {
    rule: 'tags: aws:* keys are never compared',
    live: { tags: { 'aws:cloudformation:stack-name': 'old' } },
    template: { tags: {} },
    expected: []
  },
  {
    rule: 'tags: a tag whose value is unknown is skipped',
    live: { tags: { owner: 'x' } },
    template: { tags: {} },
    unknown: ['Tags.owner'],
    expected: []
  },
  {
    rule: 'converges: deletion protection',
    live: { deletionProtection: true },
    template: { deletionProtection: false },
    expected: [['DeletionProtectionEnabled', 'converges']]
  },
  {
    rule: 'converges: table class',
    live: {},
    template: { tableClass: 'STANDARD_INFREQUENT_ACCESS' },
    expected: [['TableClass', 'converges']]
  },
  // streams
  {
    rule: 'converges: stream enabled by the template on a table without one',
    live: {},
    template: { stream: { enabled: true, viewType: 'NEW_IMAGE' } },
    expected: [['StreamSpecification', 'converges']]
  },
  {
    rule: 'converges: stream disabled by the template',
    live: { stream: { enabled: true, viewType: 'NEW_IMAGE' } },
    template: { stream: { enabled: false } },
    expected: [['StreamSpecification', 'converges']]
  },
  {
    rule: 'dangerous: template wants another view type of a stream already enabled outside CloudFormation',
    live: { stream: { enabled: true, viewType: 'KEYS_ONLY' } },
    template: { stream: { enabled: true, viewType: 'NEW_AND_OLD_IMAGES' } },
    expected: [['StreamSpecification', 'dangerous']],
    message: /Table already has an enabled stream/
  },
  {
    rule: 'stream: the same view type on both sides (KEYS_ONLY) → no difference (values are compared, not flags)',
    live: { stream: { enabled: true, viewType: 'KEYS_ONLY' } },
    template: { stream: { enabled: true, viewType: 'KEYS_ONLY' } },
    expected: []
  },
  {
    rule: 'stream: disabled on both sides → no difference',
    live: { stream: { enabled: false } },
    template: { stream: { enabled: false } },
    expected: []
  },
  // unknown
  {
    rule: 'properties listed as unknown are not compared',
    live: {},
    template: { billingMode: 'PROVISIONED', pitr: true },
    unknown: ['BillingMode', 'PointInTimeRecoverySpecification'],
    expected: []
  },
  // ordering
  {
    rule: 'order: blocking, then dangerous, then converging, by property',
    live: { stream: { enabled: true, viewType: 'KEYS_ONLY' } },
    template: {
      tags: { a: 'b' },
      pitr: true,
      stream: { enabled: true, viewType: 'NEW_IMAGE' },
      keys: [{ name: 'pk', type: 'HASH' }]
    },
    expected: [
      ['KeySchema', 'blocking'],
      ['StreamSpecification', 'dangerous'],
      ['PointInTimeRecoverySpecification', 'converges'],
      ['Tags', 'converges']
    ]
  }
]

describe('compareTable', () => {
  it.each(rows)('$rule', ({ live, template, unknown, expected, message }) => {
    const diffs = compareTable(template, tableConfig(live), unknown)
    expect(diffs.map(d => [d.property, d.severity])).toEqual(expected)
    if (message) expect(diffs[0]?.message).toMatch(message)
    for (const d of diffs) {
      expect(d.message).toMatch(/^[A-Z].*\.$/)
      expect(d.live).not.toBe('')
      expect(d.template).not.toBe('')
    }
  })

  it('describes keys as short human strings', () => {
    const [d] = compareTable(
      { keys: [{ name: 'id', type: 'HASH' }], attributeTypes: { id: 'N' } },
      tableConfig()
    )
    expect(d).toMatchObject({ live: 'pk (S, HASH), sk (S, RANGE)', template: 'id (N, HASH)' })
  })

  it('is deterministic whatever the input order', () => {
    const template = {
      gsis: [gsi('b', 'y'), gsi('a', 'x')],
      attributeTypes: types({ x: 'S', y: 'S' }),
      pitr: true
    }
    const reversed = { ...template, gsis: [...template.gsis].reverse() }
    expect(compareTable(template, tableConfig())).toEqual(compareTable(reversed, tableConfig()))
  })
})

interface RecreatedRow {
  rule: string
  live: Partial<TableConfig>
  template: Partial<TableConfig>
  /** [property, severity] in order, when the items are restored into the re-created table. */
  restored: [string, string][]
  message?: RegExp
}

const recreatedRows: RecreatedRow[] = [
  {
    rule: 'a key attribute whose type changes (live N, template S) → blocking: no item fits',
    live: { attributeTypes: { pk: 'N', sk: 'S' } },
    template: { keys: tableConfig().keys, attributeTypes: { pk: 'S', sk: 'S' } },
    restored: [['AttributeDefinitions', 'blocking']],
    message:
      /^Key attribute pk is N in the live table and S in the template: no live item holds pk as S, .*restore would fail\. Keep AttributeType N for pk in the template/
  },
  {
    rule: 'the live sort key becomes the partition key with another type → blocking',
    live: {},
    template: { keys: [{ name: 'sk', type: 'HASH' }], attributeTypes: { sk: 'N' } },
    restored: [
      ['AttributeDefinitions', 'blocking'],
      ['KeySchema', 'converges']
    ]
  },
  {
    rule: "the template's partition key is a live index key of another type → blocking (no item has it as the template's type)",
    live: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'S' }) },
    template: {
      keys: [{ name: 'email', type: 'HASH' }],
      attributeTypes: { email: 'N' },
      gsis: []
    },
    restored: [
      ['AttributeDefinitions', 'blocking'],
      ['GlobalSecondaryIndexes', 'converges'],
      ['KeySchema', 'converges']
    ]
  },
  {
    rule: 'an index key type change (index only on both sides) → dangerous: items that carry it fail',
    live: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'S' }) },
    template: { gsis: [gsi('byEmail', 'email')], attributeTypes: types({ email: 'N' }) },
    restored: [
      ['AttributeDefinitions', 'dangerous'],
      ['GlobalSecondaryIndexes', 'converges']
    ]
  },
  {
    rule: 'a sort key change whose types fit → converges, the keys checked before the delete',
    live: {},
    template: {
      keys: [
        { name: 'pk', type: 'HASH' },
        { name: 'createdAt', type: 'RANGE' }
      ],
      attributeTypes: { pk: 'S', createdAt: 'N' }
    },
    restored: [['KeySchema', 'converges']],
    message: /the export is checked against them before the live table is deleted/
  },
  {
    rule: 'the template enables a stream → dangerous: every restored item reaches the consumers as an INSERT',
    live: {},
    template: { stream: { enabled: true, viewType: 'NEW_IMAGE' } },
    restored: [['StreamSpecification', 'dangerous']],
    message: /as a new INSERT/
  },
  {
    rule: 'the same stream on both sides is still dangerous on restore (the new table streams every item)',
    live: { stream: { enabled: true, viewType: 'KEYS_ONLY' } },
    template: { stream: { enabled: true, viewType: 'KEYS_ONLY' } },
    restored: [['StreamSpecification', 'dangerous']]
  },
  {
    rule: 'a dangerous in-place difference (two GSIs at once) converges on a new table',
    live: {},
    template: { gsis: [gsi('a', 'x'), gsi('b', 'y')], attributeTypes: types({ x: 'S', y: 'S' }) },
    restored: [
      ['GlobalSecondaryIndexes', 'converges'],
      ['GlobalSecondaryIndexes', 'converges']
    ]
  }
]

describe('compareRecreated: the differences of a table the deploy creates anew', () => {
  it.each(recreatedRows)('$rule', ({ live, template, restored, message }) => {
    const diffs = compareRecreated(template, tableConfig(live), [], true)
    expect(diffs.map(d => [d.property, d.severity])).toEqual(restored)
    if (message) expect(diffs[0]?.message).toMatch(message)
    for (const d of diffs) {
      expect(d.message).toMatch(/^[A-Z].*\.$/)
      expect(d.message).not.toMatch(/in place/)
    }
    // Without a restore (strategy delete) nothing can fail or surprise: everything converges.
    const deleted = compareRecreated(template, tableConfig(live), [], false)
    expect(deleted.map(d => d.severity).every(s => s === 'converges')).toBe(true)
    for (const d of deleted) expect(d.message).not.toMatch(/restore|INSERT|export/)
  })
})

import { compareRecreated, compareTable } from '../../src/compare/compare.js'
import { planTables } from '../../src/plan/plan.js'
import type { Decision, Finding, Policy, Strategy, TableConfig } from '../../src/types.js'
import { finding, liveTable, stackState, tableConfig, tableSpec } from '../../test-support/builders.js'

const policy = (overrides: Partial<Policy> = {}): Policy => ({
  stage: 'pr-5',
  strategy: 'auto',
  protectedStage: false,
  allowDataLoss: false,
  ...overrides
})
const PROD = { stage: 'prod', protectedStage: true }

// Real differences, from compare itself.
const sortKeyChange = compareTable(
  {
    keys: [
      { name: 'pk', type: 'HASH' },
      { name: 'createdAt', type: 'RANGE' }
    ],
    attributeTypes: { pk: 'S', createdAt: 'N' }
  },
  tableConfig()
)
const converging = compareTable({ billingMode: 'PROVISIONED', tags: { team: 'data' } }, tableConfig())
const dangerousStream = compareTable(
  { stream: { enabled: true, viewType: 'NEW_IMAGE' } },
  tableConfig({ stream: { enabled: true, viewType: 'KEYS_ONLY' } })
)
const nested = { spec: tableSpec({ nestedPath: ['DatabaseNestedStack'] }) }
const TWO_REGIONS = ['us-east-1', 'us-west-2']
const globalSpec = (replicaRegions: string[] | undefined = TWO_REGIONS) =>
  tableSpec({ resourceType: 'AWS::DynamoDB::GlobalTable', ...(replicaRegions ? { replicaRegions } : {}) })
/** A live table in us-east-1 replicating to the other regions of `regions` (each replica read). */
const replicated = (regions = TWO_REGIONS, over: Partial<ReturnType<typeof liveTable>> = {}) =>
  liveTable({
    globalTable: {
      version: '2019.11.21',
      regions,
      replicas: Object.fromEntries(regions.filter(r => r !== 'us-east-1').map(r => [r, liveTable()]))
    },
    ...over
  })
// A GlobalTable in the template (two regions) while the live table is single-region.
const globalTable = { spec: globalSpec() }
const tablesOnly = {
  spec: tableSpec({
    stack: null,
    logicalId: null,
    properties: null,
    templateFile: null,
    notDeclared: { template: '/repo/cdk.out', exists: false }
  }),
  stack: null
}
/** A `tables` name that the template at /repo/cdk.out (which exists) does not declare. */
const undeclared = {
  ...tablesOnly,
  spec: { ...tablesOnly.spec, notDeclared: { template: '/repo/cdk.out', exists: true } }
}

/** A finding's differences as compare/differences.ts makes them: kept in place, and re-created. */
function compared(desired: Partial<TableConfig>, live = tableConfig()): Partial<Finding> {
  return {
    live: liveTable(live),
    differences: compareTable(desired, live),
    recreated: {
      restored: compareRecreated(desired, live, [], true),
      deleted: compareRecreated(desired, live, [], false)
    }
  }
}
const KEYS_PK_SK = {
  keys: [
    { name: 'pk', type: 'HASH' },
    { name: 'sk', type: 'RANGE' }
  ]
} satisfies Partial<TableConfig>
/** Live pk is N, the template's pk is S: no live item fits the template's table. */
const pkTypeChange = compared(
  { ...KEYS_PK_SK, attributeTypes: { pk: 'S', sk: 'S' } },
  tableConfig({ attributeTypes: { pk: 'N', sk: 'S' } })
)
/** Live sort key sk (S) becomes the template's partition key sk (N), pk goes: a key change and a type conflict. */
const skRoleAndType = compared(
  { keys: [{ name: 'sk', type: 'HASH' }], attributeTypes: { sk: 'N' } },
  tableConfig()
)
/** A sort key change whose types fit: items may carry the new keys, so backup-restore is possible. */
const sortKeyChangeCompared = compared({
  keys: [
    { name: 'pk', type: 'HASH' },
    { name: 'createdAt', type: 'RANGE' }
  ],
  attributeTypes: { pk: 'S', createdAt: 'N' }
})
/** The same sort key change, and the template enables a stream on the re-created table. */
const keyChangeWithStream = compared({
  keys: [
    { name: 'pk', type: 'HASH' },
    { name: 'createdAt', type: 'RANGE' }
  ],
  attributeTypes: { pk: 'S', createdAt: 'N' },
  stream: { enabled: true, viewType: 'NEW_IMAGE' }
})
const protectedLive = { live: liveTable({ deletionProtection: true }) }
const OWED = {
  table: 'pr-5-main',
  source: 'aws-backup' as const,
  backup: 'arn:aws:dynamodb:us-east-1:123456789012:table/pr-5-main/backup/01',
  takenAt: '2025-03-04T05:06:07.000Z'
}

interface Row {
  rule: string
  policy?: Partial<Policy>
  finding?: Partial<Finding>
  decision: Decision
  /** Each must match one of the reasons. */
  reasons?: RegExp[]
}

const rows: Row[] = [
  // every strategy: existence and ownership
  {
    rule: 'a table that does not exist → none (the deploy creates it)',
    finding: { exists: false, live: null, owner: null, hasData: null },
    decision: 'none',
    reasons: [/does not exist yet; the deploy will create it/]
  },
  {
    rule: 'a table owned by the expected stack → none',
    finding: { owner: 'stack' },
    decision: 'none',
    reasons: [/already belongs to stack pr-5-database/]
  },
  ...(['auto', 'import', 'backup-restore', 'delete'] as Strategy[]).map((strategy): Row => ({
    rule: `${strategy}: a table owned by another live stack → blocked, never touched`,
    policy: { strategy, allowDataLoss: true },
    finding: { owner: 'other-stack:legacy-db', hasData: false },
    decision: 'blocked',
    reasons: [
      /belongs to the live stack legacy-db, not to pr-5-database/,
      /Rename the table .* or remove it from stack legacy-db/
    ]
  })),

  ...(['auto', 'import', 'backup-restore', 'delete'] as Strategy[]).map((strategy): Row => ({
    rule: `${strategy}: an owner that could not be determined (a read failed) → blocked, naming the permission`,
    policy: { strategy, allowDataLoss: true },
    finding: {
      owner: 'unknown',
      hasData: false,
      ownerUnknownBecause:
        'DescribeStackResources for pr-5-main was denied (it needs cloudformation:DescribeStackResources): not authorized'
    },
    decision: 'blocked',
    reasons: [
      /The owner of table .* could not be determined, so nothing is done with it: a live stack might own it\. DescribeStackResources .* was denied \(it needs cloudformation:DescribeStackResources\)/
    ]
  })),

  // auto
  {
    rule: 'auto: orphan and empty → delete',
    finding: { hasData: false },
    decision: 'delete',
    reasons: [/is empty \(a Scan found no item\): it is deleted, and the deploy creates it anew/]
  },
  {
    rule: 'auto: orphan and empty even with blocking differences → delete (the deploy creates it from the template)',
    finding: { hasData: false, differences: sortKeyChange },
    decision: 'delete'
  },
  {
    rule: 'auto: orphan and empty with deletion protection → import (auto never turns protection off for a plain delete)',
    finding: { hasData: false, ...protectedLive },
    decision: 'import',
    reasons: [/^It is imported rather than deleted although it is empty, because deletion protection is on/]
  },
  {
    rule: 'auto: orphan and empty without deletion protection → delete',
    finding: { hasData: false },
    decision: 'delete',
    reasons: [/is empty/]
  },
  {
    rule: 'auto: orphan with data that is not ACTIVE (UPDATING) → blocked: neither imported nor copied now',
    finding: { live: liveTable({ status: 'UPDATING' }) },
    decision: 'blocked',
    reasons: [/the table is UPDATING, not ACTIVE/]
  },
  {
    rule: 'delete: empty orphan that is not ACTIVE → blocked',
    policy: { strategy: 'delete' },
    finding: { hasData: false, live: liveTable({ status: 'INACCESSIBLE_ENCRYPTION_CREDENTIALS' }) },
    decision: 'blocked',
    reasons: [/INACCESSIBLE_ENCRYPTION_CREDENTIALS, not ACTIVE/]
  },
  {
    rule: 'auto: orphan and empty on a protected stage → import, saying why it is not deleted',
    policy: PROD,
    finding: { hasData: false },
    decision: 'import',
    reasons: [
      /^It is imported rather than deleted although it is empty, because stage prod is protected \(protected-stages\), where the action never deletes a table, empty or not\.$/
    ]
  },
  {
    rule: 'auto: orphan and empty on a protected stage, not importable → blocked, saying why it is not deleted',
    policy: PROD,
    finding: { hasData: false, ...nested },
    decision: 'blocked',
    reasons: [
      /is empty but is not deleted because stage prod is protected/,
      /nested stack DatabaseNestedStack/
    ]
  },
  {
    rule: 'auto: orphan and empty on a protected stage, keys differ → blocked',
    policy: PROD,
    finding: { hasData: false, differences: sortKeyChange },
    decision: 'blocked',
    reasons: [/Change the template to match the live table \(pk \(S, HASH\), sk \(S, RANGE\)\)/]
  },
  {
    rule: 'auto: orphan and empty whose owner is unknown → import, never delete',
    finding: { hasData: false, owner: null },
    decision: 'import'
  },
  {
    rule: 'auto: orphan with data and no difference → import',
    decision: 'import',
    reasons: [
      /left behind by stack pr-5-database .* holds data: it is imported into stack pr-5-database as MainTable74195DAB with its live configuration/
    ]
  },
  {
    rule: 'auto: orphan with data and only converging differences → import',
    finding: { differences: converging },
    decision: 'import',
    reasons: [/The deploy then brings it in line with the template in place: BillingMode, Tags\./]
  },
  {
    rule: 'auto: orphan with data and a dangerous difference → import, with a warning saying why the deploy may fail',
    finding: { differences: dangerousStream },
    decision: 'import',
    reasons: [
      /^Warning: the deploy after the import will likely fail \(StreamSpecification\): .*enabled stream.* the table keeps its data\.$/
    ]
  },
  {
    rule: 'auto: orphan whose data could not be checked is treated as holding data → import',
    finding: { hasData: null },
    decision: 'import',
    reasons: [/could not be checked for data, so it is treated as holding data/]
  },
  {
    rule: 'auto: orphan with data whose owner is unknown → import (CloudFormation itself refuses a table another stack owns)',
    finding: { owner: null },
    decision: 'import'
  },
  {
    rule: 'auto: orphan with data into a stack that does not exist yet → import creating the stack',
    finding: { stack: stackState({ exists: false, status: undefined }) },
    decision: 'import',
    reasons: [/Stack pr-5-database does not exist yet: the import creates it/]
  },
  {
    rule: 'auto: a REVIEW_IN_PROGRESS stack does not prevent the import',
    finding: { stack: stackState({ status: 'REVIEW_IN_PROGRESS' }) },
    decision: 'import'
  },
  {
    rule: 'auto: orphan with data and a blocking difference → backup-restore, warning about the new keys',
    finding: { differences: sortKeyChange },
    decision: 'backup-restore',
    reasons: [
      /does not match the template \(Sort key differs: live table has sk \(S\), template wants createdAt \(N\)/,
      /every item must carry the template's key attributes/
    ]
  },
  {
    rule: 'auto: orphan with data and a blocking difference on a protected stage → blocked with what to change',
    policy: PROD,
    finding: { differences: sortKeyChange },
    decision: 'blocked',
    reasons: [
      /Stage prod is protected.*Change the template to match the live table \(pk \(S, HASH\), sk \(S, RANGE\)\), or migrate the data by hand/
    ]
  },
  {
    rule: 'auto: backup-restore of a deletion-protected table turns protection off only after the backup',
    finding: { differences: sortKeyChange, ...protectedLive },
    decision: 'backup-restore',
    reasons: [/turned off only after the backup has completed/]
  },
  {
    rule: 'auto: not importable (nested stack) → backup-restore',
    finding: nested,
    decision: 'backup-restore',
    reasons: [/cannot be imported \(it is declared in the nested stack DatabaseNestedStack/]
  },
  {
    rule: 'auto: a GlobalTable whose replicas the single-region live table lacks → backup-restore',
    finding: globalTable,
    decision: 'backup-restore',
    reasons: [/the live table has no replica in us-west-2/]
  },
  // a table owed a restore it was never given (issue 10 point 4): never deleted, whatever the strategy
  ...(
    [
      ['auto', false, { hasData: false, differences: sortKeyChange }, 'blocked'],
      ['auto', false, { hasData: false, spec: tableSpec({ properties: null }) }, 'blocked'],
      ['auto', false, { hasData: true, differences: sortKeyChange }, 'blocked'],
      ['auto', false, { hasData: true, ...sortKeyChangeCompared }, 'blocked'],
      ['backup-restore', false, { hasData: true }, 'blocked'],
      ['backup-restore', false, { hasData: false }, 'blocked'],
      ['delete', false, { hasData: false }, 'blocked'],
      ['delete', true, { hasData: true }, 'blocked'],
      ['delete', true, { hasData: null }, 'blocked']
    ] as Array<[Strategy, boolean, Partial<Finding>, Decision]>
  ).map(([strategy, allowDataLoss, over, decision]): Row => ({
    rule: `${strategy}${allowDataLoss ? ' with allow-data-loss' : ''}: an orphan owed a restore it was never given (${over.hasData === false ? 'empty' : over.hasData === null ? 'unknown data' : 'with data'}${over.differences ? ', keys differ' : ''}${over.spec ? ', no template' : ''}) → ${decision}, naming the backup and what to do`,
    policy: { strategy, allowDataLoss, awsBackup: true },
    finding: { ...over, owedRestore: OWED },
    decision,
    reasons: [
      /it is owed the restore of arn:aws:dynamodb:us-east-1:123456789012:table\/pr-5-main\/backup\/01 \(taken 2025-03-04T05:06:07\.000Z\), which was never loaded into it: the action never deletes or backs up a table that is owed a restore/,
      /Load that backup into it first: run the action with phase: restore .* If that data is not wanted, delete the backup \(aws dynamodb delete-backup --backup-arn arn:aws:dynamodb:us-east-1:123456789012:table\/pr-5-main\/backup\/01\) and run again\./
    ]
  })),
  {
    rule: 'auto: an empty orphan owed a restore that matches the template → import (adopted, not deleted: phase restore can load it)',
    finding: { hasData: false, owedRestore: OWED, spec: tableSpec(), differences: [] },
    decision: 'import',
    reasons: [/imported rather than deleted although it is empty, because it is owed the restore of/]
  },
  {
    rule: 'backup-restore: owed from an S3 copy → blocked, naming the copy and its folder to delete if unwanted',
    policy: { strategy: 'backup-restore', s3Bucket: true },
    finding: {
      hasData: true,
      owedRestore: { ...OWED, source: 's3', backup: 's3://b/g/pr-5/pr-5-main/20250304T050607Z/manifest.json' }
    },
    decision: 'blocked',
    reasons: [
      /owed the restore of s3:\/\/b\/g\/pr-5\/pr-5-main\/20250304T050607Z\/manifest\.json/,
      /aws s3 rm --recursive s3:\/\/b\/g\/pr-5\/pr-5-main\/20250304T050607Z\/, and the on-demand backup of the same moment/
    ]
  },
  {
    rule: 'a table owed a restore that its stack owns → none (the deploy keeps it; phase restore loads it)',
    policy: { strategy: 'delete', allowDataLoss: true },
    finding: { owner: 'stack', owedRestore: OWED },
    decision: 'none'
  },

  // no template describes the table (issue 15, item 1): data is never deleted on the tables list alone
  {
    rule: 'auto: no template at the template path, table with data → blocked, naming the template to pass',
    finding: tablesOnly,
    decision: 'blocked',
    reasons: [
      /no template declares it \(only the `tables` input names it\)/,
      /No template exists at \/repo\/cdk\.out \(the `template` input\): run `cdk synth` before this step/
    ]
  },
  {
    rule: 'auto: a tables name the existing template does not declare, with data → blocked',
    finding: undeclared,
    decision: 'blocked',
    reasons: [/The `template` input \(\/repo\/cdk\.out\) does not declare it/]
  },
  {
    rule: 'auto: no template, data unknown → blocked (unknown counts as data)',
    finding: { ...tablesOnly, hasData: null },
    decision: 'blocked',
    reasons: [/a table with data is never deleted on the `tables` list alone/]
  },
  {
    rule: 'auto: no template, empty → delete (nothing to lose)',
    finding: { ...tablesOnly, hasData: false },
    decision: 'delete'
  },
  {
    rule: 'backup-restore: no template, table with data → blocked',
    policy: { strategy: 'backup-restore' },
    finding: tablesOnly,
    decision: 'blocked',
    reasons: [/^Strategy backup-restore cannot re-create table .*no template declares it/]
  },
  {
    rule: 'delete with allow-data-loss: no template, table with data → blocked',
    policy: { strategy: 'delete', allowDataLoss: true },
    finding: tablesOnly,
    decision: 'blocked',
    reasons: [/^Strategy delete cannot delete table .*no template declares it/]
  },
  {
    rule: 'delete: no template, empty → delete',
    policy: { strategy: 'delete' },
    finding: { ...tablesOnly, hasData: false },
    decision: 'delete'
  },
  {
    rule: 'report: no template, table with data → shown as blocked (report keeps working on tables alone)',
    policy: { strategy: 'report' },
    finding: tablesOnly,
    decision: 'blocked',
    reasons: [
      /^Report mode: nothing is changed; auto would stop here \(blocked\)\.$/,
      /No template exists at/
    ]
  },

  // plans that cannot succeed (issue 15, item 3)
  {
    rule: 'auto: a key attribute whose type changes (live N, template S) → blocked, naming attribute, types and what to do',
    finding: { ...pkTypeChange },
    decision: 'blocked',
    reasons: [
      /its items could not be restored into that table: Key attribute pk is N in the live table and S in the template/,
      /Keep AttributeType N for pk in the template, or convert the items by hand/,
      /Nothing is backed up or deleted\.$/
    ]
  },
  {
    rule: 'backup-restore: a key attribute whose type changes → blocked',
    policy: { strategy: 'backup-restore' },
    finding: { ...pkTypeChange },
    decision: 'blocked',
    reasons: [/Key attribute pk is N in the live table and S in the template/]
  },
  {
    rule: 'backup-restore: a key type change on an empty table → backup-restore (nothing to restore)',
    policy: { strategy: 'backup-restore' },
    finding: { ...pkTypeChange, hasData: false },
    decision: 'backup-restore'
  },
  {
    rule: 'auto: a key type change on an empty table → delete',
    finding: { ...pkTypeChange, hasData: false },
    decision: 'delete'
  },
  {
    rule: 'auto: the live sort key becomes the partition key with another type → blocked',
    finding: { ...skRoleAndType },
    decision: 'blocked',
    reasons: [/Key attribute sk is S in the live table and N in the template/]
  },
  {
    rule: 'auto: a key change whose types fit → still backup-restore (the export check is the second line)',
    finding: { ...sortKeyChangeCompared },
    decision: 'backup-restore',
    reasons: [/The key schema changes/]
  },
  {
    rule: 'auto: backup-restore into a table whose template enables a stream → warned as dangerous',
    finding: { ...keyChangeWithStream },
    decision: 'backup-restore',
    reasons: [/^Warning \(StreamSpecification\): .*as a new INSERT.*Pause or detach the consumers/]
  },
  {
    rule: 'auto: not importable (stack in ROLLBACK_COMPLETE) → backup-restore',
    finding: { stack: stackState({ status: 'ROLLBACK_COMPLETE' }) },
    decision: 'backup-restore',
    reasons: [/stack pr-5-database is ROLLBACK_COMPLETE/]
  },
  {
    rule: 'import: a stack state the import executor refuses (CREATE_FAILED) → blocked in the plan too',
    policy: { strategy: 'import' },
    finding: { stack: stackState({ status: 'CREATE_FAILED' }) },
    decision: 'blocked',
    reasons: [/stack pr-5-database is CREATE_FAILED, a state CloudFormation cannot import into/]
  },
  {
    rule: 'auto: not importable on a protected stage → blocked with a hint',
    policy: PROD,
    finding: nested,
    decision: 'blocked',
    reasons: [/Stage prod is protected.*Import it into the nested stack by hand/]
  },
  {
    rule: 'auto: stack in UPDATE_ROLLBACK_FAILED → blocked (neither import nor re-create can work)',
    finding: { stack: stackState({ status: 'UPDATE_ROLLBACK_FAILED' }) },
    decision: 'blocked',
    reasons: [/continue-update-rollback/]
  },
  {
    rule: 'auto: not importable and owner unknown → blocked (might be another stack’s)',
    finding: { ...nested, owner: null },
    decision: 'blocked',
    reasons: [/owner could not be determined/]
  },
  {
    rule: 'auto: stack busy (*_IN_PROGRESS) → blocked, wait',
    finding: { stack: stackState({ status: 'UPDATE_IN_PROGRESS' }) },
    decision: 'blocked',
    reasons: [/UPDATE_IN_PROGRESS.*Wait for it to finish, then run again/]
  },

  // import
  {
    rule: 'import: importable, no blocking difference → import',
    policy: { strategy: 'import' },
    decision: 'import'
  },
  {
    rule: 'import: an empty orphan is imported too (no deletion)',
    policy: { strategy: 'import' },
    finding: { hasData: false },
    decision: 'import'
  },
  {
    rule: 'import: dangerous difference → import with a warning',
    policy: { strategy: 'import' },
    finding: { differences: dangerousStream },
    decision: 'import',
    reasons: [/^Warning: /]
  },
  {
    rule: 'import: key difference → blocked, naming live and template keys',
    policy: { strategy: 'import' },
    finding: { differences: sortKeyChange },
    decision: 'blocked',
    reasons: [
      /cannot be imported: Sort key differs.*\(live pk \(S, HASH\), sk \(S, RANGE\); template pk \(S, HASH\), createdAt \(N, RANGE\)\)/
    ]
  },
  {
    rule: 'import: nested stack → blocked',
    policy: { strategy: 'import' },
    finding: nested,
    decision: 'blocked',
    reasons: [/cannot be imported: it is declared in the nested stack/]
  },
  {
    rule: 'import: a GlobalTable whose replica set differs → blocked with the differences',
    policy: { strategy: 'import' },
    finding: globalTable,
    decision: 'blocked',
    reasons: [/replica regions differ from the template's \(live us-east-1; template us-east-1, us-west-2/]
  },
  {
    rule: 'import: tables-only mode → blocked',
    policy: { strategy: 'import' },
    finding: tablesOnly,
    decision: 'blocked',
    reasons: [/no template declares it/]
  },
  {
    rule: 'import: stack in ROLLBACK_COMPLETE → blocked',
    policy: { strategy: 'import' },
    finding: { stack: stackState({ status: 'ROLLBACK_COMPLETE' }) },
    decision: 'blocked',
    reasons: [/must be deleted before deploying/]
  },

  // backup-restore
  {
    rule: 'backup-restore: orphan on an unprotected stage → backup-restore',
    policy: { strategy: 'backup-restore' },
    decision: 'backup-restore'
  },
  {
    rule: 'backup-restore: protected stage → blocked',
    policy: { strategy: 'backup-restore', ...PROD },
    decision: 'blocked',
    reasons: [/stage prod is protected/]
  },
  {
    rule: 'backup-restore: owner unknown → blocked',
    policy: { strategy: 'backup-restore' },
    finding: { owner: null },
    decision: 'blocked'
  },
  {
    rule: 'backup-restore: deletion protection is turned off only after the backup',
    policy: { strategy: 'backup-restore' },
    finding: protectedLive,
    decision: 'backup-restore',
    reasons: [/turned off only after the backup/]
  },

  // delete
  {
    rule: 'delete: empty orphan → delete',
    policy: { strategy: 'delete' },
    finding: { hasData: false },
    decision: 'delete',
    reasons: [/is empty/]
  },
  {
    rule: 'delete: empty orphan with deletion protection without allow-data-loss → blocked',
    policy: { strategy: 'delete' },
    finding: { hasData: false, ...protectedLive },
    decision: 'blocked',
    reasons: [/deletion protection is on, and only strategy delete with allow-data-loss: true turns it off/]
  },
  {
    rule: 'delete: empty orphan with deletion protection and allow-data-loss → delete, protection turned off',
    policy: { strategy: 'delete', allowDataLoss: true },
    finding: { hasData: false, ...protectedLive },
    decision: 'delete',
    reasons: [/turned off right before the delete, because allow-data-loss is true/]
  },
  {
    rule: 'delete: orphan with data without allow-data-loss → blocked',
    policy: { strategy: 'delete' },
    decision: 'blocked',
    reasons: [/allow-data-loss is false: strategy delete would lose it/]
  },
  {
    rule: 'delete: orphan whose data could not be checked, without allow-data-loss → blocked',
    policy: { strategy: 'delete' },
    finding: { hasData: null },
    decision: 'blocked'
  },
  {
    rule: 'delete: orphan with data and allow-data-loss → delete without export (on-demand backup only)',
    policy: { strategy: 'delete', allowDataLoss: true },
    finding: protectedLive,
    decision: 'delete',
    reasons: [
      /deleted without an export/,
      /only the on-demand backup taken first keeps its items/,
      /turned off right before the delete/
    ]
  },
  {
    rule: 'delete: orphan with data, allow-data-loss and aws-backup false → items lost for good, said so',
    policy: { strategy: 'delete', allowDataLoss: true, awsBackup: false },
    decision: 'delete',
    reasons: [/aws-backup is false, so its items are lost for good/]
  },
  {
    rule: 'auto: backup-restore with neither aws-backup nor s3-bucket → blocked, naming both',
    policy: { awsBackup: false, s3Bucket: false },
    finding: { differences: sortKeyChange },
    decision: 'blocked',
    reasons: [
      /no copy outside the runner \(aws-backup is false and s3-bucket is not set\)/,
      /Set s3-bucket \(a verified copy in S3\) or aws-backup: true \(an on-demand backup\), then run again\.$/
    ]
  },
  {
    rule: 'backup-restore: neither aws-backup nor s3-bucket, data unknown → blocked',
    policy: { strategy: 'backup-restore', awsBackup: false, s3Bucket: false },
    finding: { hasData: null },
    decision: 'blocked',
    reasons: [/no copy outside the runner/]
  },
  {
    rule: 'backup-restore: aws-backup false but s3-bucket set → backup-restore',
    policy: { strategy: 'backup-restore', awsBackup: false, s3Bucket: true },
    decision: 'backup-restore'
  },
  {
    rule: 'backup-restore: no s3-bucket but aws-backup → backup-restore',
    policy: { strategy: 'backup-restore', awsBackup: true, s3Bucket: false },
    decision: 'backup-restore'
  },
  {
    rule: 'backup-restore: an empty table needs no copy → backup-restore without aws-backup or s3-bucket',
    policy: { strategy: 'backup-restore', awsBackup: false, s3Bucket: false },
    finding: { hasData: false },
    decision: 'backup-restore'
  },
  {
    rule: 'delete: protected stage → blocked even with allow-data-loss and an empty table',
    policy: { strategy: 'delete', allowDataLoss: true, ...PROD },
    finding: { hasData: false },
    decision: 'blocked'
  },

  // global tables: a replicated table is imported as a GlobalTable with its replica set, or left alone
  {
    rule: 'global: template GlobalTable with the live replica set → import, and the replicas are reported',
    finding: { spec: globalSpec(['us-west-2', 'us-east-1']), live: replicated() },
    decision: 'import',
    reasons: [
      /replica of a global table \(version 2019.11.21\) with replicas in us-east-1, us-west-2\./,
      /imported/
    ]
  },
  {
    rule: 'global: same, on a protected stage → import',
    policy: PROD,
    finding: { spec: globalSpec(), live: replicated() },
    decision: 'import'
  },
  {
    rule: 'global: an empty replicated table is imported, never deleted',
    finding: { spec: globalSpec(), live: replicated(), hasData: false },
    decision: 'import'
  },
  {
    rule: 'global: template replicas differ from the live ones → blocked (never re-created), with the differences',
    finding: { spec: globalSpec(['us-east-1', 'eu-west-1']), live: replicated() },
    decision: 'blocked',
    reasons: [
      /the live table has no replica in eu-west-1; the template has no replica in us-west-2/,
      /never deletes or re-creates a replicated table/
    ]
  },
  {
    rule: 'global: an empty replicated table whose template differs → blocked, not deleted',
    finding: { spec: globalSpec(['us-east-1']), live: replicated(), hasData: false },
    decision: 'blocked',
    reasons: [/is empty but is not deleted because it is a replica of a global table/]
  },
  {
    rule: 'global: a replicated table declared as AWS::DynamoDB::Table → blocked',
    finding: { live: replicated() },
    decision: 'blocked',
    reasons: [/the template declares an AWS::DynamoDB::Table/]
  },
  {
    rule: 'global: strategy delete with allow-data-loss on a replicated table → blocked',
    policy: { strategy: 'delete', allowDataLoss: true },
    finding: { spec: globalSpec(), live: replicated() },
    decision: 'blocked',
    reasons: [/never deletes or re-creates a replicated table/, /ReplicaUpdates/]
  },
  {
    rule: 'global: strategy backup-restore on a replicated table → blocked',
    policy: { strategy: 'backup-restore' },
    finding: { spec: globalSpec(), live: replicated() },
    decision: 'blocked',
    reasons: [/never deletes or re-creates a replicated table/]
  },
  {
    rule: 'global: a legacy (2017.11.29) global table → blocked with how to update it',
    finding: {
      spec: globalSpec(),
      live: liveTable({ globalTable: { version: '2017.11.29', regions: TWO_REGIONS } })
    },
    decision: 'blocked',
    reasons: [/version 2017\.11\.29 \(Legacy\)/, /Update version/]
  },
  {
    rule: 'global: replication unknown (DescribeGlobalTable failed) → never deleted',
    policy: { strategy: 'delete', allowDataLoss: true },
    finding: { live: liveTable({ replicationUnknown: 'DescribeGlobalTable failed: AccessDenied' }) },
    decision: 'blocked',
    reasons: [/whether it replicates to other regions is unknown/]
  },
  {
    rule: 'global: a single-region live table and a one-region template GlobalTable → import',
    finding: { spec: globalSpec(['us-east-1']) },
    decision: 'import'
  },
  {
    rule: 'global: a provisioned global table → not importable',
    policy: { strategy: 'import' },
    finding: {
      spec: globalSpec(),
      live: replicated(TWO_REGIONS, { billingMode: 'PROVISIONED', throughput: { read: 5, write: 5 } })
    },
    decision: 'blocked',
    reasons: [/provisioned capacity/]
  },
  {
    rule: 'global: a replica that could not be read → not importable',
    policy: { strategy: 'import' },
    finding: {
      spec: globalSpec(),
      live: liveTable({ globalTable: { version: '2019.11.21', regions: TWO_REGIONS, replicas: {} } })
    },
    decision: 'blocked',
    reasons: [/replica in us-west-2 could not be read/]
  },
  {
    rule: 'global: a table of that name in another replica region, outside the global table → blocked',
    finding: {
      spec: globalSpec(),
      exists: false,
      live: null,
      owner: null,
      hasData: null,
      replicaOrphans: [{ region: 'us-west-2' }]
    },
    decision: 'blocked',
    reasons: [/also exists in us-west-2, where the template's global table puts a replica/]
  },

  // an import template over 51,200 bytes needs an S3 bucket in the table's region (TemplateURL)
  {
    rule: 'large stack, no s3-bucket, no bootstrap bucket → blocked, naming s3-bucket',
    finding: { spec: tableSpec({ stackTemplateBytes: 60_000 }) },
    decision: 'blocked',
    reasons: [
      /would be imported .* over the 51200 a TemplateBody may hold, .*Set the s3-bucket input to a bucket in us-east-1/
    ]
  },
  {
    rule: 'large stack with the CDK bootstrap bucket named in the assembly → import',
    finding: {
      spec: tableSpec({
        stackTemplateBytes: 60_000,
        assetsBucket: 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}'
      })
    },
    decision: 'import'
  },
  {
    rule: "large stack with s3-bucket in the table's region → import",
    policy: { templateBucket: { name: 'pr-backups/guard', region: 'us-east-1' } },
    finding: { spec: tableSpec({ stackTemplateBytes: 60_000 }) },
    decision: 'import'
  },
  {
    rule: 'large stack with s3-bucket in another region only → blocked, saying so',
    policy: { templateBucket: { name: 'pr-backups', region: 'eu-west-1' } },
    finding: { spec: tableSpec({ stackTemplateBytes: 60_000 }) },
    decision: 'blocked',
    reasons: [/s3-bucket pr-backups is in eu-west-1/]
  },
  {
    rule: 'large synthesized template but the stack does not exist yet (the import holds only the table) → import',
    finding: {
      spec: tableSpec({ stackTemplateBytes: 60_000 }),
      stack: stackState({ exists: false, status: undefined })
    },
    decision: 'import'
  },
  {
    rule: 'a stack template over 1,000,000 bytes → blocked, bucket or not',
    finding: { spec: tableSpec({ stackTemplateBytes: 1_000_001, assetsBucket: 'b' }) },
    decision: 'blocked',
    reasons: [/over the 1000000 CloudFormation takes even through TemplateURL/]
  },

  // accounts
  {
    rule: 'a stack for another account → blocked, never checked',
    finding: {
      spec: tableSpec({ account: '999999999999' }),
      notCheckable:
        'stack pr-5-database is for account 999999999999, but these credentials are for account 123456789012',
      exists: false,
      live: null,
      owner: null,
      hasData: null,
      stack: null
    },
    decision: 'blocked',
    reasons: [/cannot be checked with these credentials: stack pr-5-database is for account 999999999999/]
  },
  {
    rule: 'report: a stack for another account is reported as blocked',
    policy: { strategy: 'report' },
    finding: {
      spec: tableSpec({ account: '999999999999' }),
      notCheckable: 'stack pr-5-database is for account 999999999999',
      exists: false,
      live: null,
      owner: null,
      hasData: null,
      stack: null
    },
    decision: 'blocked',
    reasons: [/^Report mode: nothing is changed; auto would stop here \(blocked\)\.$/, /cannot be checked/]
  },
  {
    rule: "a stack pinned to the credentials' account is checked as usual",
    finding: { spec: tableSpec({ account: '123456789012' }) },
    decision: 'import'
  },

  // report
  {
    rule: 'report: decides what auto would and says nothing is changed',
    policy: { strategy: 'report' },
    decision: 'import',
    reasons: [/^Report mode: nothing is changed; auto would import it\.$/]
  },
  {
    rule: 'report: shows a blocked decision too (main never fails a report run)',
    policy: { strategy: 'report', ...PROD },
    finding: { differences: sortKeyChange },
    decision: 'blocked',
    reasons: [/^Report mode: nothing is changed; auto would stop here \(blocked\)\.$/]
  },
  {
    rule: 'report: a table owned by another stack is reported as blocked',
    policy: { strategy: 'report' },
    finding: { owner: 'other-stack:legacy-db' },
    decision: 'blocked',
    reasons: [/legacy-db/]
  }
]

describe('planTables', () => {
  it.each(rows)('$rule', row => {
    const [entry] = planTables([finding(row.finding)], policy(row.policy)).entries
    expect(entry?.decision).toBe(row.decision)
    for (const pattern of row.reasons ?? []) {
      expect(entry?.reasons.some(r => pattern.test(r)) ? pattern : entry?.reasons).toBe(pattern)
    }
    for (const reason of entry?.reasons ?? []) expect(reason).toMatch(/^[A-Z].*[.)]$/s)
    expect(entry?.path.length).toBeGreaterThan(1)
  })

  it('orphan = exists and not owned by the expected stack', () => {
    const plan = planTables(
      [
        finding({ tableName: 'a', exists: false, owner: null }),
        finding({ tableName: 'b', owner: 'stack' }),
        finding({ tableName: 'c', owner: 'retained' }),
        finding({ tableName: 'd', owner: 'unmanaged' }),
        finding({ tableName: 'e', owner: 'other-stack:x' }),
        finding({ tableName: 'f', owner: null })
      ],
      policy()
    )
    expect(plan.entries.map(e => [e.table, e.orphan])).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
      ['d', true],
      ['e', true],
      ['f', true]
    ])
  })

  describe("each difference's text follows the decision taken", () => {
    const streamAndKeys = compared({
      keys: [
        { name: 'pk', type: 'HASH' },
        { name: 'createdAt', type: 'RANGE' }
      ],
      attributeTypes: { pk: 'S', createdAt: 'N' },
      billingMode: 'PROVISIONED',
      throughput: { read: 5, write: 5 }
    })
    const entryFor = (p: Partial<Policy>, f: Partial<Finding>) =>
      planTables([finding({ ...streamAndKeys, ...f })], policy(p)).entries[0]

    it('import: the in-place wording (the deploy changes it in place)', () => {
      const entry = planTables(
        [finding(compared({ billingMode: 'PROVISIONED', throughput: { read: 5, write: 5 } }))],
        policy()
      ).entries[0]
      expect(entry?.decision).toBe('import')
      expect(entry?.differences.map(d => d.message)).toEqual([expect.stringMatching(/switches it in place/)])
    })
    it('backup-restore: the re-created wording, no "in place", the keys checked before the delete', () => {
      const entry = entryFor({}, {})
      expect(entry?.decision).toBe('backup-restore')
      expect(entry?.differences.length).toBeGreaterThan(0)
      for (const d of entry?.differences ?? []) {
        expect(d.message).not.toMatch(/in place|import/)
        expect(d.message).toMatch(/the deploy creates the table anew with the template's setting/)
      }
      expect(entry?.differences.find(d => d.property === 'KeySchema')?.message).toMatch(
        /the export is checked against them before the live table is deleted/
      )
    })
    it('delete: the re-created wording without a restore', () => {
      const entry = entryFor({}, { hasData: false })
      expect(entry?.decision).toBe('delete')
      for (const d of entry?.differences ?? []) {
        expect(d.message).not.toMatch(/in place|import|restore|export/)
        expect(d.severity).toBe('converges')
      }
    })
    it('a stream on the re-created table is dangerous only when items are restored into it', () => {
      const restore = planTables([finding(keyChangeWithStream)], policy()).entries[0]
      const stream = restore?.differences.find(d => d.property === 'StreamSpecification')
      expect(stream?.severity).toBe('dangerous')
      expect(stream?.message).toMatch(/as a new INSERT/)
      const empty = planTables([finding({ ...keyChangeWithStream, hasData: false })], policy()).entries[0]
      expect(empty?.decision).toBe('delete')
      expect(empty?.differences.find(d => d.property === 'StreamSpecification')?.severity).toBe('converges')
    })
  })

  it('records the path walked through the tree', () => {
    const [entry] = planTables([finding({ differences: sortKeyChange })], policy()).entries
    expect(entry?.path).toEqual([
      { question: 'Strategy?', answer: 'auto' },
      { question: 'Does the table exist?', answer: 'yes' },
      { question: 'Who owns it?', answer: 'none (retained from pr-5-database)' },
      { question: 'Is the stack free of running operations?', answer: 'yes' },
      { question: 'Does it hold data?', answer: 'yes' },
      { question: 'Can it be imported?', answer: 'yes' },
      { question: 'Do its keys and local indexes match the template?', answer: 'no' },
      { question: 'Is stage pr-5 protected?', answer: 'no' },
      { question: 'May it be deleted?', answer: 'yes' },
      { question: 'Can its items be restored into the table the template defines?', answer: 'yes' },
      { question: 'Which path do its items take?', answer: 'runner' }
    ])
  })

  it('is pure: same input, same plan, input untouched', () => {
    const input = [finding({ differences: converging }), finding({ tableName: 'x', hasData: false })]
    const copy = structuredClone(input)
    expect(planTables(input, policy())).toEqual(planTables(input, policy()))
    expect(input).toEqual(copy)
  })

  describe('stack notes', () => {
    it.each([
      [
        'ROLLBACK_COMPLETE blocks any deploy: delete the stack first',
        'ROLLBACK_COMPLETE',
        /must be deleted before deploying/
      ],
      ['*_IN_PROGRESS: wait for it', 'UPDATE_IN_PROGRESS', /wait for it, then run again/],
      [
        'REVIEW_IN_PROGRESS: exists without resources',
        'REVIEW_IN_PROGRESS',
        /exists but has no resources yet/
      ],
      ['UPDATE_ROLLBACK_FAILED: continue the rollback', 'UPDATE_ROLLBACK_FAILED', /continue-update-rollback/]
    ])('%s', (_rule, status, note) => {
      const plan = planTables([finding({ stack: stackState({ status }) })], policy())
      expect(plan.notes).toEqual([expect.stringMatching(note)])
    })

    it('a healthy or missing stack gives no note', () => {
      expect(planTables([finding()], policy()).notes).toEqual([])
      expect(
        planTables([finding({ stack: stackState({ exists: false, status: undefined }) })], policy()).notes
      ).toEqual([])
    })

    it('uses the stacks given, once per stack, sorted by name', () => {
      const plan = planTables([finding()], policy(), [
        stackState({ name: 'b', status: 'ROLLBACK_COMPLETE' }),
        stackState({ name: 'a', status: 'CREATE_IN_PROGRESS' }),
        stackState({ name: 'b', status: 'ROLLBACK_COMPLETE' })
      ])
      expect(plan.notes).toHaveLength(2)
      expect(plan.notes[0]).toMatch(/^Stack a is CREATE_IN_PROGRESS/)
      expect(plan.notes[1]).toMatch(/^Stack b is ROLLBACK_COMPLETE/)
    })
  })
})

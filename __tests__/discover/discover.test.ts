import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { discover, readDeployment, type DiscoverOptions } from '../../src/discover/discover.js'
import { FileError, InputError } from '../../src/errors.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const cdkOut = path.join(root, '__fixtures__/cdk-out-pr-5')
const templates = path.join(root, '__fixtures__/templates')
const scratch = mkdtempSync(path.join(tmpdir(), 'discover-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const opts = (overrides: Partial<DiscoverOptions>): DiscoverOptions => ({
  template: cdkOut,
  stage: 'pr-5',
  stackName: null,
  tables: [],
  ...overrides
})

function writeJson(name: string, value: unknown): string {
  const file = path.join(scratch, name)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(value))
  return file
}

function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}

const DB = 'pr-5-aws-boilerplate-database'
const AUDIT_NESTED = 'AuditNestedStackAuditNestedStackResourceF69BD105'

describe('discover on the cdk synth fixture (cloud assembly)', () => {
  const result = discover(opts({}))

  it('finds exactly the named tables, with stack, logical id (CDK hash suffix), type and nested path', () => {
    expect(result.source).toBe('cloud-assembly')
    expect(result.tables.map(t => [t.tableName, t.stack, t.logicalId, t.resourceType, t.nestedPath])).toEqual(
      [
        ['pr-5-main-table', DB, 'MainTable74195DAB', 'AWS::DynamoDB::Table', []],
        ['pr-5-aws-boilerplate-database-sessions', DB, 'SessionsTable7C302024', 'AWS::DynamoDB::Table', []],
        ['pr-5-global-table', DB, 'GlobalTable89F068B2', 'AWS::DynamoDB::GlobalTable', []],
        ['pr-5-audit-table', DB, 'AuditTableB07F8EEB', 'AWS::DynamoDB::Table', [AUDIT_NESTED]],
        ['pr-5-api-cache', 'pr-5-aws-boilerplate-api', 'ApiCacheTableCE8F038C', 'AWS::DynamoDB::Table', []]
      ]
    )
  })

  it('resolves the Fn::Join over Ref AWS::StackName with the top-level stack name', () => {
    const sessions = result.tables.find(t => t.logicalId === 'SessionsTable7C302024')
    expect(sessions?.properties?.TableName).toEqual({
      'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-sessions']]
    })
    expect(sessions?.tableName).toBe('pr-5-aws-boilerplate-database-sessions')
    expect(sessions).not.toHaveProperty('unresolvedReason')
  })

  it('skips the unnamed table and counts it in a note', () => {
    expect(result.tables.some(t => t.logicalId === 'UnnamedTable399CC8D9')).toBe(false)
    expect(result.notes).toEqual([
      `skipped 1 table without TableName (CloudFormation generates a unique name, so they cannot collide): ${DB}/UnnamedTable399CC8D9`
    ])
  })

  it('records deletion policies, raw properties and the template file', () => {
    const byName = new Map(result.tables.map(t => [t.tableName, t]))
    expect(byName.get('pr-5-main-table')).toMatchObject({
      deletionPolicy: 'Retain',
      updateReplacePolicy: 'Retain',
      templateFile: path.join(cdkOut, 'DatabaseStack.template.json'),
      properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'gsi1' })]
      }
    })
    expect(byName.get('pr-5-api-cache')).toMatchObject({
      deletionPolicy: 'Delete',
      updateReplacePolicy: 'Delete'
    })
    expect(byName.get('pr-5-audit-table')?.templateFile).toBe(
      path.join(cdkOut, 'DatabaseStackAuditE9A46572.nested.template.json')
    )
  })

  it('returns the stacks it read', () => {
    expect(result.stacks.map(s => [s.name, s.nestedPath])).toEqual([
      [DB, []],
      [DB, [AUDIT_NESTED]],
      ['pr-5-aws-boilerplate-api', []]
    ])
  })
})

describe("discover restricts to the 'tables' input", () => {
  it('keeps only listed tables and adds listed names no template describes', () => {
    const result = discover(opts({ tables: ['pr-5-audit-table', 'pr-5-main-table', 'pr-5-legacy'] }))
    expect(result.tables.map(t => [t.tableName, t.stack, t.logicalId])).toEqual([
      ['pr-5-main-table', DB, 'MainTable74195DAB'],
      ['pr-5-audit-table', DB, 'AuditTableB07F8EEB'],
      ['pr-5-legacy', null, null]
    ])
    expect(result.tables[2]).toEqual({
      tableName: 'pr-5-legacy',
      stack: null,
      logicalId: null,
      resourceType: 'AWS::DynamoDB::Table',
      nestedPath: [],
      deletionPolicy: null,
      updateReplacePolicy: null,
      properties: null,
      templateFile: null,
      notDeclared: { template: cdkOut, exists: true }
    })
    expect(result.warnings).toContain(
      "1 table from 'tables' not found in any template, checked for existence, ownership and data only (one with data is not deleted): pr-5-legacy"
    )
  })

  it('without a template, checks only the listed tables (source tables)', () => {
    const missing = path.join(scratch, 'cdk.out')
    const result = discover(
      opts({ template: missing, tables: ['pr-5-main-table', 'pr-5-other', 'pr-5-main-table'] })
    )
    expect(result.source).toBe('tables')
    expect(result.stacks).toEqual([])
    expect(result.tables.map(t => [t.tableName, t.stack, t.logicalId, t.properties])).toEqual([
      ['pr-5-main-table', null, null, null],
      ['pr-5-other', null, null, null]
    ])
    expect(result.tables.map(t => t.notDeclared)).toEqual([
      { template: missing, exists: false },
      { template: missing, exists: false }
    ])
    expect(result.notes).toEqual([])
    expect(result.warnings).toEqual([
      `no template at ${missing}: checking only the 2 tables named in 'tables' (existence, ownership and data; no template comparison; a table with data is not deleted)`
    ])
  })
})

describe('discover on a single template file', () => {
  it('YAML short forms: resolves !Sub with AWS::StackName and {stage}, !Join; a !Ref to a parameter stays unresolved', () => {
    const file = path.join(templates, 'short-form.yaml')
    const result = discover(opts({ template: file, stackName: 'pr-5-orders' }))
    expect(result.source).toBe('template')
    expect(result.stacks.map(s => [s.name, s.templateFile, s.nestedPath])).toEqual([
      ['pr-5-orders', file, []]
    ])
    expect(result.tables.map(t => [t.logicalId, t.tableName, t.unresolvedReason])).toEqual([
      ['StackScopedTable', 'pr-5-orders-pr-5-events', undefined],
      ['JoinedTable', 'pr-5-pr-5-orders-joined', undefined],
      [
        'ParameterNamedTable',
        null,
        'Ref OrdersTableName: a parameter or resource, only known at deploy time (parameter defaults are not used)'
      ]
    ])
    expect(result.warnings).toEqual([
      'cannot resolve the name of table pr-5-orders/ParameterNamedTable: TableName {"Ref":"OrdersTableName"}: Ref OrdersTableName: a parameter or resource, only known at deploy time (parameter defaults are not used)'
    ])
  })

  it('JSON: Fn::Sub with vars resolves; Fn::ImportValue on a GlobalTable stays unresolved', () => {
    const result = discover(opts({ template: path.join(templates, 'plain.json'), stackName: 'pr-5-users' }))
    expect(result.tables.map(t => [t.logicalId, t.resourceType, t.tableName, t.deletionPolicy])).toEqual([
      ['UsersTable', 'AWS::DynamoDB::Table', 'pr-5-users', 'Retain'],
      ['ImportedNameTable', 'AWS::DynamoDB::GlobalTable', null, null]
    ])
    expect(result.tables[1]?.unresolvedReason).toMatch(/^Fn::ImportValue /)
  })

  it('an unresolved table is dropped by a tables filter, and the note says it may be the missing one', () => {
    const result = discover(
      opts({
        template: path.join(templates, 'short-form.yaml'),
        stackName: 'pr-5-orders',
        tables: ['pr-5-orders']
      })
    )
    expect(result.tables.map(t => [t.tableName, t.stack])).toEqual([['pr-5-orders', null]])
    expect(result.warnings).toContain(
      "1 table from 'tables' not found in any template, checked for existence, ownership and data only (one with data is not deleted): pr-5-orders (1 table with unresolvable names may be among them)"
    )
  })

  it('follows nested stacks next to the template; AWS::StackName inside one is unresolved', () => {
    const file = writeJson('nested/top.template.json', {
      Resources: {
        Child: {
          Type: 'AWS::CloudFormation::Stack',
          Metadata: { 'aws:asset:path': 'child.nested.template.json' }
        }
      }
    })
    writeJson('nested/child.nested.template.json', {
      Resources: {
        Events: {
          Type: 'AWS::DynamoDB::Table',
          Properties: { TableName: { 'Fn::Sub': '${AWS::StackName}-events' } }
        },
        Audit: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: '{stage}-audit' } }
      }
    })
    const result = discover(opts({ template: file, stackName: 'pr-5-top' }))
    expect(result.tables.map(t => [t.logicalId, t.stack, t.nestedPath, t.tableName])).toEqual([
      ['Events', 'pr-5-top', ['Child'], null],
      ['Audit', 'pr-5-top', ['Child'], 'pr-5-audit']
    ])
    expect(result.tables[0]?.unresolvedReason).toMatch(/Ref AWS::StackName inside a nested stack/)
  })
})

describe('discover notes what the deploy cannot do as written', () => {
  it('two resources claiming the same physical name', () => {
    const file = writeJson('dup.template.json', {
      Resources: {
        A: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'pr-5-same' } },
        B: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: '{stage}-same' } }
      }
    })
    const result = discover(opts({ template: file, stackName: 's' }))
    expect(result.tables).toHaveLength(2)
    expect(result.warnings).toEqual([
      'table name pr-5-same is claimed by 2 resources (s/A, s/B): only one of them can create it'
    ])
  })

  it('a table created only under a condition', () => {
    const file = writeJson('cond.template.json', {
      Resources: { A: { Type: 'AWS::DynamoDB::Table', Condition: 'IsProd', Properties: { TableName: 't' } } }
    })
    expect(discover(opts({ template: file, stackName: 's' })).notes).toEqual([
      "table t (s/A) is created only if condition 'IsProd' holds; it is checked as if it does"
    ])
  })

  it("each table gets its stack's environment: pinned region and account, else the run's", () => {
    const dir = path.join(scratch, 'pinned')
    writeJson('pinned/manifest.json', {
      artifacts: {
        Here: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: 'Here.json' }
        },
        There: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://111111111111/us-west-2',
          properties: { templateFile: 'There.json' }
        }
      }
    })
    const regional = {
      Resources: {
        T: {
          Type: 'AWS::DynamoDB::Table',
          Properties: { TableName: { 'Fn::Sub': 't-${AWS::Region}-${AWS::AccountId}' } }
        }
      }
    }
    writeJson('pinned/Here.json', {
      Resources: {
        T: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: { 'Fn::Sub': 't-${AWS::Region}' } } }
      }
    })
    writeJson('pinned/There.json', regional)
    const result = discover(opts({ template: dir, region: 'eu-west-1', account: '222222222222' }))
    expect(result.tables.map(t => [t.stack, t.tableName, t.region, t.account])).toEqual([
      ['Here', 't-eu-west-1', 'eu-west-1', undefined],
      ['There', 't-us-west-2-111111111111', 'us-west-2', '111111111111']
    ])
    expect(result.stacks.map(s => s.environment)).toEqual([
      'aws://unknown-account/unknown-region',
      'aws://111111111111/us-west-2'
    ])
    expect(result.warnings).toEqual([])
  })
})

describe('discover errors name the input or file at fault', () => {
  it("a missing path without 'tables' → InputError('template') with a cdk synth hint", () => {
    const missing = path.join(scratch, 'nowhere', 'cdk.out')
    const err = thrown(() => discover(opts({ template: missing })))
    expect(err).toBeInstanceOf(InputError)
    expect(err).toMatchObject({ input: 'template' })
    expect((err as Error).message).toBe(
      `Input 'template': no such file or directory: ${missing}. Run 'cdk synth' before this step (it writes cdk.out), point 'template' at a CloudFormation template file, or set 'tables' to check named tables only`
    )
  })

  it("a directory without manifest.json → InputError('template') naming the path and what was expected", () => {
    const dir = path.join(scratch, 'empty-dir')
    mkdirSync(dir, { recursive: true })
    const err = thrown(() => discover(opts({ template: dir, tables: ['x'] })))
    expect(err).toBeInstanceOf(InputError)
    expect(err).toMatchObject({ input: 'template' })
    expect((err as Error).message).toContain(
      `${dir} is a directory without manifest.json; expected a CDK cloud assembly`
    )
  })

  it("a single template file without a stack name → InputError('stack-name')", () => {
    const file = path.join(templates, 'plain.json')
    const err = thrown(() => discover(opts({ template: file, stackName: null })))
    expect(err).toBeInstanceOf(InputError)
    expect(err).toMatchObject({ input: 'stack-name' })
    expect((err as Error).message).toContain(`required with a single template file (${file})`)
  })

  it.each([
    ['unparseable YAML', 'unparseable.yaml', /invalid YAML: .* at line 6, column 7$/],
    [
      'a file without Resources',
      'no-resources.yaml',
      /not a CloudFormation template: it has no Resources section$/
    ]
  ])('%s → FileError naming the file', (_case, name, message) => {
    const file = path.join(templates, name)
    const err = thrown(() => discover(opts({ template: file, stackName: 's' })))
    expect(err).toBeInstanceOf(FileError)
    expect(err).toMatchObject({ file })
    expect((err as Error).message).toMatch(message)
  })

  it('a corrupt manifest → FileError naming manifest.json', () => {
    const file = path.join(scratch, 'corrupt', 'manifest.json')
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, 'not json')
    const err = thrown(() => discover(opts({ template: path.dirname(file) })))
    expect(err).toBeInstanceOf(FileError)
    expect(err).toMatchObject({ file })
  })
})

describe('the real-stacks cloud assembly (cdk synth of __fixtures__/cdk-app/bin/real-stacks.mjs)', () => {
  const realStacks = path.join(root, '__fixtures__/cdk-out-real-stacks-pr-7')
  const realOpts = (overrides: Partial<DiscoverOptions> = {}): DiscoverOptions =>
    opts({ template: realStacks, stage: 'pr-7', region: 'eu-central-1', ...overrides })

  it("records each stack's environment as the assembly writes it", () => {
    const { stacks } = discover(realOpts({ account: '123456789012' }))
    expect(stacks.map(s => [s.name, s.environment, s.account, s.region])).toEqual([
      ['pr-7-east', 'aws://123456789012/us-east-1', '123456789012', 'us-east-1'],
      ['pr-7-west', 'aws://123456789012/us-west-2', '123456789012', 'us-west-2'],
      ['pr-7-other-account', 'aws://999999999999/us-east-1', '999999999999', 'us-east-1'],
      ['pr-7-agnostic', 'aws://unknown-account/unknown-region', undefined, undefined],
      ['pr-7-large', 'aws://123456789012/us-east-1', '123456789012', 'us-east-1'],
      ['pr-7-param', 'aws://123456789012/us-east-1', '123456789012', 'us-east-1']
    ])
  })

  it("gives each table its stack's region and account, and resolves account-named tables with the credentials' account", () => {
    const { tables } = discover(realOpts({ account: '123456789012' }))
    expect(tables.map(t => [t.stack, t.tableName, t.region, t.account])).toEqual([
      ['pr-7-east', 'pr-7-orders', 'us-east-1', '123456789012'],
      ['pr-7-east', 'pr-7-with-lsi', 'us-east-1', '123456789012'],
      ['pr-7-east', 'pr-7-streamed', 'us-east-1', '123456789012'],
      ['pr-7-east', 'pr-7-global', 'us-east-1', '123456789012'],
      ['pr-7-west', 'pr-7-west-events', 'us-west-2', '123456789012'],
      ['pr-7-other-account', 'pr-7-foreign', 'us-east-1', '999999999999'],
      // Environment-agnostic: deployed into the action's region and the credentials' account.
      ['pr-7-agnostic', 'pr-7-cache-123456789012-eu-central-1', 'eu-central-1', undefined],
      ['pr-7-agnostic', 'pr-7-agnostic-sub-123456789012', 'eu-central-1', undefined],
      ['pr-7-large', 'pr-7-large-table', 'us-east-1', '123456789012'],
      ['pr-7-param', null, 'us-east-1', '123456789012']
    ])
  })

  it("resolves a global table's replica regions in the template's order", () => {
    const global = discover(realOpts()).tables.find(t => t.tableName === 'pr-7-global')
    expect(global).toMatchObject({
      resourceType: 'AWS::DynamoDB::GlobalTable',
      replicaRegions: ['us-west-2', 'us-east-1']
    })
    expect(
      discover(realOpts()).tables.find(t => t.tableName === 'pr-7-orders')?.replicaRegions
    ).toBeUndefined()
  })

  it("records each stack's CDK bootstrap assets bucket (placeholders kept) and its template's compact size", () => {
    const { tables } = discover(realOpts({ account: '123456789012' }))
    const byName = (name: string) => tables.find(t => t.tableName === name)
    expect(byName('pr-7-orders')?.assetsBucket).toBe('cdk-hnb659fds-assets-123456789012-us-east-1')
    expect(byName('pr-7-west-events')?.assetsBucket).toBe('cdk-hnb659fds-assets-123456789012-us-west-2')
    expect(byName('pr-7-cache-123456789012-eu-central-1')?.assetsBucket).toBe(
      'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}'
    )
    // 77,792 bytes as cdk synth writes it (indented), 56,479 as the compact JSON an import sends.
    expect(byName('pr-7-large-table')?.stackTemplateBytes).toBe(56_479)
    expect(byName('pr-7-orders')?.stackTemplateBytes).toBeLessThan(51_200)
  })

  it("finds the bootstrap bucket in the stack's asset manifest when manifest.json has no template URL", () => {
    const dir = path.join(scratch, 'assets-only')
    writeJson('assets-only/manifest.json', {
      artifacts: {
        'app.assets': { type: 'cdk:asset-manifest', properties: { file: 'app.assets.json' } },
        app: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://111111111111/eu-west-1',
          properties: { templateFile: 'app.template.json' },
          dependencies: ['app.assets']
        }
      }
    })
    writeJson('assets-only/app.assets.json', {
      files: {
        abc: {
          source: { path: 'app.template.json', packaging: 'file' },
          destinations: { d: { bucketName: 'my-assets-111111111111-eu-west-1', objectKey: 'abc.json' } }
        }
      }
    })
    writeJson('assets-only/app.template.json', {
      Resources: { T: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 't' } } }
    })
    expect(discover(opts({ template: dir })).tables[0]?.assetsBucket).toBe('my-assets-111111111111-eu-west-1')
  })

  it('keeps the expression of a name that cannot be resolved, and says why', () => {
    const param = discover(realOpts({ account: '123456789012' })).tables.find(t => t.stack === 'pr-7-param')
    expect(param).toMatchObject({
      tableName: null,
      logicalId: 'ParamTableCBA335F5',
      unresolvedExpression: '{"Fn::Join":["",["pr-7-param-",{"Ref":"TableSuffix"}]]}',
      unresolvedReason: expect.stringContaining('Ref TableSuffix: a parameter or resource')
    })
  })

  it("leaves account-named tables unresolved when the credentials' account is unknown, with the reason", () => {
    const { tables } = discover(realOpts({ accountUnknown: 'GetCallerIdentity: ExpiredToken' }))
    const agnostic = tables.filter(t => t.stack === 'pr-7-agnostic')
    expect(agnostic.map(t => [t.tableName, t.unresolvedReason])).toEqual([
      [null, expect.stringMatching(/Ref AWS::AccountId: .*\(GetCallerIdentity: ExpiredToken\)$/)],
      [null, expect.stringMatching(/Ref AWS::AccountId: .*\(GetCallerIdentity: ExpiredToken\)$/)]
    ])
    // A pinned stack needs no credentials to resolve its own account.
    expect(tables.find(t => t.stack === 'pr-7-west')?.tableName).toBe('pr-7-west-events')
  })

  it('reads every file before anything needs the account: readDeployment finds bad input on its own', () => {
    const deployment = readDeployment({ template: realStacks, stage: 'pr-7', stackName: null, tables: [] })
    expect(deployment.stacks).toHaveLength(6)
    expect(
      thrown(() =>
        readDeployment({ template: path.join(scratch, 'nope'), stage: 'pr-7', stackName: null, tables: [] })
      )
    ).toBeInstanceOf(InputError)
  })
})

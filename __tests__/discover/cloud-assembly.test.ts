import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnvironment, readCloudAssembly } from '../../src/discover/cloud-assembly.js'
import { FileError } from '../../src/errors.js'

const cdkOut = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../__fixtures__/cdk-out-pr-5')
const scratch = mkdtempSync(path.join(tmpdir(), 'discover-assembly-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let counter = 0
/** Writes files (path → JSON value or raw string) into a fresh directory and returns it. */
function assembly(files: Record<string, unknown>): string {
  const dir = path.join(scratch, `asm-${++counter}`)
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  }
  return dir
}

const table = (name: string) => ({ Type: 'AWS::DynamoDB::Table', Properties: { TableName: name } })
const stackArtifact = (templateFile: string, extra: Record<string, unknown> = {}) => ({
  type: 'aws:cloudformation:stack',
  environment: 'aws://unknown-account/unknown-region',
  properties: { templateFile, ...extra }
})

function fileErrorOf(run: () => unknown): FileError {
  try {
    run()
  } catch (err) {
    if (err instanceof FileError) return err
    throw err
  }
  throw new Error('expected a FileError')
}

describe('readCloudAssembly reads the committed cdk synth output', () => {
  const { stacks, notes } = readCloudAssembly(cdkOut)

  it('finds every stack artifact and the nested stack, in manifest order', () => {
    expect(
      stacks.map(s => ({ name: s.name, nestedPath: s.nestedPath, file: path.basename(s.templateFile) }))
    ).toEqual([
      { name: 'pr-5-aws-boilerplate-database', nestedPath: [], file: 'DatabaseStack.template.json' },
      {
        name: 'pr-5-aws-boilerplate-database',
        nestedPath: ['AuditNestedStackAuditNestedStackResourceF69BD105'],
        file: 'DatabaseStackAuditE9A46572.nested.template.json'
      },
      { name: 'pr-5-aws-boilerplate-api', nestedPath: [], file: 'pr-5-aws-boilerplate-api.template.json' }
    ])
    expect(notes).toEqual([])
  })

  it('uses properties.stackName, else the artifact id, as the stack name', () => {
    // DatabaseStack's artifact id differs from its stackName; the api stack's artifact has no stackName.
    expect(stacks[0]?.name).toBe('pr-5-aws-boilerplate-database')
    expect(stacks[2]?.name).toBe('pr-5-aws-boilerplate-api')
  })

  it('gives absolute template paths and environment-agnostic stacks no region or account', () => {
    for (const stack of stacks) {
      expect(path.isAbsolute(stack.templateFile)).toBe(true)
      expect(stack).not.toHaveProperty('region')
      expect(stack).not.toHaveProperty('account')
    }
  })
})

describe('readCloudAssembly follows CDK Stages and nested stacks', () => {
  it('reads nested cloud assemblies (CDK Stages) recursively, with their environment', () => {
    const dir = assembly({
      'manifest.json': {
        version: '55.0.0',
        artifacts: {
          Top: stackArtifact('Top.template.json'),
          'assembly-Prod': {
            type: 'cdk:cloud-assembly',
            properties: { directoryName: 'assembly-Prod', displayName: 'Prod' }
          }
        }
      },
      'Top.template.json': { Resources: { T: table('top') } },
      'assembly-Prod/manifest.json': {
        version: '55.0.0',
        artifacts: {
          ProdDb: {
            type: 'aws:cloudformation:stack',
            environment: 'aws://123456789012/eu-west-1',
            properties: { templateFile: 'ProdDb.template.json', stackName: 'Prod-Db' }
          }
        }
      },
      'assembly-Prod/ProdDb.template.json': { Resources: { T: table('prod') } }
    })
    const { stacks } = readCloudAssembly(dir)
    expect(stacks.map(s => [s.name, s.templateFile, s.region, s.account])).toEqual([
      ['Top', path.join(dir, 'Top.template.json'), undefined, undefined],
      ['Prod-Db', path.join(dir, 'assembly-Prod/ProdDb.template.json'), 'eu-west-1', '123456789012']
    ])
  })

  it('records nestedPath through two levels of nested stacks; the top-level stack name is kept', () => {
    const nestedStack = (asset: string) => ({
      Type: 'AWS::CloudFormation::Stack',
      Properties: { TemplateURL: 'https://example.invalid/x.json' },
      Metadata: { 'aws:asset:path': asset, 'aws:asset:property': 'TemplateURL' }
    })
    const dir = assembly({
      'manifest.json': { artifacts: { S: stackArtifact('S.template.json', { stackName: 'pr-5-s' }) } },
      'S.template.json': { Resources: { Outer: nestedStack('outer.nested.template.json') } },
      'outer.nested.template.json': { Resources: { Inner: nestedStack('inner.nested.template.json') } },
      'inner.nested.template.json': { Resources: { T: table('deep') } }
    })
    expect(readCloudAssembly(dir).stacks.map(s => [s.name, s.nestedPath])).toEqual([
      ['pr-5-s', []],
      ['pr-5-s', ['Outer']],
      ['pr-5-s', ['Outer', 'Inner']]
    ])
  })

  it('notes a nested stack without a local template instead of silently skipping it', () => {
    const dir = assembly({
      'manifest.json': { artifacts: { S: stackArtifact('S.template.json') } },
      'S.template.json': {
        Resources: {
          Remote: { Type: 'AWS::CloudFormation::Stack', Properties: { TemplateURL: 'https://x/y.json' } }
        }
      }
    })
    expect(readCloudAssembly(dir).notes).toEqual([
      "nested stack S/Remote has no local template (no 'aws:asset:path' metadata): tables it creates are not checked"
    ])
  })

  it('accepts a manifest without artifacts (an app with no stacks)', () => {
    expect(readCloudAssembly(assembly({ 'manifest.json': { version: '55.0.0' } }))).toEqual({
      stacks: [],
      notes: []
    })
  })
})

describe('readCloudAssembly throws a FileError naming the file at fault', () => {
  it.each<[string, () => { dir: string; file: string }, RegExp]>([
    [
      'a missing manifest',
      () => {
        const dir = assembly({ 'x.txt': '' })
        return { dir, file: path.join(dir, 'manifest.json') }
      },
      /cannot read the cloud assembly manifest: no such file or directory$/
    ],
    [
      'a manifest that is not JSON',
      () => {
        const dir = assembly({ 'manifest.json': '{"artifacts": ' })
        return { dir, file: path.join(dir, 'manifest.json') }
      },
      /corrupt cloud assembly manifest \(invalid JSON\)/
    ],
    [
      'a manifest whose artifacts is not an object',
      () => {
        const dir = assembly({ 'manifest.json': { artifacts: [] } })
        return { dir, file: path.join(dir, 'manifest.json') }
      },
      /"artifacts" is not an object/
    ],
    [
      'a stack artifact without templateFile',
      () => {
        const dir = assembly({
          'manifest.json': { artifacts: { S: { type: 'aws:cloudformation:stack', properties: {} } } }
        })
        return { dir, file: path.join(dir, 'manifest.json') }
      },
      /stack artifact 'S' has no properties.templateFile/
    ],
    [
      'a missing stack template',
      () => {
        const dir = assembly({
          'manifest.json': { artifacts: { S: stackArtifact('S.template.json', { stackName: 'pr-5-s' }) } }
        })
        return { dir, file: path.join(dir, 'S.template.json') }
      },
      /the template of stack pr-5-s \(artifact 'S' in .*manifest\.json\) is missing/
    ],
    [
      'a corrupt stack template',
      () => {
        const dir = assembly({
          'manifest.json': { artifacts: { S: stackArtifact('S.template.json') } },
          'S.template.json': '{"Resources": {'
        })
        return { dir, file: path.join(dir, 'S.template.json') }
      },
      /invalid JSON/
    ],
    [
      'a missing nested stack template',
      () => {
        const dir = assembly({
          'manifest.json': { artifacts: { S: stackArtifact('S.template.json') } },
          'S.template.json': {
            Resources: {
              Nested: {
                Type: 'AWS::CloudFormation::Stack',
                Metadata: { 'aws:asset:path': 'gone.nested.template.json' }
              }
            }
          }
        })
        return { dir, file: path.join(dir, 'gone.nested.template.json') }
      },
      /the template of nested stack S\/Nested is missing/
    ],
    [
      'a nested cloud assembly without its manifest',
      () => {
        const dir = assembly({
          'manifest.json': {
            artifacts: {
              'assembly-Stage': {
                type: 'cdk:cloud-assembly',
                properties: { directoryName: 'assembly-Stage' }
              }
            }
          }
        })
        return { dir, file: path.join(dir, 'assembly-Stage', 'manifest.json') }
      },
      /cannot read the cloud assembly manifest: no such file or directory$/
    ],
    [
      'a nested cloud assembly without directoryName',
      () => {
        const dir = assembly({
          'manifest.json': { artifacts: { 'assembly-Stage': { type: 'cdk:cloud-assembly', properties: {} } } }
        })
        return { dir, file: path.join(dir, 'manifest.json') }
      },
      /nested cloud assembly 'assembly-Stage' has no properties.directoryName/
    ],
    [
      'a nested stack that includes its own template',
      () => {
        const dir = assembly({
          'manifest.json': { artifacts: { S: stackArtifact('S.template.json') } },
          'S.template.json': {
            Resources: {
              Self: { Type: 'AWS::CloudFormation::Stack', Metadata: { 'aws:asset:path': 'S.template.json' } }
            }
          }
        })
        return { dir, file: path.join(dir, 'S.template.json') }
      },
      /nested stack S\/Self includes its own template \(cycle\)/
    ]
  ])('%s', (_case, setup, message) => {
    const { dir, file } = setup()
    const err = fileErrorOf(() => readCloudAssembly(dir))
    expect(err.file).toBe(file)
    expect(err.message).toMatch(message)
  })
})

describe('parseEnvironment keeps only a concrete account and region', () => {
  it.each<[unknown, object]>([
    ['aws://123456789012/eu-west-1', { account: '123456789012', region: 'eu-west-1' }],
    ['aws://unknown-account/unknown-region', {}],
    ['aws://123456789012/unknown-region', { account: '123456789012' }],
    ['aws://unknown-account/us-east-1', { region: 'us-east-1' }],
    ['not-an-environment', {}],
    [undefined, {}]
  ])('%s', (environment, expected) => {
    expect(parseEnvironment(environment)).toEqual(expected)
  })
})

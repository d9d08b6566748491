import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { SHORT_FORM_TAGS, parseTemplate, readTemplateFile } from '../../src/discover/template.js'
import { FileError } from '../../src/errors.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../__fixtures__/templates')
const scratch = mkdtempSync(path.join(tmpdir(), 'discover-template-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** Parses `TableName: <yaml>` inside a minimal template and returns the parsed TableName. */
function tableNameOf(yamlValue: string): unknown {
  const text = `Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: ${yamlValue}\n`
  return parseTemplate('inline.yaml', text).Resources?.T?.Properties?.TableName
}

function fileErrorOf(run: () => unknown): FileError {
  try {
    run()
  } catch (err) {
    if (err instanceof FileError) return err
    throw err
  }
  throw new Error('expected a FileError')
}

describe('YAML short-form tags become their long form', () => {
  it.each<[string, unknown]>([
    ['!Ref Param', { Ref: 'Param' }],
    ['!Condition IsProd', { Condition: 'IsProd' }],
    ["!Sub '${AWS::StackName}-t'", { 'Fn::Sub': '${AWS::StackName}-t' }],
    ["!Sub ['${A}-t', { A: !Ref P }]", { 'Fn::Sub': ['${A}-t', { A: { Ref: 'P' } }] }],
    ['!GetAtt Res.Arn', { 'Fn::GetAtt': ['Res', 'Arn'] }],
    ['!GetAtt Db.Endpoint.Address', { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] }],
    ['!GetAtt [Res, Arn]', { 'Fn::GetAtt': ['Res', 'Arn'] }],
    ["!Join ['-', [a, !Ref 'AWS::StackName']]", { 'Fn::Join': ['-', ['a', { Ref: 'AWS::StackName' }]] }],
    ['!Select [0, !Split [",", "a,b"]]', { 'Fn::Select': [0, { 'Fn::Split': [',', 'a,b'] }] }],
    ['!Split [",", "a,b"]', { 'Fn::Split': [',', 'a,b'] }],
    ['!If [IsProd, a, b]', { 'Fn::If': ['IsProd', 'a', 'b'] }],
    ['!Equals [a, b]', { 'Fn::Equals': ['a', 'b'] }],
    ['!Not [!Equals [a, b]]', { 'Fn::Not': [{ 'Fn::Equals': ['a', 'b'] }] }],
    ['!And [!Condition A, !Condition B]', { 'Fn::And': [{ Condition: 'A' }, { Condition: 'B' }] }],
    ['!Or [!Condition A, !Condition B]', { 'Fn::Or': [{ Condition: 'A' }, { Condition: 'B' }] }],
    ['!FindInMap [M, !Ref "AWS::Region", name]', { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'name'] }],
    ['!Base64 text', { 'Fn::Base64': 'text' }],
    ['!Base64 { "Fn::Sub": "x" }', { 'Fn::Base64': { 'Fn::Sub': 'x' } }],
    ['!Cidr [10.0.0.0/16, 4, 8]', { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] }],
    ['!ImportValue shared-name', { 'Fn::ImportValue': 'shared-name' }],
    ["!ImportValue { 'Fn::Sub': '${Env}-name' }", { 'Fn::ImportValue': { 'Fn::Sub': '${Env}-name' } }],
    ["!GetAZs ''", { 'Fn::GetAZs': '' }],
    ['!GetAZs', { 'Fn::GetAZs': '' }],
    ['!Transform { Name: M, Parameters: { a: 1 } }', { 'Fn::Transform': { Name: 'M', Parameters: { a: 1 } } }]
  ])('%s', (yamlValue, expected) => {
    expect(tableNameOf(yamlValue)).toEqual(expected)
  })

  it('every documented short form has a tag', () => {
    expect(Object.keys(SHORT_FORM_TAGS).sort()).toEqual(
      [
        'And',
        'Base64',
        'Cidr',
        'Condition',
        'Equals',
        'FindInMap',
        'GetAZs',
        'GetAtt',
        'If',
        'ImportValue',
        'Join',
        'Not',
        'Or',
        'Ref',
        'Select',
        'Split',
        'Sub',
        'Transform'
      ].sort()
    )
  })

  it('multi-line !Sub sequence form', () => {
    expect(tableNameOf("!Sub\n        - '${A}-x'\n        - A: !Ref 'AWS::StackName'")).toEqual({
      'Fn::Sub': ['${A}-x', { A: { Ref: 'AWS::StackName' } }]
    })
  })
})

describe('readTemplateFile reads the fixture templates', () => {
  it('a YAML template with short forms, long form throughout', () => {
    const template = readTemplateFile(path.join(fixtures, 'short-form.yaml'))
    expect(Object.keys(template.Resources ?? {})).toEqual([
      'StackScopedTable',
      'JoinedTable',
      'ParameterNamedTable',
      'Handler',
      'HandlerRole'
    ])
    expect(template.Resources?.StackScopedTable).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { TableName: { 'Fn::Sub': '${AWS::StackName}-{stage}-events' } }
    })
    expect(template.Resources?.Handler?.Properties?.Role).toEqual({ 'Fn::GetAtt': ['HandlerRole', 'Arn'] })
    expect(template.Conditions).toEqual({
      IsProd: { 'Fn::Equals': [{ Ref: 'AWS::StackName' }, 'prod-orders'] }
    })
  })

  it('a JSON template as is', () => {
    const template = readTemplateFile(path.join(fixtures, 'plain.json'))
    expect(template.Resources?.UsersTable?.Properties?.TableName).toEqual({
      'Fn::Sub': ['${Prefix}-users', { Prefix: '{stage}' }]
    })
    expect(template.Resources?.ImportedNameTable?.Type).toBe('AWS::DynamoDB::GlobalTable')
  })

  it('a JSON file with a byte-order mark', () => {
    const file = path.join(scratch, 'bom.json')
    writeFileSync(file, '\uFEFF{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}')
    expect(readTemplateFile(file).Resources?.B?.Type).toBe('AWS::S3::Bucket')
  })
})

describe('readTemplateFile throws a FileError naming the file', () => {
  const write = (name: string, text: string): string => {
    const file = path.join(scratch, name)
    writeFileSync(file, text)
    return file
  }

  it.each<[string, () => string, RegExp]>([
    [
      'a missing file',
      () => path.join(scratch, 'nope.yaml'),
      /cannot read the template: no such file or directory$/
    ],
    [
      'a directory',
      () => {
        const dir = path.join(scratch, 'a-dir.yaml')
        mkdirSync(dir, { recursive: true })
        return dir
      },
      /cannot read the template: it is a directory, not a file$/
    ],
    [
      'unparseable YAML, with its line',
      () => path.join(fixtures, 'unparseable.yaml'),
      /invalid YAML: .* at line 6, column 7$/
    ],
    [
      'invalid JSON, with its line where the parser gives an offset',
      () => write('comma.json', '{\n  "Resources": {\n    "A": 1,\n  }\n}'),
      /invalid JSON at line 4, column 3: Expected double-quoted property name/
    ],
    [
      "invalid JSON, with the parser's excerpt where it gives no offset",
      () => write('token.json', '{\n  "Resources": {\n    "A": }\n}'),
      /invalid JSON: Unexpected token '\}', \.\.\." "A": \} \}" is not valid JSON$/
    ],
    [
      'an unknown YAML tag',
      () => write('tag.yaml', 'Resources:\n  A:\n    Type: !Reff X\n'),
      /invalid YAML: Unresolved tag: !Reff at line 3, column 11 \(CloudFormation short forms: !Ref, /
    ],
    [
      'a template without Resources',
      () => path.join(fixtures, 'no-resources.yaml'),
      /not a CloudFormation template: it has no Resources section$/
    ],
    [
      'Resources that is not a mapping',
      () => write('list.yaml', 'Resources: [a]\n'),
      /Resources is a list, expected a mapping/
    ],
    [
      'a document that is a list',
      () => write('top-list.yaml', '- a\n'),
      /the document is a list, expected a mapping/
    ],
    [
      'a document that is a string',
      () => write('top-string.yaml', 'hello\n'),
      /the document is a string, expected a mapping/
    ],
    ['an empty file', () => write('empty.yaml', '  \n'), /the file is empty/],
    [
      'a resource without Type',
      () => write('notype.yaml', 'Resources:\n  A:\n    Properties: {}\n'),
      /resource 'A' has no Type/
    ],
    [
      'duplicate keys',
      () => write('dup.yaml', 'Resources:\n  A: {Type: X}\n  A: {Type: Y}\n'),
      /invalid YAML: Map keys must be unique at line 3/
    ]
  ])('%s', (_case, fileOf, message) => {
    const file = fileOf()
    const err = fileErrorOf(() => readTemplateFile(file))
    expect(err.file).toBe(file)
    expect(err.message.startsWith(`${file}: `)).toBe(true)
    expect(err.message).toMatch(message)
  })
})

import { describe, expect, it } from '@jest/globals'
import { partitionOf, resolveName, type ResolveContext } from '../../src/discover/resolve.js'

const top: ResolveContext = { stackName: 'pr-5-db', stage: 'pr-5' }
const withEnv: ResolveContext = { ...top, region: 'eu-west-1', accountId: '123456789012' }
const nested: ResolveContext = { ...withEnv, stackName: null }

describe('resolveName resolves what is certain before deploy', () => {
  it.each<[string, unknown, ResolveContext, string]>([
    ['a string literal', 'orders', top, 'orders'],
    ['a literal {stage} placeholder, filled with the stage', '{stage}-main-table', top, 'pr-5-main-table'],
    ['every {stage} placeholder', '{stage}-x-{stage}', top, 'pr-5-x-pr-5'],
    ['a number literal', 42, top, '42'],
    ['Ref AWS::StackName', { Ref: 'AWS::StackName' }, top, 'pr-5-db'],
    ['Ref AWS::Region when the region is known', { Ref: 'AWS::Region' }, withEnv, 'eu-west-1'],
    ['Ref AWS::AccountId when the account is known', { Ref: 'AWS::AccountId' }, withEnv, '123456789012'],
    ['Ref AWS::Partition from the region', { Ref: 'AWS::Partition' }, withEnv, 'aws'],
    ['Ref AWS::URLSuffix in a standard region', { Ref: 'AWS::URLSuffix' }, withEnv, 'amazonaws.com'],
    [
      'Ref AWS::URLSuffix in a China region',
      { Ref: 'AWS::URLSuffix' },
      { ...top, region: 'cn-north-1' },
      'amazonaws.com.cn'
    ],
    [
      'Ref AWS::Partition in GovCloud',
      { Ref: 'AWS::Partition' },
      { ...top, region: 'us-gov-west-1' },
      'aws-us-gov'
    ],
    [
      'Fn::Join over every pseudo parameter (an environment-agnostic CDK name)',
      {
        'Fn::Join': [
          '-',
          [
            { Ref: 'AWS::StackName' },
            { Ref: 'AWS::AccountId' },
            { Ref: 'AWS::Region' },
            { Ref: 'AWS::Partition' },
            { Ref: 'AWS::URLSuffix' }
          ]
        ]
      },
      withEnv,
      'pr-5-db-123456789012-eu-west-1-aws-amazonaws.com'
    ],
    [
      'Fn::Join of literals and Ref AWS::StackName (CDK `${this.stackName}-x` token)',
      { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-sessions']] },
      top,
      'pr-5-db-sessions'
    ],
    ['Fn::Join with a delimiter and {stage}', { 'Fn::Join': ['-', ['{stage}', 'a', 'b']] }, top, 'pr-5-a-b'],
    ['Fn::Join of nothing but a name part', { 'Fn::Join': ['-', ['only']] }, top, 'only'],
    [
      'nested Fn::Join inside Fn::Join',
      { 'Fn::Join': ['-', [{ 'Fn::Join': ['', ['a', 'b']] }, 'c']] },
      top,
      'ab-c'
    ],
    [
      'Fn::Sub string with ${AWS::StackName} and {stage}',
      { 'Fn::Sub': '${AWS::StackName}-{stage}-t' },
      top,
      'pr-5-db-pr-5-t'
    ],
    [
      'Fn::Sub string with ${AWS::Region} and ${AWS::AccountId}',
      { 'Fn::Sub': 't-${AWS::Region}-${AWS::AccountId}' },
      withEnv,
      't-eu-west-1-123456789012'
    ],
    [
      'Fn::Sub with ${AWS::Partition}',
      { 'Fn::Sub': '${AWS::Partition}-t' },
      { ...top, region: 'cn-north-1' },
      'aws-cn-t'
    ],
    [
      'Fn::Sub ${!Literal} escape stays literal (and is not a {stage} placeholder)',
      { 'Fn::Sub': 'a-${!stage}-b' },
      top,
      'a-${stage}-b'
    ],
    [
      'Fn::Sub [string, vars] with literal vars',
      { 'Fn::Sub': ['${Prefix}-users', { Prefix: '{stage}' }] },
      top,
      'pr-5-users'
    ],
    [
      'Fn::Sub [string, vars] with resolvable vars',
      { 'Fn::Sub': ['${A}-${B}', { A: { Ref: 'AWS::StackName' }, B: { 'Fn::Join': ['.', ['x', 'y']] } }] },
      top,
      'pr-5-db-x.y'
    ],
    [
      'Fn::Sub vars shadow pseudo-parameter-like names',
      { 'Fn::Sub': ['${Name}', { Name: 'given' }] },
      top,
      'given'
    ],
    ['Fn::Sub without references', { 'Fn::Sub': 'plain-{stage}' }, top, 'plain-pr-5'],
    ['Fn::Sub with an unterminated ${ kept literally', { 'Fn::Sub': 'a-${b' }, top, 'a-${b']
  ])('resolves %s', (_rule, value, ctx, expected) => {
    expect(resolveName(value, ctx)).toEqual({ name: expected })
  })
})

describe('resolveName never guesses: everything else is unresolved, naming the construct', () => {
  it.each<[string, unknown, ResolveContext, RegExp]>([
    [
      'Ref to a parameter (defaults are not used)',
      { Ref: 'TableNameParam' },
      top,
      /^Ref TableNameParam: a parameter or resource.*defaults are not used/
    ],
    [
      'Ref AWS::StackName inside a nested stack',
      { Ref: 'AWS::StackName' },
      nested,
      /^Ref AWS::StackName inside a nested stack/
    ],
    [
      'Ref AWS::Region without a region',
      { Ref: 'AWS::Region' },
      top,
      /^Ref AWS::Region: the deploy region is not known/
    ],
    [
      'Ref AWS::AccountId without an account',
      { Ref: 'AWS::AccountId' },
      top,
      /^Ref AWS::AccountId: the deploy account is not known/
    ],
    [
      'Ref AWS::AccountId when the credentials could not be read, saying why',
      { 'Fn::Sub': '${AWS::StackName}-sub-${AWS::AccountId}' },
      { ...top, accountUnknown: 'GetCallerIdentity: ExpiredToken' },
      /^Fn::Sub "\$\{AWS::StackName\}-sub-\$\{AWS::AccountId\}": Ref AWS::AccountId: the deploy account is not known here \(GetCallerIdentity: ExpiredToken\)$/
    ],
    [
      'Ref AWS::URLSuffix in a partition whose domain is not public',
      { Ref: 'AWS::URLSuffix' },
      { ...top, region: 'us-iso-east-1' },
      /^Ref AWS::URLSuffix: the domain of partition aws-iso is not known/
    ],
    [
      'Ref AWS::URLSuffix without a region',
      { Ref: 'AWS::URLSuffix' },
      top,
      /^Ref AWS::URLSuffix: the deploy region/
    ],
    [
      'Ref AWS::Partition without a region',
      { Ref: 'AWS::Partition' },
      top,
      /^Ref AWS::Partition: the deploy region/
    ],
    [
      'Ref to another pseudo parameter',
      { Ref: 'AWS::StackId' },
      withEnv,
      /^Ref AWS::StackId: this pseudo parameter/
    ],
    ['Ref to a non-string', { Ref: ['x'] }, top, /^Ref to a non-string target/],
    [
      'Fn::ImportValue',
      { 'Fn::ImportValue': 'shared-name' },
      top,
      /^Fn::ImportValue "shared-name": another stack's export/
    ],
    [
      'Fn::GetAtt',
      { 'Fn::GetAtt': ['Res', 'Name'] },
      top,
      /^Fn::GetAtt \["Res","Name"\]: resource attributes/
    ],
    ['Fn::If', { 'Fn::If': ['IsProd', 'a', 'b'] }, top, /^Fn::If .*conditions depend on parameters/],
    ['Fn::Select', { 'Fn::Select': [0, ['a', 'b']] }, top, /^Fn::Select /],
    ['Fn::Split', { 'Fn::Split': ['-', 'a-b'] }, top, /^Fn::Split .*a list/],
    ['Fn::FindInMap', { 'Fn::FindInMap': ['M', 'k', 'v'] }, top, /^Fn::FindInMap .*mappings/],
    ['Fn::Base64', { 'Fn::Base64': 'x' }, top, /^Fn::Base64 /],
    ['Fn::Cidr', { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] }, top, /^Fn::Cidr /],
    ['Fn::GetAZs', { 'Fn::GetAZs': '' }, top, /^Fn::GetAZs /],
    ['Fn::Transform', { 'Fn::Transform': { Name: 'M' } }, top, /^Fn::Transform .*macros/],
    ['Fn::Equals', { 'Fn::Equals': ['a', 'b'] }, top, /^Fn::Equals .*boolean/],
    ['Condition', { Condition: 'IsProd' }, top, /^Condition .*boolean/],
    ['an unknown function', { 'Fn::Nope': 'x' }, top, /^Fn::Nope: not a string or a supported intrinsic/],
    [
      'an object with several keys',
      { Ref: 'AWS::StackName', Extra: 1 },
      top,
      /^an object with keys Ref, Extra/
    ],
    ['an empty object', {}, top, /^an object with keys \(none\)/],
    ['a list', ['a'], top, /^a list \["a"\], not a string/],
    ['a boolean', true, top, /^a boolean, not a string/],
    ['null', null, top, /^no value$/],
    ['an empty string', '', top, /empty string/],
    ['a name joined to empty', { 'Fn::Join': ['', []] }, top, /empty string/],
    [
      'Fn::Join over a non-literal list',
      { 'Fn::Join': ['-', { Ref: 'ListParam' }] },
      top,
      /^Fn::Join over \{"Ref":"ListParam"\}, not a literal list/
    ],
    ['Fn::Join with malformed arguments', { 'Fn::Join': ['-'] }, top, /^Fn::Join with malformed arguments/],
    [
      'Fn::Join with a part that is a parameter',
      { 'Fn::Join': ['-', ['a', { Ref: 'P' }]] },
      top,
      /^Fn::Join part 2: Ref P: a parameter/
    ],
    [
      'Fn::Join with a nested-stack AWS::StackName',
      { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-x']] },
      nested,
      /^Fn::Join part 1: Ref AWS::StackName inside a nested stack/
    ],
    [
      'Fn::Sub referencing a parameter',
      { 'Fn::Sub': '${Env}-t' },
      top,
      /^Fn::Sub "\$\{Env\}-t": Ref Env: a parameter/
    ],
    [
      'Fn::Sub referencing Res.Attr',
      { 'Fn::Sub': '${Res.Name}-t' },
      top,
      /^Fn::Sub .*\$\{Res\.Name\}: resource attributes/
    ],
    [
      'Fn::Sub ${AWS::StackName} in a nested stack',
      { 'Fn::Sub': '${AWS::StackName}-t' },
      nested,
      /^Fn::Sub .*Ref AWS::StackName inside a nested stack/
    ],
    [
      'Fn::Sub ${AWS::Region} without a region',
      { 'Fn::Sub': '${AWS::Region}-t' },
      top,
      /^Fn::Sub .*Ref AWS::Region: the deploy region is not known/
    ],
    [
      'Fn::Sub var that is unresolvable',
      { 'Fn::Sub': ['${A}', { A: { 'Fn::ImportValue': 'x' } }] },
      top,
      /^Fn::Sub .*\$\{A\}: Fn::ImportValue/
    ],
    [
      'Fn::Sub of a non-string',
      { 'Fn::Sub': { Ref: 'X' } },
      top,
      /^Fn::Sub of \{"Ref":"X"\}, not a literal string/
    ],
    [
      'Fn::Sub with malformed arguments',
      { 'Fn::Sub': ['a', 'b', 'c'] },
      top,
      /^Fn::Sub with malformed arguments/
    ]
  ])('leaves %s unresolved', (_rule, value, ctx, reason) => {
    const result = resolveName(value, ctx)
    expect(result).not.toHaveProperty('name')
    expect(result).toEqual({ unresolved: expect.stringMatching(reason) })
  })
})

describe('partitionOf maps a region to its partition', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-west-1', 'aws'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['eusc-de-east-1', 'aws-eusc']
  ])('%s is in %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition)
  })
})

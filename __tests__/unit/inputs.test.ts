import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getInputs, INPUT_DEFAULTS } from '../../src/inputs.js'
import { InputError } from '../../src/errors.js'

const env = { cwd: '/work/repo', workspace: '/gh/workspace', awsRegion: 'eu-west-1' }

/** Inputs come from a map, never by call order. */
function reader(values: Record<string, string>) {
  return (name: string): string => values[name] ?? ''
}

describe('getInputs', () => {
  it('applies every default when only stage is given', () => {
    const inputs = getInputs(reader({ stage: 'pr-5' }), env)
    expect(inputs).toEqual({
      stage: 'pr-5',
      strategy: 'auto',
      phase: 'pre-deploy',
      template: '/gh/workspace/cdk.out',
      stackName: null,
      tables: [],
      protectedStages: ['{prod,live}*', '*[-._]{prod,live}*'],
      protectedAccounts: [],
      allowDataLoss: false,
      dryRun: false,
      backupDir: '/gh/workspace/backups',
      uploadArtifact: false,
      artifactRetentionDays: 7,
      keepFailedChangeSets: false,
      awsBackup: true,
      awsBackupRetentionDays: 14,
      s3Bucket: null,
      copyMode: 'auto',
      serverSideThresholdBytes: 2 ** 30,
      awsRegion: 'eu-west-1',
      roleArn: null,
      githubToken: '',
      comment: true,
      prNumber: null
    })
  })

  it('aws-backup-retention-days: days as a whole number; 0 keeps every backup (cleanup off)', () => {
    expect(
      getInputs(reader({ stage: 's', 'aws-backup-retention-days': '30' }), env).awsBackupRetentionDays
    ).toBe(30)
    expect(
      getInputs(reader({ stage: 's', 'aws-backup-retention-days': '0' }), env).awsBackupRetentionDays
    ).toBe(0)
    expect(
      getInputs(reader({ stage: 's', 'aws-backup-retention-days': ' ' }), env).awsBackupRetentionDays
    ).toBe(14)
  })

  it('fills {stage} in stack-name and tables, splits tables on commas and newlines', () => {
    const inputs = getInputs(
      reader({ stage: 'pr-7', 'stack-name': '{stage}-db', tables: '{stage}-main-table,\n {stage}-audit ,' }),
      env
    )
    expect(inputs.stackName).toBe('pr-7-db')
    expect(inputs.tables).toEqual(['pr-7-main-table', 'pr-7-audit'])
  })

  it('resolves relative paths against GITHUB_WORKSPACE, else the working directory', () => {
    expect(getInputs(reader({ stage: 's', template: 'infra/cdk.out' }), env).template).toBe(
      '/gh/workspace/infra/cdk.out'
    )
    expect(
      getInputs(reader({ stage: 's', template: 'infra/t.yaml' }), { ...env, workspace: undefined }).template
    ).toBe('/work/repo/infra/t.yaml')
    expect(getInputs(reader({ stage: 's', template: '/abs/t.json' }), env).template).toBe('/abs/t.json')
  })

  it.each([
    'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1',
    'arn:aws-cn:iam::123456789012:role/path/to/exec',
    'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}'
  ])('takes role-arn %s as it is (placeholders are filled in per stack)', roleArn => {
    expect(getInputs(reader({ stage: 's', 'role-arn': roleArn }), env).roleArn).toBe(roleArn)
  })

  it.each([
    'cdk-hnb659fds-cfn-exec-role',
    'arn:aws:iam::123456789012:user/deployer',
    'arn:aws:sts::123456789012:assumed-role/r/s',
    'arn:aws:iam::${AWS::StackName}:role/x',
    'arn:aws:iam::123456789012:role/${SomeParameter}'
  ])('refuses role-arn %s, naming the input', roleArn => {
    expect(() => getInputs(reader({ stage: 's', 'role-arn': roleArn }), env)).toThrow(
      /^Input 'role-arn': .* is not an IAM role ARN/
    )
  })

  it('prefers the aws-region input over AWS_REGION', () => {
    expect(getInputs(reader({ stage: 's', 'aws-region': 'us-west-2' }), env).awsRegion).toBe('us-west-2')
  })

  it.each([
    ['stage', { stage: '' }, /Input 'stage': is required/],
    ['stage', { stage: 'pr 5' }, /Input 'stage': 'pr 5' is not a valid stage/],
    ['stage', { stage: 'pr-5;rm' }, /Input 'stage': 'pr-5;rm' is not a valid stage/],
    ['stage', { stage: 'x'.repeat(65) }, /Input 'stage'/],
    [
      'strategy',
      { stage: 's', strategy: 'nuke' },
      /Input 'strategy': 'nuke' is not supported; use one of: auto, import, backup-restore, delete, report/
    ],
    ['phase', { stage: 's', phase: 'post' }, /Input 'phase': 'post' is not supported/],
    ['dry-run', { stage: 's', 'dry-run': 'yes' }, /Input 'dry-run': 'yes' is not a boolean/],
    ['allow-data-loss', { stage: 's', 'allow-data-loss': '1' }, /Input 'allow-data-loss'/],
    [
      'pr-number',
      { stage: 's', 'pr-number': '#12' },
      /Input 'pr-number': '#12' is not a pull request number/
    ],
    ['tables', { stage: 's', tables: 'ok-table, bad table' }, /Input 'tables': 'bad table'/],
    ['stack-name', { stage: 's', 'stack-name': '{stage}_db' }, /Input 'stack-name'/],
    ['aws-region', { stage: 's', 'aws-region': 'mars' }, /Input 'aws-region': 'mars'/],
    [
      's3-bucket',
      { stage: 's', 's3-bucket': 'My_Bucket' },
      /Input 's3-bucket': 'My_Bucket' is not a valid S3 bucket name/
    ],
    [
      's3-bucket',
      { stage: 's', 's3-bucket': 'ab' },
      /bucket name of 2 characters; S3 bucket names have 3 to 63/
    ],
    ['s3-bucket', { stage: 's', 's3-bucket': 'a'.repeat(64) }, /bucket name of 64 characters/],
    ['s3-bucket', { stage: 's', 's3-bucket': '-backups' }, /not a valid S3 bucket name/],
    ['s3-bucket', { stage: 's', 's3-bucket': 'my..backups' }, /two adjacent dots/],
    ['s3-bucket', { stage: 's', 's3-bucket': '192.168.5.4' }, /looks like an IP address/],
    ['s3-bucket', { stage: 's', 's3-bucket': 'xn--backups' }, /reserved by S3/],
    ['s3-bucket', { stage: 's', 's3-bucket': 'backups--x-s3' }, /reserved by S3/],
    ['s3-bucket', { stage: 's', 's3-bucket': 'backups/a//b' }, /empty, \. or \.\. segment/],
    ['s3-bucket', { stage: 's', 's3-bucket': 'backups/a/../b' }, /empty, \. or \.\. segment/],
    ['s3-bucket', { stage: 's', 's3-bucket': 'backups/a b' }, /characters S3 keys should avoid/],
    ['s3-bucket', { stage: 's', 's3-bucket': `backups/${'p'.repeat(513)}` }, /prefix of 513 characters/],
    [
      'copy-mode',
      { stage: 's', 'copy-mode': 'cloud' },
      /Input 'copy-mode': 'cloud' is not supported; use one of: auto, runner, server-side/
    ],
    [
      'copy-mode',
      { stage: 's', 'copy-mode': 'server-side' },
      /^Input 'copy-mode': 'server-side' needs the input 's3-bucket'/
    ],
    [
      'server-side-threshold-bytes',
      { stage: 's', 'server-side-threshold-bytes': '1.5GiB' },
      /Input 'server-side-threshold-bytes': '1.5GiB' is not a size/
    ],
    [
      'server-side-threshold-bytes',
      { stage: 's', 'server-side-threshold-bytes': '10GB' },
      /Input 'server-side-threshold-bytes': '10GB' is not a size/
    ],
    [
      'protected-stages',
      { stage: 's', 'protected-stages': '{prod,live-*' },
      /Input 'protected-stages': .* has a \{ without its \}/
    ],
    [
      'protected-accounts',
      { stage: 's', 'protected-accounts': '123456789012, 12345' },
      /Input 'protected-accounts': '12345' is not an AWS account id/
    ],
    [
      'protected-accounts',
      { stage: 's', 'protected-accounts': 'arn:aws:iam::123456789012:root' },
      /Input 'protected-accounts'/
    ],
    ['upload-artifact', { stage: 's', 'upload-artifact': 'yes' }, /Input 'upload-artifact'/],
    [
      'artifact-retention-days',
      { stage: 's', 'artifact-retention-days': '0' },
      /Input 'artifact-retention-days': '0' is not a whole number from 1 to 90/
    ],
    ['artifact-retention-days', { stage: 's', 'artifact-retention-days': '91' }, /from 1 to 90/],
    ['artifact-retention-days', { stage: 's', 'artifact-retention-days': '7.5' }, /from 1 to 90/],
    ['keep-failed-change-sets', { stage: 's', 'keep-failed-change-sets': 'keep' }, /Input 'keep-failed/],
    [
      'aws-backup-retention-days',
      { stage: 's', 'aws-backup-retention-days': '-1' },
      /Input 'aws-backup-retention-days': '-1' is not a whole number from 0 to 3650/
    ],
    ['aws-backup-retention-days', { stage: 's', 'aws-backup-retention-days': '7.5' }, /from 0 to 3650/],
    ['aws-backup-retention-days', { stage: 's', 'aws-backup-retention-days': '14d' }, /from 0 to 3650/],
    ['aws-backup-retention-days', { stage: 's', 'aws-backup-retention-days': '3651' }, /from 0 to 3650/]
  ])('rejects a bad %s with a message naming the input', (input, values, message) => {
    let error: unknown
    try {
      getInputs(reader(values), env)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe(input)
    expect((error as Error).message).toMatch(message)
  })

  it.each([
    ['my-backups', { bucket: 'my-backups', prefix: '' }],
    ['my-backups/', { bucket: 'my-backups', prefix: '' }],
    ['my.backups-1/orphan-guard', { bucket: 'my.backups-1', prefix: 'orphan-guard' }],
    ['s3://my-backups/team/orphan-guard/', { bucket: 'my-backups', prefix: 'team/orphan-guard' }],
    ['my-backups//x', { bucket: 'my-backups', prefix: 'x' }]
  ])('reads s3-bucket %j as bucket and prefix', (value, expected) => {
    expect(getInputs(reader({ stage: 's', 's3-bucket': value }), env).s3Bucket).toEqual(expected)
  })

  it('splits protected-stages outside braces and reads protected-accounts', () => {
    const inputs = getInputs(
      reader({
        stage: 's',
        'protected-stages': '{prod,live}-*\nqa-{a,b}, staging',
        'protected-accounts': '123456789012,\n210987654321'
      }),
      env
    )
    expect(inputs.protectedStages).toEqual(['{prod,live}-*', 'qa-{a,b}', 'staging'])
    expect(inputs.protectedAccounts).toEqual(['123456789012', '210987654321'])
  })

  it('names aws-region when neither the input nor AWS_REGION is set', () => {
    expect(() => getInputs(reader({ stage: 's' }), { cwd: '/x' })).toThrow(/Input 'aws-region': no region/)
  })

  it('accepts an explicit false and true for every boolean input', () => {
    const inputs = getInputs(
      reader({
        stage: 's',
        'aws-backup': 'false',
        comment: 'False',
        'dry-run': 'TRUE',
        'allow-data-loss': 'true'
      }),
      env
    )
    expect([inputs.awsBackup, inputs.comment, inputs.dryRun, inputs.allowDataLoss]).toEqual([
      false,
      false,
      true,
      true
    ])
  })

  it('has a default for every optional input', () => {
    expect(Object.keys(INPUT_DEFAULTS).sort()).toEqual(
      [
        'allow-data-loss',
        'aws-backup',
        'aws-backup-retention-days',
        'aws-region',
        'backup-dir',
        'comment',
        'copy-mode',
        'dry-run',
        'github-token',
        'phase',
        'pr-number',
        'protected-stages',
        's3-bucket',
        'server-side-threshold-bytes',
        'protected-accounts',
        'upload-artifact',
        'artifact-retention-days',
        'keep-failed-change-sets',
        'role-arn',
        'stack-name',
        'strategy',
        'tables',
        'template'
      ].sort()
    )
  })
})

describe('copy-mode and server-side-threshold-bytes', () => {
  it('server-side with s3-bucket; the threshold in bytes or with a binary unit', () => {
    const inputs = getInputs(
      reader({
        stage: 's',
        'copy-mode': 'server-side',
        's3-bucket': 'backups/og',
        'server-side-threshold-bytes': '500MiB'
      }),
      env
    )
    expect([inputs.copyMode, inputs.s3Bucket, inputs.serverSideThresholdBytes]).toEqual([
      'server-side',
      { bucket: 'backups', prefix: 'og' },
      500 * 2 ** 20
    ])
  })

  it.each([
    ['0', 0],
    ['1048576', 2 ** 20],
    ['64KiB', 64 * 1024],
    ['2 GiB', 2 * 2 ** 30],
    ['3tib', 3 * 2 ** 40]
  ])('reads the threshold %s as %d bytes', (value, bytes) => {
    expect(
      getInputs(reader({ stage: 's', 'server-side-threshold-bytes': value }), env).serverSideThresholdBytes
    ).toBe(bytes)
  })

  it('runner and auto need no bucket', () => {
    expect(getInputs(reader({ stage: 's', 'copy-mode': 'runner' }), env).copyMode).toBe('runner')
    expect(getInputs(reader({ stage: 's' }), env).copyMode).toBe('auto')
  })
})

describe('backup-dir: never a git checkout; below the workspace when uploaded', () => {
  let root: string
  let workspace: string
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'orphan-guard-inputs-'))
    workspace = join(root, 'workspace')
    mkdirSync(join(workspace, '.git'), { recursive: true })
    mkdirSync(join(workspace, 'backups'))
    mkdirSync(join(root, 'elsewhere'))
    symlinkSync(join(root, 'elsewhere'), join(workspace, 'linked'))
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  const read = (values: Record<string, string>) =>
    getInputs(reader({ stage: 's', ...values }), { cwd: '/nowhere', workspace, awsRegion: 'eu-west-1' })
  const refusal = (values: Record<string, string>): InputError => {
    try {
      read(values)
    } catch (err) {
      if (err instanceof InputError) return err
      throw err
    }
    throw new Error('no InputError')
  }

  it.each([
    ['the workspace itself, which holds .git', '.', 'false'],
    ['the workspace itself, with upload', '.', 'true'],
    ['a folder inside .git', '.git/backups', 'false'],
    ['the .git folder itself', '.git', 'true']
  ])('refuses %s (upload-artifact %s) naming backup-dir', (_what, dir, upload) => {
    const err = refusal({ 'backup-dir': dir, 'upload-artifact': upload })
    expect(err.input).toBe('backup-dir')
    expect(err.message).toMatch(/git repository \(\.git\)/)
  })

  it.each([
    ['a folder outside the workspace', '../elsewhere'],
    ['an absolute folder elsewhere', '/tmp/orphan-guard-backups'],
    ['a link inside the workspace that leads outside it', 'linked']
  ])('with upload-artifact refuses %s, naming backup-dir', (_what, dir) => {
    const err = refusal({ 'backup-dir': dir, 'upload-artifact': 'true' })
    expect(err.input).toBe('backup-dir')
    expect(err.message).toMatch(/not a folder below the workspace/)
  })

  it('without upload-artifact a folder outside the workspace is allowed (e.g. runner.temp)', () => {
    expect(read({ 'backup-dir': '../elsewhere' }).backupDir).toBe(join(root, 'elsewhere'))
    expect(read({ 'backup-dir': 'linked' }).uploadArtifact).toBe(false)
  })

  it('accepts the default folder, and a folder that does not exist yet, with upload-artifact', () => {
    expect(read({ 'upload-artifact': 'true' }).backupDir).toBe(join(workspace, 'backups'))
    expect(read({ 'upload-artifact': 'true', 'backup-dir': 'out/new/backups' }).backupDir).toBe(
      join(workspace, 'out/new/backups')
    )
  })
})

import { describe, expect, it } from '@jest/globals'
import { INPUTS, type InputDefinition } from '../../src/inputs.js'
import { CLI_FLAGS, helpText, parseArgs, UsageError } from '../../src/cli/flags.js'

const table = INPUTS as Record<string, InputDefinition>

describe('flags are the inputs of the action', () => {
  it.each(Object.entries(table).filter(([, i]) => i.type !== 'boolean'))(
    '--%s takes a value, separate or after =',
    name => {
      expect(parseArgs([`--${name}`, 'x1']).inputs).toEqual({ [name]: 'x1' })
      expect(parseArgs([`--${name}=x 2`]).inputs).toEqual({ [name]: 'x 2' })
    }
  )

  it.each(Object.entries(table).filter(([, i]) => i.type === 'boolean'))(
    '--%s and --no-%s are booleans',
    name => {
      expect(parseArgs([`--${name}`]).inputs).toEqual({ [name]: 'true' })
      expect(parseArgs([`--no-${name}`]).inputs).toEqual({ [name]: 'false' })
      expect(parseArgs([`--${name}=FALSE`]).inputs).toEqual({ [name]: 'false' })
    }
  )

  it('an input added to the table is a flag, in --help too, with no change to the CLI', () => {
    const grown: Record<string, InputDefinition> = {
      ...table,
      's3-bucket': { default: '', type: 'string', description: 'Bucket (and prefix) for the backups.' },
      'upload-artifact': {
        default: 'false',
        type: 'boolean',
        description: 'Upload the backups as an artifact.'
      }
    }
    expect(parseArgs(['--s3-bucket', 'b/p', '--no-upload-artifact'], grown).inputs).toEqual({
      's3-bucket': 'b/p',
      'upload-artifact': 'false'
    })
    const help = helpText(grown)
    expect(help).toContain('--s3-bucket <value>')
    expect(help).toContain('--upload-artifact, --no-upload-artifact  (default: false)')
    expect(help).toContain('Bucket (and prefix) for the backups.')
  })

  it('says which flags only the action uses', () => {
    expect(parseArgs(['--pr-number', '5', '--no-comment', '--stage', 'pr-5']).ignored).toEqual([
      'pr-number',
      'comment'
    ])
  })

  it('reads its own flags', () => {
    expect(
      parseArgs(['--json', '--debug', '--profile', 'dev', '--progress-interval', '2.5', '-h', '--version'])
        .options
    ).toEqual({
      json: true,
      debug: true,
      help: true,
      version: true,
      profile: 'dev',
      progressIntervalMs: 2500
    })
  })

  it('no CLI flag has the name of an input', () => {
    expect(Object.keys(CLI_FLAGS).filter(name => name in table)).toEqual([])
  })
})

describe('a command line the CLI cannot take is a UsageError naming the flag', () => {
  it.each([
    [['--strategi', 'report'], '--strategi: unknown flag; did you mean --strategy?'],
    [['--colour'], '--colour: unknown flag'],
    [['-x'], '-x: unknown flag'],
    [['--no-stage'], '--no-stage: unknown flag'],
    [['--stage'], '--stage: needs a value (e.g. --stage pr-5, or --stage=…)'],
    [['--stage', '--dry-run'], '--stage: needs a value'],
    [['--stage', 'a', '--stage', 'b'], '--stage: given more than once'],
    [['--dry-run', '--no-dry-run'], '--dry-run: given more than once'],
    [['--dry-run=yes'], "--dry-run: 'yes' is not a boolean"],
    [['--no-dry-run=true'], '--no-dry-run: takes no value'],
    [['pr-5'], "unexpected argument 'pr-5'"],
    [['--progress-interval', '0'], "--progress-interval: '0' is not a number of seconds from 0.1 to 3600"],
    [['--progress-interval', '1e3'], "--progress-interval: '1e3' is not a number"],
    [['--profile='], '--profile: needs a profile name']
  ])('%j', (argv, message) => {
    const parse = (): unknown => parseArgs(argv)
    expect(parse).toThrow(UsageError)
    expect(parse).toThrow(message)
  })
})

describe('--help', () => {
  const help = helpText()

  it('lists every input with its default and what it does, then the flags of the CLI and the exit codes', () => {
    expect(help).toContain('--stage <stage>  (required)')
    expect(help).toContain('--strategy <auto|import|backup-restore|delete|report>  (default: auto)')
    expect(help).toContain('--aws-backup, --no-aws-backup  (default: true)')
    expect(help).toContain('--pr-number <number>  (GitHub Action only: the CLI ignores it)')
    for (const name of Object.keys(CLI_FLAGS)) expect(help).toContain(`--${name}`)
    expect(help).toMatch(/^ {2}130 {2}interrupted/m)
  })

  it('says that the CLI resolves relative paths against the current directory, where the action says GITHUB_WORKSPACE', () => {
    const entry = (flag: string): string => {
      const start = help.indexOf(`\n  ${flag} `)
      return help.slice(start, help.indexOf('\n  --', start + 1)).replace(/\s+/g, ' ')
    }
    expect(entry('--template')).toContain(
      'Relative to GITHUB_WORKSPACE. In the CLI: relative to the current directory.'
    )
    expect(entry('--backup-dir')).toContain(
      'In the CLI: relative to the current directory (`upload-artifact` does not apply).'
    )
    // Every input the action describes in terms of the workspace has a note for the CLI.
    for (const [name, input] of Object.entries(table))
      if (!input.actionOnly && /GITHUB_WORKSPACE|workspace/.test(input.description))
        expect([name, input.cliNote]).toEqual([name, expect.stringContaining('current directory')])
  })

  it('wraps to the width it is given', () => {
    for (const line of helpText(undefined, 72).split('\n'))
      if (line.startsWith('      ')) expect(line.length).toBeLessThanOrEqual(72)
  })
})

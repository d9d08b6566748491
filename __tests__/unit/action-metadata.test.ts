import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { INPUT_DEFAULTS, INPUTS, type InputDefinition } from '../../src/inputs.js'
import { helpText } from '../../src/cli/flags.js'

interface ActionYml {
  runs: { using: string; main: string }
  branding: { icon: string; color: string }
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

const action = parse(readFileSync('action.yml', 'utf8')) as ActionYml
const readme = readFileSync('README.md', 'utf8')

/** Rows of the first markdown table under a heading, as [first cell, rest...]. */
function tableUnder(heading: string): string[][] {
  const start = readme.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`README has no heading ${heading}`)
  const lines = readme.slice(start + heading.length + 2).split('\n')
  const first = lines.findIndex(l => l.startsWith('|'))
  const rows: string[][] = []
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map(c => c.trim())
    )
  }
  return rows
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1')

describe('action.yml', () => {
  it('runs the committed bundle on node24 and has branding', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
    expect(action.branding.icon).toBeTruthy()
    expect(action.branding.color).toBeTruthy()
  })

  it('declares exactly the public inputs, each described', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(['stage', ...Object.keys(INPUT_DEFAULTS)].sort())
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, input.description.length > 20]).toEqual([name, true])
    }
    expect(action.inputs.stage?.required).toBe(true)
  })

  it('has the same defaults as getInputs()', () => {
    for (const [name, value] of Object.entries(INPUT_DEFAULTS)) {
      const declared = action.inputs[name]?.default ?? ''
      // github-token defaults to the workflow token in action.yml; the code has no token of its own.
      const expected = name === 'github-token' ? '${{ github.token }}' : value
      expect([name, declared]).toEqual([name, expected])
    }
  })

  it('is the table of inputs in src/inputs.ts, word for word (the one source of names, defaults and descriptions)', () => {
    const table = INPUTS as Record<string, InputDefinition>
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(table).sort())
    for (const [name, input] of Object.entries(table)) {
      const declared = action.inputs[name]
      expect([name, declared?.description]).toEqual([name, input.description])
      expect([name, declared?.required ?? false]).toEqual([name, input.required ?? false])
      expect([name, declared?.default ?? '']).toEqual([name, input.actionDefault ?? input.default])
    }
  })

  it('declares exactly the public outputs, each described', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(
      [
        'backup-arns',
        'backup-manifests',
        'has-orphans',
        'orphans',
        'outcome',
        'pending-restores',
        'plan',
        'restore-needed',
        'restored-items'
      ].sort()
    )
  })
})

describe("the CLI's --help (flags are the same inputs)", () => {
  const help = helpText().replace(/\s+/g, ' ')

  it('shows every input of action.yml as a flag, with its description word for word', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, help.includes(`--${name}`)]).toEqual([name, true])
      expect([name, help.includes(input.description.replace(/\s+/g, ' '))]).toEqual([name, true])
    }
  })
})

describe('README', () => {
  it('documents every input of action.yml with its default and required flag', () => {
    const rows = tableUnder('### Inputs')
    expect(rows.map(r => unquote(r[0] ?? '')).sort()).toEqual(Object.keys(action.inputs).sort())
    for (const [name, required, def] of rows) {
      const input = action.inputs[unquote(name ?? '')]!
      expect([name, required]).toEqual([name, input.required ? 'yes' : 'no'])
      expect([name, unquote(def ?? '')]).toEqual([name, input.default ?? ''])
    }
  })

  it('documents every output of action.yml', () => {
    const rows = tableUnder('### Outputs')
    expect(rows.map(r => unquote(r[0] ?? '')).sort()).toEqual(Object.keys(action.outputs).sort())
  })

  it('recipes pass expressions to shell commands through env:, never inside run: (script injection)', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map(m => m[1] ?? '')
    const runs: string[] = []
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit)
      else if (node !== null && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'run' && typeof value === 'string') runs.push(value)
          else visit(value)
        }
      }
    }
    for (const block of blocks) visit(parse(block))
    expect(runs.length).toBeGreaterThan(5)
    expect(runs.filter(r => r.includes('${{'))).toEqual([])
  })
})

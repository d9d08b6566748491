import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SUMMARY_LIMIT_BYTES, truncateMarkdown, writeSummary } from '../../src/report/summary.js'

describe('truncateMarkdown', () => {
  it('leaves markdown within the limit untouched', () => {
    expect(truncateMarkdown('## ok\n', 100)).toBe('## ok\n')
  })

  it('cuts at a line, closes an open code fence and <details>, and says it was cut', () => {
    const markdown = [
      '## head',
      '<details>',
      '<summary>x</summary>',
      '',
      '```json',
      ...Array.from({ length: 500 }, () => '"line"'),
      '```',
      '</details>'
    ].join('\n')
    const cut = truncateMarkdown(markdown, 2000)
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(2000)
    expect(cut).toMatch(/"line"\n```\n\n<\/details>\n\n> \[!NOTE\]\n> The report was cut here/)
  })

  it('counts bytes, not characters', () => {
    const cut = truncateMarkdown('🧪 emoji line\n'.repeat(1000), 3000)
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(3000)
  })
})

describe('writeSummary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'summary-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('appends the report, through @actions/core, to the file GITHUB_STEP_SUMMARY names', async () => {
    const file = join(dir, 'step-summary.md')
    writeFileSync(file, '')
    const previous = process.env.GITHUB_STEP_SUMMARY
    process.env.GITHUB_STEP_SUMMARY = file
    try {
      await expect(writeSummary('## ✅ Nothing to do\n')).resolves.toBe(true)
    } finally {
      if (previous === undefined) delete process.env.GITHUB_STEP_SUMMARY
      else process.env.GITHUB_STEP_SUMMARY = previous
    }
    expect(readFileSync(file, 'utf8')).toContain('## ✅ Nothing to do\n')
  })

  it('cuts a report over 1 MiB before writing it', async () => {
    const written: string[] = []
    const fake = {
      summary: { addRaw: (text: string) => (written.push(text), { write: async () => undefined }) },
      warning: () => undefined
    }
    await writeSummary('| row |\n'.repeat(200_000), { core: fake })
    expect(Buffer.byteLength(written[0]!)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES)
    expect(written[0]).toContain('1 MiB job summary limit')
  })

  it('turns a failure into a warning and never throws', async () => {
    const warnings: string[] = []
    const fake = {
      summary: {
        addRaw: () => ({
          write: async () => {
            throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY.')
          }
        })
      },
      warning: (message: string) => warnings.push(message)
    }
    await expect(writeSummary('## report', { core: fake })).resolves.toBe(false)
    expect(warnings).toEqual([
      'Could not write the job summary: Unable to find environment variable for $GITHUB_STEP_SUMMARY.'
    ])
  })
})

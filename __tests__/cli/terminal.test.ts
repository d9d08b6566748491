import { describe, expect, it } from '@jest/globals'
import { renderReport, type ReportContext } from '../../src/report/markdown.js'
import {
  displayWidth,
  fitWidths,
  renderForTerminal,
  renderInline,
  renderTable,
  stripAnsi,
  wrapText
} from '../../src/cli/terminal.js'
import type { PlanEntry } from '../../src/types.js'

const plain = { color: false, width: 100 }
const colour = { color: true, width: 100 }
/** An SGR (colour or weight) escape sequence. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`)

describe('inline markdown', () => {
  it.each([
    ['`pr-5-orders`', 'pr-5-orders'],
    ['`` a`b ``', 'a`b'],
    ['```` ```x``` ````', '```x```'],
    ['a \\*literal\\* \\_x\\_ \\[y\\] \\|', 'a *literal* _x_ [y] |'],
    ['&lt;script&gt; &amp; &quot;q&quot;', '<script> & "q"'],
    ['**bold** then `code`', 'bold then code'],
    [
      '[workflow run](https://github.com/a/b/actions/runs/1)',
      'workflow run (https://github.com/a/b/actions/runs/1)'
    ],
    ['one<br>two', 'one\ntwo']
  ])('%j → %j', (markdown, text) => {
    expect(renderInline(markdown, plain)).toBe(text)
  })

  it('colours only when asked: code spans cyan, bold bold', () => {
    expect(renderInline('**`t`**', colour)).toBe('\x1b[1m\x1b[36mt\x1b[39m\x1b[22m')
    expect(renderInline('**`t`**', plain)).not.toMatch(SGR)
  })

  it('a line break in a table cell stays on the row', () => {
    expect(renderInline('a<br>b', plain, true)).toBe('a; b')
  })
})

describe('widths', () => {
  it('counts what a terminal shows', () => {
    expect(displayWidth('\x1b[1mabc\x1b[22m')).toBe(3)
    expect(displayWidth('表格')).toBe(4)
    expect(displayWidth('e\u0301')).toBe(1)
  })

  it('wraps words to a width with a hanging indent', () => {
    expect(wrapText('aaa bbb ccc ddd', 9, '• ', '  ')).toEqual(['• aaa bbb', '  ccc ddd'])
  })

  it('shrinks the widest columns first, never below their longest word', () => {
    expect(fitWidths([10, 5, 60], [10, 5, 12], 80)).toEqual([10, 5, 60])
    expect(fitWidths([10, 5, 60], [10, 5, 12], 50)).toEqual([10, 5, 35])
    expect(fitWidths([40, 5, 60], [8, 5, 12], 50)).toEqual([22, 5, 22])
    expect(fitWidths([40, 40], [38, 38], 50)).toEqual([38, 38])
  })
})

describe('tables', () => {
  const table = [
    '| Table | Decision | Why |',
    '| --- | --- | --- |',
    '| `pr-5-a` | 🗑️ delete | short |',
    '| `pr-5-much-longer-name` | 🛑 blocked | a \\| pipe and `code` |'
  ]

  it('aligns the columns under a rule, without the emoji terminals disagree on', () => {
    expect(renderTable(table, plain)).toEqual([
      'Table                  Decision  Why',
      '─────────────────────  ────────  ─────────────────',
      'pr-5-a                 delete    short',
      'pr-5-much-longer-name  blocked   a | pipe and code'
    ])
  })

  it('colours the words that mean the same everywhere', () => {
    const lines = renderTable(table, colour)
    expect(lines[2]).toContain('\x1b[33mdelete\x1b[39m')
    expect(lines[3]).toContain('\x1b[31mblocked\x1b[39m')
    expect(lines.map(stripAnsi)).toEqual(renderTable(table, plain))
  })

  it('wraps the widest column inside its cells when the table is too wide, keeping the others aligned', () => {
    const wide = ['| A | B |', '| --- | --- |', `| x | ${'word '.repeat(20).trim()} |`]
    const lines = renderTable(wide, { color: false, width: 30 })
    expect(lines.every(l => displayWidth(l) <= 30)).toBe(true)
    expect(lines.slice(2).every(l => l.startsWith('x  ') || l.startsWith('   '))).toBe(true)
  })
})

function planEntry(overrides: Partial<PlanEntry> & Pick<PlanEntry, 'table'>): PlanEntry {
  return {
    stack: 'pr-5-db',
    logicalId: 'Orders',
    exists: true,
    owner: 'retained',
    hasData: true,
    differences: [],
    decision: 'import',
    reasons: [],
    path: [],
    orphan: true,
    ...overrides
  }
}

/** A report with every construct the markdown uses: alert, tables, lists, details, code, paths. */
const report: ReportContext = {
  stage: 'pr-5',
  strategy: 'auto',
  phase: 'pre-deploy',
  dryRun: false,
  region: 'us-east-1',
  result: {
    outcome: 'failed',
    plan: {
      policy: { stage: 'pr-5', strategy: 'auto', protectedStage: false, allowDataLoss: false },
      entries: [
        planEntry({
          table: 'pr-5-orders',
          decision: 'backup-restore',
          reasons: ['Keys differ: live `pk` (S), template `id` (N) <b>'],
          differences: [
            {
              property: 'KeySchema',
              severity: 'blocking',
              live: 'pk HASH',
              template: 'id HASH',
              message: 'Keys | differ'
            }
          ],
          path: [
            { question: 'Does the table exist?', answer: 'yes' },
            { question: 'Do its keys match?', answer: 'no' }
          ]
        })
      ],
      notes: ['stack pr-5-db is ROLLBACK_COMPLETE']
    },
    steps: [{ table: 'pr-5-orders', action: 'export', status: 'failed', detail: 'Scan failed: a | b' }],
    backupManifests: ['/tmp/backups/pr-5-orders/20261205T000000Z/manifest.json'],
    backupArns: [],
    restoredItems: 0,
    stateNote: 'The table pr-5-orders is untouched.\nRun again.'
  },
  importArtifacts: [
    {
      stack: 'pr-5-db',
      templatePath: '/tmp/t.json',
      templateBody: '{\n  "Resources": {}\n}',
      resourcesToImport: []
    }
  ]
}

describe('the report on a terminal', () => {
  const markdown = renderReport(report, { decisionPaths: 'list' })
  const text = renderForTerminal(markdown, plain)

  it('has the content of the job summary and none of its markdown', () => {
    for (const fact of [
      'Failed: export on pr-5-orders',
      'stage pr-5 · strategy auto · phase pre-deploy · region us-east-1',
      'CAUTION',
      '│ The table pr-5-orders is untouched.',
      'Stack pr-5-db',
      'pr-5-orders → 💾 backup-restore',
      '• Keys differ: live pk (S), template id (N) <b>',
      '• stack pr-5-db is ROLLBACK_COMPLETE',
      'Scan failed: a | b',
      '/tmp/backups/pr-5-orders/20261205T000000Z/manifest.json',
      'Differences in detail (1 difference)',
      'Keys | differ',
      '1. Does the table exist? → yes',
      '2. Do its keys match? → no',
      'Stack pr-5-db: import template /tmp/t.json'
    ])
      expect([fact, text.includes(fact)]).toEqual([fact, true])
    expect(text).not.toMatch(/```|<\/?details>|<summary>|\*\*|&lt;|&amp;|\\\||^#+ |\[!CAUTION\]/m)
    expect(text).not.toMatch(SGR)
  })

  it('in colour, the same text', () => {
    const coloured = renderForTerminal(markdown, colour)
    expect(coloured).toMatch(SGR)
    expect(stripAnsi(coloured)).toBe(text)
  })

  it('never wider than the terminal where the text can wrap', () => {
    const narrow = renderForTerminal(markdown, { color: false, width: 70 })
    const tooWide = narrow.split('\n').filter(l => displayWidth(l) > 70 && / /.test(l.trim()))
    // Only unbreakable words (a path) may stick out.
    expect(tooWide.filter(l => !l.includes('/tmp/backups/'))).toEqual([])
  })

  it('shows a mermaid flowchart (an older report embedded in a restore report) as a pointer to the summary', () => {
    const withMermaid = renderReport({ ...report, result: { ...report.result, outcome: 'dry-run' } })
    expect(renderForTerminal(withMermaid, plain)).toContain('(a flowchart: the job summary draws it)')
  })
})

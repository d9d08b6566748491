import { describe, expect, it } from '@jest/globals'
import {
  codeSpan,
  COMMENT_LIMIT,
  commentMarker,
  escapeCell,
  mermaidLabel,
  renderComment,
  renderDecisionFlowchart,
  renderReport
} from '../../src/report/markdown.js'
import type { ReportContext } from '../../src/report/markdown.js'
import type { PlanEntry, RunResult } from '../../src/types.js'
import { blockedEntry, context, difference, entry, importEntry, result } from './builders.js'

const firstLine = (text: string): string => text.split('\n')[0] ?? ''

/** The lines from `start` up to (not including) the next blank line. */
function block(text: string, start: string): string {
  const lines = text.split('\n')
  const from = lines.indexOf(start)
  if (from < 0) throw new Error(`no line ${JSON.stringify(start)} in:\n${text}`)
  const to = lines.indexOf('', from)
  return lines.slice(from, to < 0 ? undefined : to).join('\n')
}

const deleteEntry = entry({
  table: 'pr-5-cache',
  logicalId: 'CacheTable',
  exists: true,
  owner: 'retained',
  hasData: false,
  orphan: true,
  decision: 'delete'
})
const backupEntry = entry({
  table: 'pr-5-sessions',
  logicalId: 'SessionsTable',
  exists: true,
  owner: 'unmanaged',
  hasData: true,
  orphan: true,
  decision: 'backup-restore'
})
const cleanEntry = entry({ table: 'pr-5-fresh', logicalId: 'FreshTable' })

describe('renderReport headline: one line with the outcome, emoji first', () => {
  const cases: Array<
    [string, Partial<ReportContext>, Partial<RunResult> & { entries?: PlanEntry[] }, string]
  > = [
    [
      'nothing to do, tables checked',
      {},
      { outcome: 'nothing-to-do', entries: [cleanEntry, entry({ table: 'pr-5-b' })] },
      '## ✅ Nothing to do: 2 tables checked, none orphaned'
    ],
    [
      'nothing to do, no named tables',
      {},
      { outcome: 'nothing-to-do', entries: [] },
      '## ✅ Nothing to do: the deploy creates no named DynamoDB tables'
    ],
    [
      'blocked, one table',
      {},
      { outcome: 'blocked', entries: [blockedEntry, cleanEntry] },
      '## 🛑 Blocked: 1 table needs a decision'
    ],
    [
      'blocked, two tables',
      {},
      { outcome: 'blocked', entries: [blockedEntry, { ...blockedEntry, table: 'pr-5-other' }] },
      '## 🛑 Blocked: 2 tables need a decision'
    ],
    [
      'blocked by a stack state only',
      {},
      { outcome: 'blocked', entries: [cleanEntry] },
      '## 🛑 Blocked: the deploy cannot go ahead as things are'
    ],
    [
      'dry run',
      { dryRun: true },
      { outcome: 'dry-run', entries: [importEntry, deleteEntry, cleanEntry] },
      '## 🧪 Dry run: 2 orphaned tables would be resolved'
    ],
    [
      'dry run with a blocked table',
      { dryRun: true },
      { outcome: 'dry-run', entries: [importEntry, blockedEntry] },
      '## 🧪 Dry run: 1 orphaned table would be resolved, 1 table needs a decision'
    ],
    [
      'dry run, nothing to change',
      { dryRun: true },
      { outcome: 'dry-run', entries: [cleanEntry] },
      '## 🧪 Dry run: nothing would change'
    ],
    [
      'resolved',
      {},
      { outcome: 'resolved', entries: [importEntry, deleteEntry, backupEntry, cleanEntry] },
      '## 🔧 Resolved: 3 orphaned tables (1 imported, 1 backed up and deleted for a restore after the deploy, 1 deleted)'
    ],
    [
      'restored',
      { phase: 'restore' },
      { outcome: 'restored', restoredItems: 1234567, backupManifests: ['a.json', 'b.json'] },
      '## ♻️ Restored: 1,234,567 items from 2 backups'
    ],
    [
      'failed on a step',
      {},
      {
        outcome: 'failed',
        entries: [deleteEntry],
        steps: [
          { table: 'pr-5-cache', action: 'create-backup', status: 'done', detail: 'ok' },
          { table: 'pr-5-cache', action: 'delete-table', status: 'failed', detail: 'AccessDenied' }
        ]
      },
      '## ❌ Failed: delete-table on `pr-5-cache`, see where things stand below'
    ],
    [
      'failed before any step',
      {},
      { outcome: 'failed', plan: null },
      '## ❌ Failed: see where things stand below'
    ],
    [
      'report strategy with orphans',
      { strategy: 'report' },
      { outcome: 'nothing-to-do', entries: [blockedEntry, importEntry] },
      '## 👀 Report only: 2 orphaned tables found, nothing was changed'
    ]
  ]
  it.each(cases)('%s', (_name, ctx, run, expected) => {
    expect(firstLine(renderReport(context({ ...ctx, result: result(run) })))).toBe(expected)
  })
})

describe('renderReport tables: one table per stack, sorted, tables-only mode under "(no stack)"', () => {
  const ctx = context({
    result: result({
      outcome: 'blocked',
      entries: [
        entry({
          table: 'loose-table',
          stack: null,
          logicalId: null,
          exists: true,
          owner: 'unmanaged',
          hasData: null,
          orphan: true
        }),
        blockedEntry,
        entry({
          table: 'pr-5-api-keys',
          stack: 'pr-5-api',
          exists: true,
          owner: 'other-stack:pr-4-api',
          hasData: false,
          orphan: true
        }),
        importEntry
      ]
    })
  })
  const text = renderReport(ctx)

  it('renders the stacks in name order with "(no stack)" last', () => {
    const headings = text.split('\n').filter(line => line.startsWith('### '))
    expect(headings.slice(0, 3)).toEqual([
      '### Stack `pr-5-api`',
      '### Stack `pr-5-database`',
      '### (no stack)'
    ])
  })

  it('renders one row per table with exists, owner, data, differences and decision', () => {
    expect(block(text, '### Stack `pr-5-database`')).toBe('### Stack `pr-5-database`')
    expect(block(text, '| Table | Exists | Owner | Data | Differences | Decision |')).toBe(
      [
        '| Table | Exists | Owner | Data | Differences | Decision |',
        '| --- | --- | --- | --- | --- | --- |',
        '| `pr-5-api-keys` | yes, orphaned | stack `pr-4-api` | empty | none | ✅ none |'
      ].join('\n')
    )
    const database = text.split('### Stack `pr-5-database`\n\n')[1]!.split('\n\n')[0]
    expect(database).toBe(
      [
        '| Table | Exists | Owner | Data | Differences | Decision |',
        '| --- | --- | --- | --- | --- | --- |',
        '| `pr-5-audit` | yes, orphaned | unmanaged | has data | 1 converges | 📥 import |',
        '| `pr-5-main-table` | yes, orphaned | retained (no stack) | has data | 1 blocking | 🛑 blocked |'
      ].join('\n')
    )
    const loose = text.split('### (no stack)\n\n')[1]!.split('\n\n')[0]
    expect(loose).toContain('| `loose-table` | yes, orphaned | unmanaged | unknown | none | ✅ none |')
  })

  it('lists the reasons per table under its stack table', () => {
    expect(block(text, '- `pr-5-main-table` → 🛑 blocked')).toBe(
      [
        '- `pr-5-main-table` → 🛑 blocked',
        '  - The table holds data and `allow-data-loss` is false.',
        '  - The key schema differs, so import is impossible.'
      ].join('\n')
    )
  })

  it('is deterministic: the order of plan entries does not change the text', () => {
    const reversed = context({
      result: result({ outcome: 'blocked', entries: [...ctx.result.plan!.entries].reverse() })
    })
    expect(renderReport(reversed)).toBe(text)
  })

  it('says so when no plan was made', () => {
    expect(renderReport(context({ result: result({ outcome: 'failed', plan: null }) }))).toContain(
      'No plan was made: the run stopped before the tables were inspected.'
    )
  })
})

describe('renderReport regions and accounts', () => {
  const text = renderReport(
    context({
      result: result({
        outcome: 'blocked',
        entries: [
          entry({ table: 'pr-7-orders', stack: 'pr-7-app', region: 'us-east-1' }),
          entry({
            table: 'pr-7-orders',
            stack: 'pr-7-app',
            region: 'us-west-2',
            exists: true,
            owner: 'unmanaged',
            orphan: true
          }),
          entry({
            table: 'pr-7-foreign',
            stack: 'pr-7-other-account',
            region: 'us-east-1',
            notCheckable: 'stack pr-7-other-account is for account 999999999999',
            decision: 'blocked',
            reasons: ['Table pr-7-foreign cannot be checked with these credentials.']
          })
        ]
      })
    })
  )

  it("names every region of the plan in the facts line, and each stack's region in its heading", () => {
    expect(text).toContain('· regions `us-east-1`, `us-west-2`')
    expect(text.split('\n').filter(l => l.startsWith('### Stack'))).toEqual([
      '### Stack `pr-7-app` · `us-east-1`',
      '### Stack `pr-7-app` · `us-west-2`',
      '### Stack `pr-7-other-account` · `us-east-1`'
    ])
  })

  it('shows a table that could not be checked with these credentials as "not checked", not as missing', () => {
    expect(text).toContain('| `pr-7-foreign` | not checked | — | — | — | 🛑 blocked |')
  })

  it('a plan in one region (or without regions) shows the one region', () => {
    expect(renderReport(context())).toContain('· region `eu-west-1`')
  })

  it('the headline counts unresolved names when they block', () => {
    const blocked = context({
      result: {
        ...result({ outcome: 'blocked' }),
        plan: {
          ...result().plan!,
          unresolved: [{ logicalId: 'ParamTable', stack: 'pr-7-param', reason: 'Ref TableSuffix' }]
        }
      }
    })
    expect(firstLine(renderReport(blocked))).toBe('## 🛑 Blocked: 1 table name could not be resolved')
  })
})

describe('renderReport escaping: table cells stay one cell and show text literally', () => {
  it.each([
    ['a pipe', 'a|b', 'a\\|b'],
    ['newlines', 'one\ntwo\r\nthree', 'one<br>two<br>three'],
    ['backticks', 'use `x`', 'use \\`x\\`'],
    ['html', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['an entity', 'a &amp; b', 'a &amp;amp; b'],
    ['emphasis and links', '*bold* [x](y)', '\\*bold\\* \\[x\\](y)']
  ])('escapeCell: %s', (_name, input, expected) => {
    expect(escapeCell(input)).toBe(expected)
  })

  it.each([
    ['plain', 'pr-5-table', '`pr-5-table`'],
    ['inner backtick', 'a`b', '``a`b``'],
    ['leading backtick', '`a', '`` `a ``'],
    ['newline', 'a\nb', '`a b`']
  ])('codeSpan: %s', (_name, input, expected) => {
    expect(codeSpan(input)).toBe(expected)
  })

  it('escapes pipes and newlines from difference values and messages in the detail table', () => {
    const text = renderReport(
      context({
        result: result({
          outcome: 'blocked',
          entries: [
            {
              ...blockedEntry,
              differences: [
                difference({
                  property: 'Tags',
                  severity: 'dangerous',
                  live: 'team=a|b',
                  template: 'line1\nline2',
                  message: 'Tag `team` differs |\nsee <docs>'
                })
              ]
            }
          ]
        })
      })
    )
    expect(text).toContain(
      '| `Tags` | ⚠️ dangerous | `team=a\\|b` | `line1 line2` | Tag `team` differs \\| see &lt;docs&gt; |'
    )
  })

  it('escapes pipes in step details so the steps table keeps four columns', () => {
    const text = renderReport(
      context({
        result: result({
          outcome: 'failed',
          entries: [deleteEntry],
          steps: [{ table: 'pr-5-cache', action: 'delete-table', status: 'failed', detail: 'a | b\nc' }]
        })
      })
    )
    expect(text).toContain('| ❌ failed | `pr-5-cache` | delete-table | a \\| b c |')
  })
})

describe('renderReport sections', () => {
  it('shows where things stand and how to go on when failed, as a caution block', () => {
    const text = renderReport(
      context({
        result: result({
          outcome: 'failed',
          entries: [deleteEntry],
          stateNote: 'Backup arn:x taken; the table still exists.\nRe-run the job to continue.'
        })
      })
    )
    expect(block(text, '> [!CAUTION]')).toBe(
      [
        '> [!CAUTION]',
        '> **Where things stand and how to go on**',
        '>',
        '> Backup arn:x taken; the table still exists.',
        '> Re-run the job to continue.'
      ].join('\n')
    )
  })

  it('puts what makes the check uncertain in the first section, before the tables, one bullet each', () => {
    const text = renderReport(
      context({
        result: result({ outcome: 'dry-run', entries: [deleteEntry] }),
        warnings: ['cannot resolve the name of table s/T: Ref Name', 'pr-5-x: Scan failed: AccessDenied']
      })
    )
    const firstSection = text.split('\n### ')[0] ?? ''
    expect(block(firstSection, '> [!WARNING]')).toBe(
      [
        '> [!WARNING]',
        '> **This check may be incomplete or wrong** (2 warnings):',
        '>',
        '> - cannot resolve the name of table s/T: Ref Name',
        '> - pr-5-x: Scan failed: AccessDenied'
      ].join('\n')
    )
    expect(renderReport(context({ result: result({ outcome: 'dry-run' }) }))).not.toContain(
      'may be incomplete'
    )
  })

  it('shows the state note as a warning when blocked and leaves it out when resolved', () => {
    const stateNote = 'Nothing was changed.'
    expect(renderReport(context({ result: result({ outcome: 'blocked', stateNote }) }))).toContain(
      '> [!WARNING]'
    )
    expect(renderReport(context({ result: result({ outcome: 'resolved', stateNote }) }))).not.toContain(
      stateNote
    )
  })

  it('lists steps with their status, backups sorted, and restored items', () => {
    const text = renderReport(
      context({
        phase: 'restore',
        result: result({
          outcome: 'restored',
          entries: [backupEntry],
          steps: [{ table: 'pr-5-sessions', action: 'restore', status: 'done', detail: '42 items' }],
          backupManifests: ['backups/z.json', 'backups/a.json'],
          backupArns: ['arn:aws:dynamodb:eu-west-1:1:table/pr-5-sessions/backup/1'],
          restoredItems: 42
        })
      })
    )
    expect(text).toContain('### What was done\n\n| Status | Table | Action | Detail |')
    expect(text).toContain('| ✅ done | `pr-5-sessions` | restore | 42 items |')
    expect(text).toContain('Export manifests:\n\n- `backups/a.json`\n- `backups/z.json`\n')
    expect(text).toContain(
      'DynamoDB on-demand backups:\n\n- `arn:aws:dynamodb:eu-west-1:1:table/pr-5-sessions/backup/1`\n'
    )
    expect(text).toContain('### Restore\n\nRestored **42 items**.')
  })

  it('a server-side re-creation: each step with the time it took, the items ImportTable restored before the deploy', () => {
    const text = renderReport(
      context({
        result: result({
          outcome: 'resolved',
          entries: [{ ...backupEntry, copy: 'server-side' }],
          steps: [
            {
              table: 'pr-5-sessions',
              action: 'export',
              status: 'done',
              detail: 'ExportTableToPointInTime',
              durationMs: 754_000
            },
            {
              table: 'pr-5-sessions',
              action: 'import table',
              status: 'done',
              detail: '42 items',
              durationMs: 3_725_000
            },
            { table: 'pr-5-other', action: 'import', status: 'done', detail: 'imported' }
          ],
          restoredItems: 42
        })
      })
    )
    expect(text).toContain('| Status | Table | Action | Took | Detail |')
    expect(text).toContain('| ✅ done | `pr-5-sessions` | export | 12 min 34 s | ExportTableToPointInTime |')
    expect(text).toContain('| ✅ done | `pr-5-sessions` | import table | 1 h 2 min | 42 items |')
    expect(text).toContain('| ✅ done | `pr-5-other` | import |  | imported |')
    expect(text).toContain('re-created by ImportTable from S3 and imported into their stack')
    expect(text).toContain(
      'Restored **42 items** by ImportTable before the deploy (server-side): no restore is needed after it for those tables.'
    )
  })

  it('calls the steps of a dry run what a real run would do', () => {
    const text = renderReport(
      context({
        dryRun: true,
        result: result({
          outcome: 'dry-run',
          entries: [importEntry],
          steps: [
            {
              table: 'pr-5-audit',
              action: 'CreateChangeSet IMPORT',
              status: 'planned',
              detail: 'stack pr-5-database'
            }
          ]
        })
      })
    )
    expect(text).toContain('### What a real run would do')
    expect(text).toContain('| 📝 planned | `pr-5-audit` | CreateChangeSet IMPORT | stack pr-5-database |')
  })

  it('puts stack and discovery notes in one notes list', () => {
    const text = renderReport(
      context({
        discoveryNotes: ['skipped 1 table without TableName'],
        result: result({
          outcome: 'blocked',
          notes: ['stack pr-5-database is ROLLBACK_COMPLETE: delete it first']
        })
      })
    )
    expect(block(text, '### Notes')).toBe('### Notes')
    expect(text).toContain(
      '### Notes\n\n- stack pr-5-database is ROLLBACK_COMPLETE: delete it first\n- skipped 1 table without TableName\n'
    )
  })

  it('collapses differences, decision paths, unresolved names and import templates into <details>', () => {
    const text = renderReport(
      context({
        result: result({ outcome: 'blocked', entries: [blockedEntry, importEntry] }),
        unresolved: [
          {
            logicalId: 'DynTable',
            stack: 'pr-5-database',
            reason: 'Fn::GetAtt: resource attributes are only known after deploy',
            expression: '{"Fn::GetAtt":["Other","Name"]}'
          }
        ],
        importArtifacts: [
          {
            stack: 'pr-5-database',
            templatePath: 'backups/pr-5-database.import.json',
            templateBody: '{"Resources":{"Body":"has ``` inside"}}',
            resourcesToImport: [{ ResourceType: 'AWS::DynamoDB::Table', LogicalResourceId: 'AuditTable' }]
          }
        ]
      })
    )
    const summaries = text.split('\n').filter(line => line.startsWith('<summary>'))
    expect(summaries).toEqual([
      '<summary>Differences in detail (2 differences)</summary>',
      '<summary>Decision paths (2 tables)</summary>',
      '<summary>Tables whose name could not be resolved (1)</summary>',
      '<summary>Import templates (1 stack)</summary>'
    ])
    expect(text.match(/<details>/g)).toHaveLength(4)
    expect(text.match(/<\/details>/g)).toHaveLength(4)
    expect(text).toContain(
      '| `DynTable` | `pr-5-database` | `{"Fn::GetAtt":["Other","Name"]}` | Fn::GetAtt: resource attributes are only known after deploy |'
    )
    // The template is a file: named, never pasted (it can hold anything the stack's authors wrote).
    expect(text).toContain('**Stack `pr-5-database`**: import template `backups/pr-5-database.import.json`')
    expect(text).toContain('The import templates are files, on the runner only (`upload-artifact` is off).')
    expect(text).not.toContain('has ``` inside')
  })

  it('links the workflow run, refusing non-http links', () => {
    expect(renderReport(context({ runUrl: 'https://github.com/o/r/actions/runs/9' }))).toContain(
      '[workflow run](https://github.com/o/r/actions/runs/9)'
    )
    expect(renderReport(context({ runUrl: 'javascript:alert(1)' }))).not.toContain('javascript:')
  })
})

describe('renderReport: restores still owed, plainly, run after run', () => {
  const owed = [
    {
      table: 'pr-5-users',
      source: 'aws-backup' as const,
      backup: 'arn:aws:dynamodb:eu-west-1:1:table/pr-5-users/backup/01',
      takenAt: '2025-03-04T05:06:09.000Z'
    },
    {
      table: 'pr-5-orders',
      source: 's3' as const,
      backup: 's3://copies/pr-5/pr-5-orders/20250304T050607Z/manifest.json',
      takenAt: '2025-03-04T05:06:07.123Z'
    }
  ]

  it('a run with nothing else to do says in its headline that tables owe a restore, and lists them first', () => {
    const text = renderReport(context({ result: result({ entries: [cleanEntry], pendingRestores: owed }) }))
    expect(firstLine(text)).toBe(
      '## ♻️ 2 tables still owe a restore: the restore step loads them after the deploy'
    )
    expect(block(text, '| Table | From | Backup | Taken |')).toBe(
      [
        '| Table | From | Backup | Taken |',
        '| --- | --- | --- | --- |',
        '| `pr-5-orders` | S3 copy | `s3://copies/pr-5/pr-5-orders/20250304T050607Z/manifest.json` | 2025-03-04T05:06:07.123Z |',
        '| `pr-5-users` | on-demand backup | `arn:aws:dynamodb:eu-west-1:1:table/pr-5-users/backup/01` | 2025-03-04T05:06:09.000Z |'
      ].join('\n')
    )
    expect(text).toContain("restore-needed == 'true'")
    // Before the tables of the plan.
    expect(text.indexOf('still owe a restore')).toBeLessThan(text.indexOf('### Stack'))
  })

  it('adds the owed restores to the headline of any other outcome', () => {
    const text = renderReport(
      context({
        result: result({ outcome: 'resolved', entries: [backupEntry], pendingRestores: owed.slice(0, 1) })
      })
    )
    expect(firstLine(text)).toMatch(/^## 🔧 Resolved: .* · ♻️ 1 table still owes a restore$/)
  })

  it('says nothing about restores when none is owed, and lists what was found and not used', () => {
    const text = renderReport(
      context({
        result: result({
          entries: [cleanEntry],
          pendingRestores: [],
          restoreNotes: [
            'pr-5-orders: s3://copies/pr-5/pr-5-orders/20250101T000000Z/manifest.json is a backup in region us-west-2: not loaded'
          ]
        })
      })
    )
    expect(text).not.toContain('owe a restore')
    expect(block(text, '### Backup notes')).toBe('### Backup notes')
    expect(text).toContain(
      '- pr-5-orders: s3://copies/pr-5/pr-5-orders/20250101T000000Z/manifest.json is a backup in region us-west-2: not loaded'
    )
  })
})

describe('renderReport: the old backups aws-backup-retention-days deleted', () => {
  const deleted = [
    {
      table: 'pr-5-users',
      region: 'eu-west-1',
      arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/pr-5-users/backup/02',
      name: 'orphan-guard_20250304T050609Z_restore_pr-5',
      takenAt: '2025-03-04T05:06:09.000Z',
      why: '20 days old; its restore is verified and recorded (tag x=pr-5/20250304T050609Z on pr-5-users)'
    },
    {
      table: 'pr-5-orders',
      region: 'eu-west-1',
      arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/pr-5-orders/backup/01',
      name: 'orphan-guard_20250304T050607Z_restore_pr-5',
      takenAt: '2025-03-04T05:06:07.000Z',
      why: '20 days old; no restore is owed from it: a | b'
    }
  ]

  it('lists each one deleted with why nothing is lost, and says so in the headline', () => {
    const text = renderReport(context({ result: result({ entries: [cleanEntry], deletedBackups: deleted }) }))
    expect(firstLine(text)).toBe(
      '## ✅ Nothing to do: 1 table checked, none orphaned · 🧹 2 old backups deleted'
    )
    expect(block(text, '### 🧹 2 old on-demand backups deleted')).toBe(
      '### 🧹 2 old on-demand backups deleted'
    )
    expect(block(text, '| Table | Backup | Taken | Why nothing is lost |')).toBe(
      [
        '| Table | Backup | Taken | Why nothing is lost |',
        '| --- | --- | --- | --- |',
        '| `pr-5-orders` | `arn:aws:dynamodb:eu-west-1:123456789012:table/pr-5-orders/backup/01` | 2025-03-04T05:06:07.000Z | 20 days old; no restore is owed from it: a \\| b |',
        '| `pr-5-users` | `arn:aws:dynamodb:eu-west-1:123456789012:table/pr-5-users/backup/02` | 2025-03-04T05:06:09.000Z | 20 days old; its restore is verified and recorded (tag x=pr-5/20250304T050609Z on pr-5-users) |'
      ].join('\n')
    )
  })

  it('a dry run says what a real run would delete; nothing deleted, nothing said; the comment masks the account', () => {
    const dry = renderReport(
      context({
        dryRun: true,
        result: result({ outcome: 'dry-run', entries: [cleanEntry], deletedBackups: deleted })
      })
    )
    expect(firstLine(dry)).toBe('## 🧪 Dry run: nothing would change · 🧹 2 old backups would be deleted')
    expect(dry).toContain('### 🧹 2 old on-demand backups a real run would delete')
    for (const none of [[], undefined]) {
      const text = renderReport(context({ result: result({ entries: [cleanEntry], deletedBackups: none }) }))
      expect(text).not.toContain('🧹')
    }
    const comment = renderComment(
      context({
        accountIds: ['123456789012'],
        result: result({ entries: [cleanEntry], deletedBackups: deleted })
      })
    )
    expect(comment).toContain('arn:aws:dynamodb:eu-west-1:XXXXXXXXXXXX:table/pr-5-users/backup/02')
    expect(comment).not.toContain('123456789012')
  })
})

describe('renderDecisionFlowchart: the path taken as a mermaid flowchart', () => {
  it('renders a blocked decision: each question a diamond, answers on thick edges, the decision highlighted red', () => {
    expect(renderDecisionFlowchart(blockedEntry)).toBe(
      [
        '```mermaid',
        'flowchart TD',
        '  table(["pr-5-main-table"])',
        '  table ==> q0{"Does the table exist?"}',
        '  q0 ==>|"yes"| q1{"Owned by the expected stack?"}',
        '  q1 ==>|"no #40;retained#41;"| q2{"Protected stage?"}',
        '  q2 ==>|"yes"| q3{"Import-compatible?"}',
        '  q3 ==>|"no: KeySchema differs"| decision(["🛑 blocked"])',
        '  classDef taken fill:#ddf4ff,stroke:#0969da,stroke-width:2px',
        '  classDef final fill:#ffebe9,stroke:#cf222e,stroke-width:3px',
        '  class table,q0,q1,q2,q3 taken',
        '  class decision final',
        '  linkStyle default stroke:#0969da,stroke-width:3px',
        '```'
      ].join('\n')
    )
  })

  it('renders an import decision with the decision node highlighted green', () => {
    const chart = renderDecisionFlowchart(importEntry)
    expect(chart).toContain('  q3 ==>|"yes"| decision(["📥 import"])')
    expect(chart).toContain('  classDef final fill:#dafbe1,stroke:#1a7f37,stroke-width:3px')
    expect(chart).toContain('  class table,q0,q1,q2,q3 taken')
  })

  it('goes straight from the table to the decision when the path is empty', () => {
    const chart = renderDecisionFlowchart(entry({ table: 't', decision: 'none' }))
    expect(chart).toContain('  table ==> decision(["✅ none"])')
    expect(chart).toContain('  class table taken')
  })

  it.each([
    ['quotes', 'Is "KeySchema" equal?', '"Is #34;KeySchema#34; equal?"'],
    ['brackets', 'keys [pk, sk] {a} (b)', '"keys #91;pk, sk#93; #123;a#125; #40;b#41;"'],
    ['entity start and html', '#1 <b> & co', '"#35;1 #60;b#62; #38; co"'],
    ['pipes and backticks', 'a|b `c`', '"a#124;b #96;c#96;"'],
    ['newlines', 'a\nb', '"a b"']
  ])('mermaidLabel escapes %s', (_name, input, expected) => {
    expect(mermaidLabel(input)).toBe(expected)
  })

  it('renders every table with a path inside the decision paths section', () => {
    const text = renderReport(
      context({ result: result({ outcome: 'blocked', entries: [blockedEntry, importEntry] }) })
    )
    expect(text.match(/```mermaid\nflowchart TD\n/g)).toHaveLength(2)
    expect(text).toContain('**`pr-5-main-table`** → 🛑 blocked\n\n```mermaid')
  })
})

describe('renderComment: marker first, never over GitHub comment limit', () => {
  const runUrl = 'https://github.com/o/r/actions/runs/77'

  it('names the stage in a hidden marker', () => {
    expect(commentMarker('pr-5')).toBe('<!-- dynamodb-orphan-guard:pr-5 -->')
    expect(commentMarker('x-->y')).not.toContain('-->y')
  })

  it('is the marker line followed by the full report when it fits', () => {
    const ctx = context({ runUrl, result: result({ outcome: 'blocked', entries: [blockedEntry] }) })
    const body = renderComment(ctx, commentMarker('pr-5'))
    expect(firstLine(body)).toBe('<!-- dynamodb-orphan-guard:pr-5 -->')
    expect(body).toBe(`<!-- dynamodb-orphan-guard:pr-5 -->\n${renderReport(ctx)}`)
  })

  it('drops the detail sections first when they alone make it too long', () => {
    const ctx = context({
      runUrl,
      result: result({ outcome: 'blocked', entries: [blockedEntry, importEntry] })
    })
    const full = renderComment(ctx, commentMarker('pr-5'), Number.MAX_SAFE_INTEGER)
    const withoutDetails = renderReport(ctx, { details: false })
    const limit = withoutDetails.length + 400
    expect(full.length).toBeGreaterThan(limit)
    const body = renderComment(ctx, commentMarker('pr-5'), limit)
    expect(body.length).toBeLessThanOrEqual(limit)
    expect(body).not.toContain('<details>')
    expect(body).toContain('| `pr-5-main-table` |')
    expect(body).toContain(`see the [job summary](${runUrl})`)
  })

  it('keeps 500 tables within 65,536 characters, saying how many rows were left out', () => {
    const entries = Array.from({ length: 500 }, (_, i) => ({
      ...blockedEntry,
      table: `pr-5-table-${String(i).padStart(3, '0')}`,
      stack: `pr-5-stack-${i % 10}`,
      reasons: [`Reason for table ${i}: ${'x'.repeat(80)}`],
      differences: [difference({ live: 'l'.repeat(100), template: 't'.repeat(100) })]
    }))
    const ctx = context({
      runUrl,
      result: result({
        outcome: 'blocked',
        entries,
        steps: entries.map(e => ({
          table: e.table,
          action: 'inspect',
          status: 'done' as const,
          detail: 'ok'
        }))
      })
    })
    expect(renderReport(ctx).length).toBeGreaterThan(COMMENT_LIMIT)
    const body = renderComment(ctx, commentMarker('pr-5'))
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT)
    expect(firstLine(body)).toBe('<!-- dynamodb-orphan-guard:pr-5 -->')
    expect(body).not.toContain('<details>')
    const shownRows = body.split('\n').filter(line => line.startsWith('| `pr-5-table-')).length
    expect(shownRows).toBeGreaterThan(0)
    expect(shownRows).toBeLessThan(500)
    expect(body).toContain(
      `_… ${500 - shownRows} more tables not shown here: see the [job summary](${runUrl}) for the full report._`
    )
    // As many tables as fit: the room left is smaller than what one more table takes.
    const oneMore =
      renderReport(ctx, { details: false, maxTables: shownRows + 1 }).length -
      renderReport(ctx, { details: false, maxTables: shownRows }).length
    expect(COMMENT_LIMIT - body.length).toBeLessThan(oneMore)
  })

  it('cuts at a line as a last resort, still within the limit', () => {
    const ctx = context({
      result: result({ outcome: 'failed', plan: null, stateNote: 'line\n'.repeat(20_000) })
    })
    const body = renderComment(ctx, commentMarker('pr-5'))
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT)
    expect(firstLine(body)).toBe('<!-- dynamodb-orphan-guard:pr-5 -->')
    expect(body).toContain("cut to fit GitHub's comment size limit")
  })
})

/**
 * The report as GitHub-flavoured markdown, rendered by pure functions (no I/O, no @actions imports):
 * the same text goes to the job summary and, size-limited, to the sticky PR comment.
 */
import { code } from '../errors.js'
import { formatDuration } from '../execute/steps.js'
import type {
  Decision,
  Difference,
  DifferenceSeverity,
  ExecutionStep,
  ImportArtifact,
  Outcome,
  Owner,
  Phase,
  PlanEntry,
  RestoreSource,
  RunResult,
  Strategy,
  UnresolvedTable
} from '../types.js'

/** GitHub rejects issue comment bodies longer than this (counted here in UTF-16 code units, which never undercounts). */
export const COMMENT_LIMIT = 65_536

export interface ReportContext {
  stage: string
  strategy: Strategy
  phase: Phase
  dryRun: boolean
  region: string
  result: RunResult
  /** Tables of the deploy whose physical name could not be resolved statically. */
  unresolved?: UnresolvedTable[]
  discoveryNotes?: string[]
  /** What makes the check uncertain (plan/warnings.ts): shown in the first section, before the tables. */
  warnings?: string[]
  /** Link to the workflow run (its job summary holds the full report). */
  runUrl?: string
  importArtifacts?: ImportArtifact[]
  /** The pre-deploy report of the same stage, shown collapsed in the restore phase's report (the whole story in one comment). */
  earlierReport?: ReportContext
  /** GITHUB_WORKSPACE: files are named relative to it. */
  workspace?: string
  /** The workflow artifact this run uploaded its files to (upload-artifact), if it did. */
  artifact?: UploadedArtifact
  /**
   * AWS account ids to mask in the PR comment besides those inside ARNs: the credentials' account,
   * protected-accounts, the accounts the template's stacks are pinned to.
   */
  accountIds?: string[]
}

/** A workflow artifact this run uploaded. */
export interface UploadedArtifact {
  name: string
  /** Link to it on the run's page, when known. */
  url?: string
  files: number
  retentionDays: number
}

export interface RenderOptions {
  /** Render the collapsed `<details>` sections (default true). */
  details?: boolean
  /** Show at most this many tables (rows, reasons, their steps, backup lists); the rest is counted in a note. */
  maxTables?: number
  /** A line added at the end, e.g. why sections were left out. */
  footnote?: string
  /**
   * How each table's decision path is drawn: a mermaid flowchart (GitHub draws it; the default) or
   * a numbered list of questions and answers (the CLI's terminal report).
   */
  decisionPaths?: 'mermaid' | 'list'
}

// ───────────────────────────── escaping ─────────────────────────────

const NEWLINES = /\r\n|\r|\n/g

/**
 * Outside text (table, stack and attribute names, AWS messages, template values, anything read
 * from a table or a file) is rendered so that nothing in it takes effect on GitHub: no link,
 * image, mention, HTML, heading, list, emphasis or autolink can come from it.
 *
 * - HTML: `&`, `<`, `>` become entities (no tag, comment or entity of its own survives).
 * - Markdown punctuation that opens something (emphasis, links and images, code, strikethrough,
 *   headings, math, tables) is backslash-escaped; a list marker or indentation at the start too.
 * - GitHub links text after rendering (mentions `@user`, references `#12`, URLs `http(s)://…`,
 *   `ftp://…` and `www.…`, e-mail addresses): a backslash does not stop that, so a zero-width
 *   space (`&#8203;`) goes after `@`, `#` and `www`, and inside those schemes' `://` (an `s3://`
 *   URI, which GitHub does not link, stays as it is, to be copied).
 */
const ZWSP = '&#8203;'

function neutralise(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/[\\`*[\]~#$|]/g, '\\$&')
      // `_` inside a word (ROLLBACK_COMPLETE, an_attribute) opens no emphasis; elsewhere it may.
      .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
      .replace(/@/g, `@${ZWSP}`)
      .replace(/\\#/g, `\\#${ZWSP}`)
      .replace(/(https?|ftp):\/\//gi, `$1:${ZWSP}//`)
      .replace(/\b(www)\./gi, `$1${ZWSP}.`)
  )
}

/** What would start a block (a list, an indented code block) at the start of a line. */
function neutraliseStart(text: string): string {
  return text
    .replace(/^\s+/, '')
    .replace(/^([-+=])/, '\\$1')
    .replace(/^(\d{1,9})([.)])/, '$1\\$2')
}

/** Outside text in inline markdown: shown literally, on one line, linking nothing (see neutralise). */
export function escapeText(text: string): string {
  return neutraliseStart(neutralise(text.replace(NEWLINES, ' ')))
}

/**
 * Prose: a message written by this action that names outside things, keeping the code spans it
 * wrote (`code()` in errors.ts: a fence longer than any backtick run inside) and neutralising
 * everything else, outside text included. Backticks that open no complete code span are literal.
 * One line.
 */
export function escapeProse(text: string): string {
  const oneLine = text.replace(NEWLINES, ' ')
  let out = ''
  let plain = ''
  let i = 0
  while (i < oneLine.length) {
    if (oneLine[i] !== '`') {
      plain += oneLine[i]
      i++
      continue
    }
    const run = /^`+/.exec(oneLine.slice(i))?.[0] ?? '`'
    // CommonMark: the span ends at the next backtick run of exactly the same length.
    const closer = new RegExp(`(?<!\`)${run}(?!\`)`, 'g')
    closer.lastIndex = i + run.length
    const end = closer.exec(oneLine)
    if (!end) {
      plain += run
      i += run.length
      continue
    }
    out += neutralise(plain) + oneLine.slice(i, end.index + run.length)
    plain = ''
    i = end.index + run.length
  }
  return neutraliseStart(out + neutralise(plain))
}

/** Outside text inside a GFM table cell: literal, `|` escaped, line breaks as `<br>`. */
export function escapeCell(text: string): string {
  return text
    .split(NEWLINES)
    .map(line => neutralise(line))
    .join('<br>')
}

/** Prose inside a GFM table cell: escapeProse, with `|` escaped inside its code spans too. */
function proseCell(text: string): string {
  return escapeProse(text).replace(/(?<!\\)\|/g, '\\|')
}

/** A code span that survives any backticks in `text` (CommonMark: a longer fence, padded when needed). */
export const codeSpan = code

/** A code span inside a table cell: GFM needs `\|` even within code spans. */
function codeCell(text: string): string {
  return codeSpan(text).replace(/\|/g, '\\|')
}

/** Text for an HTML context such as `<summary>`. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/**
 * A quoted mermaid label: characters that end a label, start a shape or an entity, or switch to
 * markdown strings become mermaid's `#code;` entities (decimal), in one pass so entities are not re-escaped.
 */
export function mermaidLabel(text: string): string {
  const escaped = text.replace(NEWLINES, ' ').replace(/[#"'`<>&|[\](){}%]/g, ch => `#${ch.charCodeAt(0)};`)
  return `"${escaped}"`
}

/** Only http(s) links, with characters that would end a markdown link destination percent-encoded. */
function safeUrl(url: string | undefined): string | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined
  return url.replace(/[\s()<>]/g, ch => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
}

// ───────────────────────────── wording ─────────────────────────────

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : pluralForm}`
}

/** 1234567 → "1,234,567", independent of the runner's locale. */
function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

const DECISION_LABEL: Record<Decision, string> = {
  none: '✅ none',
  import: '📥 import',
  'backup-restore': '💾 backup-restore',
  delete: '🗑️ delete',
  blocked: '🛑 blocked'
}

const STEP_STATUS: Record<ExecutionStep['status'], string> = {
  done: '✅ done',
  skipped: '⏭️ skipped',
  failed: '❌ failed',
  planned: '📝 planned'
}

const SEVERITY_ORDER: DifferenceSeverity[] = ['blocking', 'dangerous', 'converges']
const SEVERITY_LABEL: Record<DifferenceSeverity, string> = {
  blocking: '⛔ blocking',
  dangerous: '⚠️ dangerous',
  converges: '🔄 converges'
}

const NO_STACK = '(no stack)'
const ACTING: Decision[] = ['import', 'backup-restore', 'delete']

function ownerCell(owner: Owner): string {
  if (owner === null) return '—'
  if (owner === 'stack') return 'this stack'
  if (owner === 'retained') return 'retained (no stack)'
  if (owner === 'unmanaged') return 'unmanaged'
  if (owner === 'unknown') return 'unknown (a read failed)'
  return `stack ${codeCell(owner.slice('other-stack:'.length))}`
}

function dataCell(entry: PlanEntry): string {
  if (!entry.exists) return '—'
  if (entry.hasData === null) return 'unknown'
  return entry.hasData ? 'has data' : 'empty'
}

function differencesCell(entry: PlanEntry): string {
  if (!entry.exists) return '—'
  if (entry.differences.length === 0) return 'none'
  return SEVERITY_ORDER.map(
    severity => [severity, entry.differences.filter(d => d.severity === severity).length] as const
  )
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`)
    .join(', ')
}

function sortedEntries(result: RunResult): PlanEntry[] {
  return [...(result.plan?.entries ?? [])].sort(
    (a, b) =>
      (a.stack === null ? 1 : 0) - (b.stack === null ? 1 : 0) ||
      compare(a.stack ?? '', b.stack ?? '') ||
      compare(a.region ?? '', b.region ?? '') ||
      compare(a.table, b.table)
  )
}

/** The regions the plan's tables are in, sorted; the action's region when the entries name none. */
function regionsOf(ctx: ReportContext): string[] {
  const regions = [...new Set((ctx.result.plan?.entries ?? []).flatMap(e => (e.region ? [e.region] : [])))]
  return regions.length > 0 ? regions.sort(compare) : [ctx.region || 'unknown']
}

/** The one-line outcome, emoji first. */
export function renderHeadline(ctx: ReportContext): string {
  const { result } = ctx
  const entries = result.plan?.entries ?? []
  const orphans = entries.filter(e => e.orphan).length
  const acting = entries.filter(e => ACTING.includes(e.decision))
  const blocked = entries.filter(e => e.decision === 'blocked').length
  const needDecision = (n: number): string => `${plural(n, 'table')} ${n === 1 ? 'needs' : 'need'} a decision`

  if (ctx.strategy === 'report' && result.outcome !== 'failed' && orphans > 0) {
    return `👀 Report only: ${plural(orphans, 'orphaned table')} found, nothing was changed`
  }
  const byOutcome: Record<Outcome, () => string> = {
    'nothing-to-do': () =>
      entries.length === 0
        ? '✅ Nothing to do: the deploy creates no named DynamoDB tables'
        : `✅ Nothing to do: ${plural(entries.length, 'table')} checked, none orphaned`,
    'dry-run': () => {
      if (acting.length === 0 && blocked === 0) return '🧪 Dry run: nothing would change'
      const parts: string[] = []
      if (acting.length > 0) parts.push(`${plural(acting.length, 'orphaned table')} would be resolved`)
      if (blocked > 0) parts.push(needDecision(blocked))
      return `🧪 Dry run: ${parts.join(', ')}`
    },
    blocked: () => {
      const unresolved = result.plan?.unresolved?.length ?? 0
      const parts = [
        ...(blocked > 0 ? [needDecision(blocked)] : []),
        ...(unresolved > 0 ? [`${plural(unresolved, 'table name')} could not be resolved`] : [])
      ]
      return `🛑 Blocked: ${parts.length > 0 ? parts.join(', ') : 'the deploy cannot go ahead as things are'}`
    },
    resolved: () => {
      const done: Array<[(e: PlanEntry) => boolean, string]> = [
        [e => e.decision === 'import', 'imported'],
        [
          e => e.decision === 'backup-restore' && e.copy !== 'server-side',
          'backed up and deleted for a restore after the deploy'
        ],
        [
          e => e.decision === 'backup-restore' && e.copy === 'server-side',
          're-created by ImportTable from S3 and imported into their stack'
        ],
        [e => e.decision === 'delete', 'deleted']
      ]
      const parts = done
        .map(([which, verb]) => [acting.filter(which).length, verb] as const)
        .filter(([count]) => count > 0)
        .map(([count, verb]) => `${formatCount(count)} ${verb}`)
      return `🔧 Resolved: ${plural(acting.length, 'orphaned table')}${parts.length ? ` (${parts.join(', ')})` : ''}`
    },
    restored: () =>
      `♻️ Restored: ${plural(result.restoredItems, 'item')}` +
      (result.backupManifests.length > 0 ? ` from ${plural(result.backupManifests.length, 'backup')}` : ''),
    failed: () => {
      const step = result.steps.find(s => s.status === 'failed')
      return step
        ? `❌ Failed: ${escapeText(step.action)} on ${codeSpan(step.table)}, see where things stand below`
        : '❌ Failed: see where things stand below'
    }
  }
  const cleaned = result.deletedBackups?.length ?? 0
  const cleanup =
    cleaned === 0
      ? ''
      : ` · 🧹 ${plural(cleaned, 'old backup')} ${ctx.dryRun ? 'would be deleted' : 'deleted'}`
  const owed = result.pendingRestores?.length ?? 0
  if (owed === 0) return `${byOutcome[result.outcome]()}${cleanup}`
  const owes = `${plural(owed, 'table')} still ${owed === 1 ? 'owes' : 'owe'} a restore`
  if (result.outcome === 'nothing-to-do')
    return `♻️ ${owes}: ${ctx.phase === 'restore' ? 'see below' : `the restore step loads ${owed === 1 ? 'it' : 'them'} after the deploy`}${cleanup}`
  return `${byOutcome[result.outcome]()} · ♻️ ${owes}${cleanup}`
}

// ───────────────────────────── sections ─────────────────────────────

function tableRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [tableRow(header), tableRow(header.map(() => '---')), ...rows.map(tableRow)]
}

function stackSections(entries: PlanEntry[], hidden: number, summaryLink: string): string[] {
  const lines: string[] = []
  // A stack is one (name, region): the same name may be deployed to two regions.
  const stacks = [...new Map(entries.map(e => [`${e.stack ?? ''}\u0000${e.region ?? ''}`, e])).values()]
  for (const { stack, region } of stacks) {
    const rows = entries.filter(e => e.stack === stack && e.region === region)
    const where = region ? ` · ${codeSpan(region)}` : ''
    lines.push(`### ${stack === null ? NO_STACK : `Stack ${codeSpan(stack)}`}${where}`, '')
    lines.push(
      ...mdTable(
        ['Table', 'Exists', 'Owner', 'Data', 'Differences', 'Decision'],
        rows.map(e => [
          codeCell(e.table),
          e.notCheckable ? 'not checked' : e.exists ? (e.orphan ? 'yes, orphaned' : 'yes') : 'no',
          ownerCell(e.owner),
          dataCell(e),
          differencesCell(e),
          DECISION_LABEL[e.decision]
        ])
      ),
      ''
    )
    const withReasons = rows.filter(e => e.reasons.length > 0)
    for (const e of withReasons) {
      lines.push(`- ${codeSpan(e.table)} → ${DECISION_LABEL[e.decision]}`)
      for (const reason of e.reasons) lines.push(`  - ${escapeProse(reason)}`)
    }
    if (withReasons.length > 0) lines.push('')
  }
  if (hidden > 0) {
    lines.push(
      `_… ${plural(hidden, 'more table')} not shown here: see ${summaryLink} for the full report._`,
      ''
    )
  }
  return lines
}

function bulletList(title: string, items: string[], render: (item: string) => string): string[] {
  if (items.length === 0) return []
  return [`### ${title}`, '', ...items.map(item => `- ${render(item)}`), '']
}

function stepsSection(ctx: ReportContext, steps: ExecutionStep[], hidden: number): string[] {
  if (steps.length === 0 && hidden === 0) return []
  const title = ctx.dryRun ? 'What a real run would do' : 'What was done'
  // How long each step took, where it was measured (backup-restore: every step of a table).
  const timed = steps.some(s => s.durationMs !== undefined)
  const lines = [
    `### ${title}`,
    '',
    ...mdTable(
      ['Status', 'Table', 'Action', ...(timed ? ['Took'] : []), 'Detail'],
      steps.map(s => [
        STEP_STATUS[s.status],
        s.table ? codeCell(s.table) : '—',
        escapeCell(s.action),
        ...(timed ? [s.durationMs === undefined ? '' : formatDuration(s.durationMs)] : []),
        proseCell(s.detail) || '—'
      ])
    ),
    ''
  ]
  if (hidden > 0) lines.push(`_… ${plural(hidden, 'more step')} not shown here._`, '')
  return lines
}

function stateNoteSection(ctx: ReportContext): string[] {
  const { outcome, stateNote } = ctx.result
  if (!stateNote || (outcome !== 'failed' && outcome !== 'blocked')) return []
  const kind = outcome === 'failed' ? 'CAUTION' : 'WARNING'
  const body = stateNote
    .split(NEWLINES)
    .map(line => escapeProse(line))
    .map(line => (line ? `> ${line}` : '>'))
  return [`> [!${kind}]`, '> **Where things stand and how to go on**', '>', ...body, '']
}

/** "This check may be wrong" lines, in the first section: an alert, one bullet each. */
function warningsSection(warnings: string[]): string[] {
  if (warnings.length === 0) return []
  return [
    '> [!WARNING]',
    `> **This check may be incomplete or wrong** (${plural(warnings.length, 'warning')}):`,
    '>',
    ...warnings.map(w => `> - ${escapeProse(w)}`),
    ''
  ]
}

const SOURCE_LABEL: Record<RestoreSource, string> = {
  'backup-dir': "this run's export",
  s3: 'S3 copy',
  'aws-backup': 'on-demand backup'
}

/**
 * The restores still owed, plainly and near the top: every run says it until the restore happened
 * (each run finds them in AWS again), so a later sticky comment never hides them.
 */
function owedSection(ctx: ReportContext, max: number | undefined): string[] {
  const pending = [...(ctx.result.pendingRestores ?? [])].sort((a, b) => compare(a.table, b.table))
  if (pending.length === 0) return []
  const { shown, hidden } = capped(pending, max)
  const n = pending.length
  const next =
    ctx.phase === 'restore'
      ? 'Run `phase: restore` again once the cause above is fixed: it resumes.'
      : "The restore step (`phase: restore` after the deploy, `if: steps.<id>.outputs.restore-needed == 'true'`) loads exactly these backups; until it has, every run of this stage lists them here."
  const lines = [
    `### ♻️ ${plural(n, 'table')} still ${n === 1 ? 'owes' : 'owe'} a restore`,
    '',
    `This action deleted ${n === 1 ? 'this table' : 'these tables'} after backing ${n === 1 ? 'it' : 'them'} up, and the data is not back yet. ${next}`,
    '',
    ...mdTable(
      ['Table', 'From', 'Backup', 'Taken'],
      shown.map(p => [codeCell(p.table), SOURCE_LABEL[p.source], codeCell(p.backup), escapeCell(p.takenAt)])
    ),
    ''
  ]
  if (hidden > 0)
    lines.push(`_… ${plural(hidden, 'more table')} not shown here: see ${seeSummary(ctx)}._`, '')
  return lines
}

function capped<T>(items: T[], max: number | undefined): { shown: T[]; hidden: number } {
  if (max === undefined || items.length <= max) return { shown: items, hidden: 0 }
  return { shown: items.slice(0, max), hidden: items.length - max }
}

function backupsSection(ctx: ReportContext, max: number | undefined): string[] {
  const manifests = capped([...ctx.result.backupManifests].sort(compare), max)
  const arns = capped([...ctx.result.backupArns].sort(compare), max)
  if (manifests.shown.length + manifests.hidden + arns.shown.length + arns.hidden === 0) return []
  const lines = ['### Backups', '']
  const list = (title: string, part: { shown: string[]; hidden: number }): void => {
    if (part.shown.length + part.hidden === 0) return
    lines.push(`${title}:`, '', ...part.shown.map(item => `- ${codeSpan(item)}`))
    if (part.hidden > 0) lines.push(`- _… ${formatCount(part.hidden)} more_`)
    lines.push('')
  }
  list('Export manifests', manifests)
  list('DynamoDB on-demand backups', arns)
  return lines
}

/**
 * The action's own old on-demand backups this run deleted (aws-backup-retention-days), or in a dry
 * run those a real run would delete: what was given up is said, each with why nothing is lost.
 */
function deletedBackupsSection(ctx: ReportContext, max: number | undefined): string[] {
  const all = [...(ctx.result.deletedBackups ?? [])].sort(
    (a, b) => compare(a.table, b.table) || compare(a.takenAt, b.takenAt)
  )
  if (all.length === 0) return []
  const { shown, hidden } = capped(all, max)
  const n = plural(all.length, 'old on-demand backup')
  const lines = [
    ctx.dryRun ? `### 🧹 ${n} a real run would delete` : `### 🧹 ${n} deleted`,
    '',
    `Backups this action took of this stage's tables, older than \`aws-backup-retention-days\` and owed by no restore:`,
    '',
    ...mdTable(
      ['Table', 'Backup', 'Taken', 'Why nothing is lost'],
      shown.map(b => [codeCell(b.table), codeCell(b.arn), escapeCell(b.takenAt), proseCell(b.why)])
    ),
    ''
  ]
  if (hidden > 0) lines.push(`_… ${formatCount(hidden)} more not shown here: see ${seeSummary(ctx)}._`, '')
  return lines
}

function restoreSection(ctx: ReportContext): string[] {
  if (ctx.phase !== 'restore' && ctx.result.restoredItems === 0) return []
  const how =
    ctx.phase === 'restore'
      ? ''
      : ' by ImportTable before the deploy (server-side): no restore is needed after it for those tables'
  return ['### Restore', '', `Restored **${plural(ctx.result.restoredItems, 'item')}**${how}.`, '']
}

function details(summary: string, body: string[]): string[] {
  return ['<details>', `<summary>${escapeHtml(summary)}</summary>`, '', ...body, '</details>', '']
}

function differencesDetails(entries: PlanEntry[]): string[] {
  const withDifferences = entries.filter(e => e.differences.length > 0)
  if (withDifferences.length === 0) return []
  const total = withDifferences.reduce((n, e) => n + e.differences.length, 0)
  const body: string[] = []
  for (const e of withDifferences) {
    const sorted = [...e.differences].sort(
      (a: Difference, b: Difference) =>
        SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
        compare(a.property, b.property)
    )
    body.push(
      `**${codeSpan(e.table)}**`,
      '',
      ...mdTable(
        ['Property', 'Severity', 'Live', 'Template', 'What it means'],
        sorted.map(d => [
          codeCell(d.property),
          SEVERITY_LABEL[d.severity],
          d.live === '' ? '—' : codeCell(d.live),
          d.template === '' ? '—' : codeCell(d.template),
          proseCell(d.message)
        ])
      ),
      ''
    )
  }
  return details(`Differences in detail (${plural(total, 'difference')})`, body)
}

const FINAL_STYLE: Record<Decision, string> = {
  none: 'fill:#dafbe1,stroke:#1a7f37,stroke-width:3px',
  import: 'fill:#dafbe1,stroke:#1a7f37,stroke-width:3px',
  'backup-restore': 'fill:#fff8c5,stroke:#9a6700,stroke-width:3px',
  delete: 'fill:#fff1e5,stroke:#bc4c00,stroke-width:3px',
  blocked: 'fill:#ffebe9,stroke:#cf222e,stroke-width:3px'
}

/**
 * The decision path walked for one table as a mermaid flowchart: the table → each question (diamond)
 * with the answer taken on a thick edge → the final decision; the taken nodes and edges are
 * highlighted, the decision node coloured by what it means.
 */
export function renderDecisionFlowchart(entry: PlanEntry): string {
  const lines = ['```mermaid', 'flowchart TD', `  table([${mermaidLabel(entry.table)}])`]
  let previous = 'table'
  let pendingAnswer: string | null = null
  entry.path.forEach((step, i) => {
    const id = `q${i}`
    const edge = pendingAnswer === null ? '==>' : `==>|${mermaidLabel(pendingAnswer)}|`
    lines.push(`  ${previous} ${edge} ${id}{${mermaidLabel(step.question)}}`)
    previous = id
    pendingAnswer = step.answer
  })
  const lastEdge = pendingAnswer === null ? '==>' : `==>|${mermaidLabel(pendingAnswer)}|`
  lines.push(`  ${previous} ${lastEdge} decision([${mermaidLabel(DECISION_LABEL[entry.decision])}])`)
  const taken = ['table', ...entry.path.map((_, i) => `q${i}`)].join(',')
  lines.push(
    '  classDef taken fill:#ddf4ff,stroke:#0969da,stroke-width:2px',
    `  classDef final ${FINAL_STYLE[entry.decision]}`,
    `  class ${taken} taken`,
    '  class decision final',
    '  linkStyle default stroke:#0969da,stroke-width:3px',
    '```'
  )
  return lines.join('\n')
}

/** The decision path walked for one table as a numbered list: each question, then the answer taken. */
function decisionPathList(entry: PlanEntry): string {
  return entry.path
    .map((step, i) => `${i + 1}. ${escapeProse(step.question)} → ${escapeProse(step.answer)}`)
    .join('\n')
}

function decisionPathDetails(entries: PlanEntry[], style: RenderOptions['decisionPaths']): string[] {
  const withPath = entries.filter(e => e.path.length > 0)
  if (withPath.length === 0) return []
  const body: string[] = []
  for (const e of withPath)
    body.push(
      `**${codeSpan(e.table)}** → ${DECISION_LABEL[e.decision]}`,
      '',
      style === 'list' ? decisionPathList(e) : renderDecisionFlowchart(e),
      ''
    )
  return details(`Decision paths (${plural(withPath.length, 'table')})`, body)
}

function unresolvedDetails(unresolved: UnresolvedTable[]): string[] {
  if (unresolved.length === 0) return []
  const sorted = [...unresolved].sort(
    (a, b) => compare(a.stack, b.stack) || compare(a.logicalId, b.logicalId)
  )
  return details(`Tables whose name could not be resolved (${formatCount(unresolved.length)})`, [
    'These tables were not checked: their physical name is only known at deploy time, and the deploy may fail on them. A run that acts stops here until every name resolves (report mode only lists them).',
    '',
    ...mdTable(
      ['Logical id', 'Stack', 'TableName', 'Why'],
      sorted.map(u => [
        codeCell(u.logicalId),
        codeCell(u.stack),
        u.expression ? codeCell(u.expression) : '—',
        proseCell(u.reason)
      ])
    ),
    ''
  ])
}

/** A fenced code block whose fence is longer than any backtick run in the content. */
function fenced(content: string, language: string): string[] {
  const longestRun = (content.match(/`{3,}/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0)
  const fence = '`'.repeat(Math.max(3, longestRun + 1))
  return [`${fence}${language}`, content.replace(/\n$/, ''), fence]
}

/** A file as the report names it: relative to the workspace when it is inside it. */
function filePath(file: string, workspace: string | undefined): string {
  if (workspace && file.startsWith(`${workspace.replace(/\/+$/, '')}/`))
    return file.slice(workspace.replace(/\/+$/, '').length + 1)
  return file
}

/** Where the files of this run can be had: the runner's disk, and the artifact when uploaded. */
function whereFilesAre(ctx: ReportContext): string {
  const a = ctx.artifact
  if (!a) return 'on the runner only (`upload-artifact` is off)'
  const name = codeSpan(a.name)
  const url = safeUrl(a.url)
  return `on the runner and in the workflow artifact ${url ? `[${name}](${url})` : name} (kept ${plural(a.retentionDays, 'day')})`
}

/**
 * The import of each stack: where its template file is and which tables it imports. The template
 * itself (the deployed stack's, with the tables added) is never pasted here: it can hold anything
 * the stack's authors put in it, and the file has it all.
 */
function importDetails(ctx: ReportContext): string[] {
  const artifacts = ctx.importArtifacts ?? []
  if (artifacts.length === 0) return []
  const body: string[] = [`The import templates are files, ${whereFilesAre(ctx)}.`, '']
  for (const a of [...artifacts].sort((x, y) => compare(x.stack, y.stack))) {
    body.push(
      `**Stack ${codeSpan(a.stack)}**: import template ${codeSpan(filePath(a.templatePath, ctx.workspace))}${a.templateS3Uri ? `, and in S3: ${codeSpan(a.templateS3Uri)} (what CloudFormation read as TemplateURL)` : ''}`,
      '',
      'Resources to import:',
      '',
      ...fenced(JSON.stringify(a.resourcesToImport, null, 2) ?? 'null', 'json'),
      ''
    )
  }
  return details(`Import templates (${plural(artifacts.length, 'stack')})`, body)
}

/** Where this run's backups are, when it took any. */
function artifactLine(ctx: ReportContext): string[] {
  if (ctx.result.backupManifests.length === 0) return []
  return [`The export files are ${whereFilesAre(ctx)}.`, '']
}

// ───────────────────────────── report ─────────────────────────────

/** The whole report. Deterministic: stacks, tables, backups and detail rows are sorted. */
export function renderReport(ctx: ReportContext, options: RenderOptions = {}): string {
  const { result } = ctx
  const withDetails = options.details ?? true
  const all = sortedEntries(result)
  const { shown, hidden } = capped(all, options.maxTables)
  const runUrl = safeUrl(ctx.runUrl)

  const facts = [
    `stage ${codeSpan(ctx.stage)}`,
    `strategy ${codeSpan(ctx.strategy)}`,
    `phase ${codeSpan(ctx.phase)}`,
    (regions => `${regions.length > 1 ? 'regions' : 'region'} ${regions.map(r => codeSpan(r)).join(', ')}`)(
      regionsOf(ctx)
    )
  ]
  if (ctx.dryRun) facts.push('dry run: nothing was changed')
  if (runUrl) facts.push(`[workflow run](${runUrl})`)

  const lines: string[] = [
    `## ${renderHeadline(ctx)}`,
    '',
    `**DynamoDB Orphan Guard** · ${facts.join(' · ')}`,
    ''
  ]
  lines.push(...stateNoteSection(ctx))
  lines.push(...warningsSection(ctx.warnings ?? []))
  lines.push(...owedSection(ctx, options.maxTables))

  if (result.plan === null) {
    // The restore phase loads backups and makes no plan; any other phase without one stopped early.
    if (ctx.phase !== 'restore')
      lines.push('No plan was made: the run stopped before the tables were inspected.', '')
  } else {
    lines.push(...stackSections(shown, hidden, seeSummary(ctx)))
  }

  lines.push(
    ...bulletList('Notes', [...(result.plan?.notes ?? []), ...(ctx.discoveryNotes ?? [])], escapeProse)
  )
  lines.push(...bulletList('Backup notes', result.restoreNotes ?? [], escapeProse))

  const planned = new Set(all.map(e => e.table))
  const visible = new Set(shown.map(e => e.table))
  const steps = result.steps.filter(s => visible.has(s.table) || !planned.has(s.table))
  lines.push(...stepsSection(ctx, steps, result.steps.length - steps.length))
  lines.push(...backupsSection(ctx, options.maxTables))
  lines.push(...deletedBackupsSection(ctx, options.maxTables))
  lines.push(...artifactLine(ctx))
  lines.push(...restoreSection(ctx))

  if (withDetails) {
    lines.push(...differencesDetails(shown))
    lines.push(...decisionPathDetails(shown, options.decisionPaths))
    lines.push(...unresolvedDetails(ctx.unresolved ?? []))
    lines.push(...importDetails(ctx))
    lines.push(...earlierReportDetails(ctx.earlierReport))
  } else if ((ctx.unresolved?.length ?? 0) > 0) {
    lines.push(`_${plural(ctx.unresolved?.length ?? 0, 'table')} with an unresolved name not checked._`, '')
  }
  if (options.footnote) lines.push(options.footnote, '')
  return `${lines.join('\n').replace(/\n+$/, '')}\n`
}

/**
 * The pre-deploy report, collapsed, with its headings demoted so they nest under this report. It
 * is rendered here from the pre-deploy step's report data, like any report: nothing read from the
 * file reaches the comment unescaped.
 */
function earlierReportDetails(earlier: ReportContext | undefined): string[] {
  if (earlier === undefined) return []
  const demoted = renderReport({ ...earlier, earlierReport: undefined })
    .trim()
    .replace(/^(#{1,5}) /gm, '$1## ')
  return [
    '<details>',
    '<summary>Before the deploy (pre-deploy step)</summary>',
    '',
    demoted,
    '',
    '</details>',
    ''
  ]
}

// ───────────────────────────── PR comment ─────────────────────────────

/** The hidden first line that identifies this action's sticky comment for one stage. */
export function commentMarker(stage: string): string {
  return `<!-- dynamodb-orphan-guard:${encodeURIComponent(stage)} -->`
}

function seeSummary(ctx: ReportContext): string {
  const runUrl = safeUrl(ctx.runUrl)
  return runUrl ? `the [job summary](${runUrl})` : 'the job summary'
}

/**
 * The sticky comment: the marker line, then the report, never longer than `limit` characters.
 * Too long → the collapsed detail sections go first, then table rows (with a count of those left
 * out); as a last resort the text is cut at a line.
 */
export function renderComment(
  ctx: ReportContext,
  marker = commentMarker(ctx.stage),
  limit = COMMENT_LIMIT
): string {
  // The embedded pre-deploy report names its own run's accounts: masked as well.
  const ids = [...(ctx.accountIds ?? []), ...(ctx.earlierReport?.accountIds ?? [])]
  const compose = (body: string): string => `${marker}\n${maskAccountIds(body, ids)}`
  const full = compose(renderReport(ctx))
  if (full.length <= limit) return full

  const footnote = `_Details (differences, decision paths, import templates) are left out to fit GitHub's comment size limit: see ${seeSummary(ctx)}._`
  const render = (maxTables?: number): string =>
    compose(renderReport(ctx, { details: false, maxTables, footnote }))
  const withoutDetails = render()
  if (withoutDetails.length <= limit) return withoutDetails

  // The length grows with the number of tables shown: find the most that fit.
  let lo = 0
  let hi = ctx.result.plan?.entries.length ?? 0
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (render(mid).length <= limit) lo = mid
    else hi = mid - 1
  }
  const fitted = render(lo)
  if (fitted.length <= limit) return fitted
  return cutAtLine(fitted, limit, `\n\n_… cut to fit GitHub's comment size limit: see ${seeSummary(ctx)}._\n`)
}

/** What an account id becomes in the PR comment: as long as one, and obviously not one. */
export const MASKED_ACCOUNT = 'XXXXXXXXXXXX'

/**
 * AWS account ids are shown in the job summary (readable by those who can read the run) but not
 * in the PR comment, which may be public: the account field of every ARN, the account of a CDK
 * environment (`aws://123456789012/us-east-1`), the given ids (the credentials' account,
 * protected-accounts, the template's accounts) wherever they stand alone, and, as a backstop for an
 * id the report does not know it names (another account's backup, a message from AWS), any
 * 12-digit number that follows the word account (`account 123456789012`, `accounts: …, …`,
 * `accountId`) on the same line. Same length, so nothing else moves.
 */
export function maskAccountIds(text: string, accountIds: readonly string[]): string {
  const standalone = /(?<!\d)\d{12}(?!\d)/g
  let out = text
    .replace(/(arn:[A-Za-z0-9-]+:[A-Za-z0-9-]*:[A-Za-z0-9-]*:)(\d{12})(?=:)/g, `$1${MASKED_ACCOUNT}`)
    .replace(/(aws:\/\/)(\d{12})(?=\/)/g, `$1${MASKED_ACCOUNT}`)
    .replace(/\baccount(?:s|[ _-]?ids?)?\b[^\n]{0,160}/gi, named => named.replace(standalone, MASKED_ACCOUNT))
  for (const id of new Set(accountIds)) {
    if (!/^\d{12}$/.test(id)) continue
    out = out.replace(new RegExp(`(?<!\\d)${id}(?!\\d)`, 'g'), MASKED_ACCOUNT)
  }
  return out
}

/** Cut `text` at the last line break that leaves room for `tail`. */
function cutAtLine(text: string, limit: number, tail: string): string {
  const room = Math.max(0, limit - tail.length)
  const cut = text.lastIndexOf('\n', room)
  return `${text.slice(0, cut > 0 ? cut : room)}${tail}`.slice(0, limit)
}

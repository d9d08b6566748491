/**
 * Reports cannot be hijacked by what they quote: outside text (attribute and index names, AWS
 * messages, stack status reasons, step details) holding links, images, mentions, HTML, headings
 * and backticks renders as text, in the job summary and in the PR comment, checked with a real
 * markdown tokenizer. Account ids show in the summary and are masked in the comment. The paths
 * that read real table data run against moto in injection.moto.test.ts.
 */
import { describe, expect, it } from '@jest/globals'
import { code } from '../../src/errors.js'
import {
  escapeCell,
  escapeProse,
  escapeText,
  maskAccountIds,
  renderComment,
  renderReport
} from '../../src/report/markdown.js'
import { inspectMarkdown, renderedText } from '../../test-support/markdown-check.js'
import { accountRefusal } from '../../src/inspect/inspect.js'
import { foreignManifest } from '../../src/inspect/owed-restores.js'
import { TOOL_NAME, type BackupManifest } from '../../src/data/manifest.js'
import type { TableSpec } from '../../src/types.js'
import { blockedEntry, context, difference, entry, result } from './builders.js'

export const EVIL =
  '[x](https://e.example) ![i](https://e.example/i.png) @octocat <b>x</b> # h `tick` ``two`` www.e.example #12 a@b.example $x$ ~~s~~ **b** <!-- c --> &amp; |'
const ACCOUNT = '123456789012'
const ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/GitHubActions`
const OWN_HEADINGS = [
  /^(✅|🧪|🛑|🔧|♻️|❌|👀)/u,
  /^Stack `pr-5-[a-z-]+`( · `[a-z0-9-]+`)*$/,
  /^\(no stack\)$/,
  /^(Notes|What was done|What a real run would do|Backups|Restore|Warnings)$/
]

function evilContext() {
  const attr = `at\`tr ${EVIL}`
  const bad = entry({
    table: 'pr-5-main-table',
    exists: true,
    owner: 'unknown',
    hasData: true,
    orphan: false,
    decision: 'blocked',
    differences: [
      difference({
        property: 'GlobalSecondaryIndexes',
        severity: 'blocking',
        live: `${attr} (S)`,
        template: `${attr} (N)`,
        message: `Key attribute ${code(attr)} differs: ${EVIL}`
      })
    ],
    reasons: [
      `The owner of table pr-5-main-table could not be determined: DescribeStackResources was denied: User: ${ARN} is not authorized ${EVIL}`,
      `# h ${EVIL}`,
      `- list ${EVIL}`,
      `1. ordered ${EVIL}`,
      `    indented ${EVIL}`
    ],
    path: [{ question: `Attribute ${attr}?`, answer: EVIL }]
  })
  return context({
    result: result({
      outcome: 'failed',
      entries: [blockedEntry, bad],
      notes: [`Stack pr-5-database is UPDATE_ROLLBACK_FAILED (${EVIL}): repair it`],
      steps: [
        {
          table: 'pr-5-main-table',
          action: `export ${EVIL}`,
          status: 'failed',
          detail: `Restore into pr-5-main-table stopped: the item at data/segment-0-of-1.json.gz line 3 (key hash 0123456789ab) was refused: ${EVIL} by ${ARN}`
        }
      ],
      stateNote: `Refusing to delete pr-5-main-table: ${EVIL}\n# heading line\n> quote line ${ARN}`
    }),
    discoveryNotes: [EVIL],
    warnings: [`Warning ${EVIL}`],
    unresolved: [{ logicalId: 'Dyn', stack: 'pr-5-database', reason: EVIL }],
    accountIds: [ACCOUNT],
    runUrl: 'https://github.com/o/r/actions/runs/9'
  })
}

describe('outside text renders as text: no link, image, mention, HTML or heading from it', () => {
  const ctx = evilContext()
  const outputs = { summary: renderReport(ctx), comment: renderComment(ctx) }

  it.each(Object.entries(outputs))('%s', (_name, markdown) => {
    expect(inspectMarkdown(markdown, { ownLinks: [ctx.runUrl ?? ''], ownHeadings: OWN_HEADINGS })).toEqual({
      links: [],
      images: [],
      html: [],
      headings: [],
      autolinkable: []
    })
    // Shown, literally: a reader sees the text, not what it would have made.
    const seen = renderedText(markdown)
    expect(seen).toContain('[x](https:\u200B//e.example)')
    expect(seen).toContain('<b>x</b>')
    expect(seen).toContain('@\u200Boctocat')
  })

  it('attribute names stay whole code spans, backticks included', () => {
    expect(outputs.summary).toContain(
      code(`at\`tr ${EVIL}`.replace(/\|/g, '\\|')).replace(/\|/g, '\\|').slice(0, 3)
    )
    const spans = inspectCodeSpans(outputs.summary)
    expect(spans.some(s => s.startsWith('at`tr [x](https://e.example)'))).toBe(true)
  })

  it('account ids: shown in the job summary, masked in the PR comment (ARNs and the known ids)', () => {
    expect(outputs.summary).toContain(ARN)
    expect(outputs.comment).not.toContain(ACCOUNT)
    expect(outputs.comment).toContain('arn:aws:sts::XXXXXXXXXXXX:assumed-role/deployer/GitHubActions')
  })
})

describe('account ids that stand alone: none reaches the PR comment (issue 11), all stay in the summary', () => {
  const OTHER = '210987654321'
  const FOREIGN = '999999999999'
  const TWELVE_DIGITS = /(?<!\d)\d{12}(?!\d)/
  // The texts as the code writes them.
  const spec = { stack: 'pr-5-eu', account: OTHER } as TableSpec
  const refusal = accountRefusal(spec, { account: ACCOUNT, arn: ARN, userId: 'AROA:x', partition: 'aws' })
  const manifest = {
    tool: { name: TOOL_NAME },
    stage: 'pr-5',
    table: { name: 'pr-5-orders', region: 'eu-west-1', accountId: FOREIGN }
  } as unknown as BackupManifest
  const foreign = `pr-5-orders: s3://b/pr-5/pr-5-orders/20250304T050607Z/manifest.json is ${foreignManifest(manifest, { table: 'pr-5-orders', stage: 'pr-5', region: 'eu-west-1', account: ACCOUNT }) ?? ''}: not loaded`
  const preDeploy = context({
    accountIds: [ACCOUNT],
    result: result({
      entries: [entry({ table: 'pr-5-eu-orders', notCheckable: refusal ?? '', reasons: [refusal ?? ''] })],
      restoreNotes: [foreign]
    }),
    // The credentials' account where no word says it is one (a table named after it).
    discoveryNotes: [`table pr-5-${ACCOUNT}-cache is named after the deploy's account`]
  })

  it('the texts do name the ids (else this test proves nothing)', () => {
    expect(refusal).toContain(OTHER)
    expect(foreign).toContain(FOREIGN)
    const summary = renderReport(preDeploy)
    for (const id of [ACCOUNT, OTHER, FOREIGN]) expect(summary).toContain(id)
  })

  it('another account named from the template, a foreign manifest, the credentials own: masked', () => {
    expect(renderComment({ ...preDeploy, accountIds: [ACCOUNT, OTHER] })).not.toMatch(TWELVE_DIGITS)
    // Not told the template's account or the manifest's: the backstop (an id after the word account).
    expect(renderComment(preDeploy)).not.toMatch(TWELVE_DIGITS)
  })

  it('the restore comment: the pre-deploy report inside it is masked with its own accounts', () => {
    const restore = context({ phase: 'restore', accountIds: [], earlierReport: preDeploy })
    expect(renderReport(restore)).toContain(`pr-5-${ACCOUNT}-cache`)
    expect(renderComment(restore)).not.toMatch(TWELVE_DIGITS)
  })

  it('maskAccountIds: a CDK environment and an id after the word account, alone or in a list', () => {
    expect(
      maskAccountIds(
        `aws://${ACCOUNT}/eu-west-1; accounts: ${OTHER}, ${FOREIGN}; "accountId": "${ACCOUNT}"; 123456789012345 items`,
        []
      )
    ).toBe(
      'aws://XXXXXXXXXXXX/eu-west-1; accounts: XXXXXXXXXXXX, XXXXXXXXXXXX; "accountId": "XXXXXXXXXXXX"; 123456789012345 items'
    )
  })
})

function inspectCodeSpans(markdown: string): string[] {
  return renderedText(markdown).split('\n')
}

describe('the escapers, one by one', () => {
  it.each([
    ['escapeText', escapeText],
    ['escapeProse', escapeProse],
    ['escapeCell', escapeCell]
  ])('%s neutralises every construct in one line of outside text', (_name, escape) => {
    const line = `- ${escape(EVIL)}`
    expect(inspectMarkdown(line)).toEqual({ links: [], images: [], html: [], headings: [], autolinkable: [] })
  })

  it.each([
    ['# h', '\\#&#8203; h'],
    ['- item', '\\- item'],
    ['+ item', '\\+ item'],
    ['12. item', '12\\. item'],
    ['    code', 'code'],
    ['ROLLBACK_COMPLETE', 'ROLLBACK_COMPLETE'],
    ['_emphasis_', '\\_emphasis\\_'],
    ['a@b.example', 'a@&#8203;b.example']
  ])('escapeProse(%j) → %j', (input, expected) => {
    expect(escapeProse(input)).toBe(expected)
  })

  it('keeps the code spans the action wrote, of any fence length, and escapes stray backticks', () => {
    expect(escapeProse(`key ${code('a`b')} and ${code('[x](y)')} then \` alone`)).toBe(
      'key ``a`b`` and `[x](y)` then \\` alone'
    )
  })

  it('maskAccountIds: the account field of any ARN, and given ids standing alone', () => {
    expect(
      maskAccountIds(
        `arn:aws:iam::${ACCOUNT}:role/x arn:aws-cn:dynamodb:cn-north-1:${ACCOUNT}:table/t id ${ACCOUNT} x${ACCOUNT}9`,
        [ACCOUNT]
      )
    ).toBe(
      'arn:aws:iam::XXXXXXXXXXXX:role/x arn:aws-cn:dynamodb:cn-north-1:XXXXXXXXXXXX:table/t id XXXXXXXXXXXX x1234567890129'
    )
  })
})

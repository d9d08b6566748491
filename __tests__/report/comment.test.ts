import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import {
  commentFailureMessage,
  findStickyComment,
  resolvePrNumber,
  upsertStickyComment
} from '../../src/report/comment.js'
import type { EventContext, GitHubClient, IssueComment } from '../../src/report/comment.js'
import { commentMarker } from '../../src/report/markdown.js'
import type { Logger } from '../../src/types.js'
import { startGitHubApi } from '../../test-support/github-api.js'
import type { GitHubApi } from '../../test-support/github-api.js'

function recordingLogger(): Logger & { infos: string[]; warnings: string[] } {
  const infos: string[] = []
  const warnings: string[] = []
  return { infos, warnings, info: m => infos.push(m), warning: m => warnings.push(m), debug: () => undefined }
}

const marker = commentMarker('pr-5')

describe('upsertStickyComment against the GitHub API stand-in', () => {
  let api: GitHubApi
  let octokit: GitHubClient
  let logger: ReturnType<typeof recordingLogger>
  let issue = 0

  beforeAll(async () => {
    api = await startGitHubApi()
    octokit = getOctokit('ghs_test-token', { baseUrl: api.url })
  })
  afterAll(async () => {
    await api.stop()
  })
  beforeEach(() => {
    issue += 1 // every test on its own pull request
    api.failWith(null)
    api.requests.length = 0
    logger = recordingLogger()
  })

  const upsert = (body: string, issueNumber: number | null = issue) =>
    upsertStickyComment(octokit, {
      owner: 'o',
      repo: 'r',
      issueNumber,
      marker,
      body: `${marker}\n${body}`,
      logger
    })

  it('creates the comment once, then updates the same comment in place', async () => {
    const first = await upsert('first report')
    expect(first).toMatchObject({
      action: 'created',
      url: expect.stringContaining(`/pull/${issue}#issuecomment-`)
    })

    const second = await upsert('second report')
    expect(second).toEqual({ action: 'updated', id: first.id, url: first.url })

    const comments = api.comments(issue)
    expect(comments).toHaveLength(1)
    expect(comments[0]).toMatchObject({ id: first.id, body: `${marker}\nsecond report` })
    expect(api.requests.map(r => r.method)).toEqual(['GET', 'POST', 'GET', 'PATCH'])
    expect(api.requests[0]).toMatchObject({
      query: { per_page: '100' },
      authorization: 'token ghs_test-token'
    })
    expect(logger.warnings).toEqual([])
  })

  it('finds its comment on page 2 when the PR has 150 other comments', async () => {
    api.seed(issue, 150)
    const created = await upsert('first report')
    expect(created.action).toBe('created')
    api.requests.length = 0

    const updated = await upsert('second report')
    expect(updated).toMatchObject({ action: 'updated', id: created.id })
    expect(api.requests.map(r => `${r.method} ${r.query.page ?? '1'}`)).toEqual(['GET 1', 'GET 2', 'PATCH 1'])
    expect(api.comments(issue)).toHaveLength(151)
    expect(api.comments(issue).filter(c => c.body.includes(marker))).toHaveLength(1)
  })

  it("leaves another stage's comment alone", async () => {
    api.addComment(issue, `${commentMarker('pr-50')}\nother stage`)
    const result = await upsert('report')
    expect(result.action).toBe('created')
    expect(api.comments(issue).map(c => c.body)).toEqual([
      `${commentMarker('pr-50')}\nother stage`,
      `${marker}\nreport`
    ])
  })

  it("prefers the bot's comment over a human comment that quotes the marker", async () => {
    const bots = api.addComment(issue, `${marker}\nold report`)
    api.addComment(issue, `copied: ${marker}`, { login: 'someone', type: 'User' })
    const result = await upsert('new report')
    expect(result).toMatchObject({ action: 'updated', id: bots.id })
    expect(api.comments(issue).find(c => c.user.login === 'someone')?.body).toBe(`copied: ${marker}`)
  })

  it('turns a 403 on create into a warning naming pull-requests: write, without throwing', async () => {
    api.failWith(403, { methods: ['POST', 'PATCH'] })
    const result = await upsert('report')
    expect(result).toEqual({ action: 'skipped' })
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toContain('HTTP 403: Resource not accessible by integration')
    expect(logger.warnings[0]).toContain('`permissions: pull-requests: write`')
    expect(logger.warnings[0]).toContain('forks only get a read-only GITHUB_TOKEN')
    expect(api.comments(issue)).toHaveLength(0)
  })

  it('turns a 403 on listing into the same warning', async () => {
    api.failWith(403)
    await expect(upsert('report')).resolves.toEqual({ action: 'skipped' })
    expect(logger.warnings[0]).toContain('pull-requests: write')
  })

  it('turns any other failure into a warning that names the status', async () => {
    api.failWith(500)
    await expect(upsert('report')).resolves.toEqual({ action: 'skipped' })
    expect(logger.warnings).toEqual([
      `Could not write the PR comment on o/r#${issue} (HTTP 500): Server Error. The job summary has the full report.`
    ])
  })

  it('creates a new comment when the old one was deleted between listing and updating', async () => {
    api.addComment(issue, `${marker}\nold report`)
    api.failWith(404, { methods: ['PATCH'] })
    const result = await upsert('new report')
    expect(result.action).toBe('created')
    expect(api.requests.map(r => r.method)).toEqual(['GET', 'PATCH', 'POST'])
    expect(logger.warnings).toEqual([])
  })

  it('skips with an info line and no request when there is no pull request', async () => {
    await expect(upsert('report', null)).resolves.toEqual({ action: 'skipped' })
    expect(logger.infos).toEqual([
      'No pull request for this run (not a pull request event and no pr-number input): PR comment skipped.'
    ])
    expect(api.requests).toHaveLength(0)
  })

  it('adds the marker when the body lacks it', async () => {
    await upsertStickyComment(octokit, {
      owner: 'o',
      repo: 'r',
      issueNumber: issue,
      marker,
      body: 'bare',
      logger
    })
    expect(api.comments(issue)[0]?.body).toBe(`${marker}\nbare`)
  })
})

describe('the GitHub API stand-in paginates like GitHub', () => {
  it('answers with a Link header naming prev, next, last and first pages', async () => {
    const api = await startGitHubApi()
    try {
      api.seed(1, 250)
      const get = (query: string) =>
        fetch(`${api.url}/repos/o/r/issues/1/comments?${query}`, { headers: { authorization: 'token t' } })
      const first = await get('per_page=100')
      expect(first.headers.get('link')).toBe(
        `<${api.url}/repos/o/r/issues/1/comments?per_page=100&page=2>; rel="next", ` +
          `<${api.url}/repos/o/r/issues/1/comments?per_page=100&page=3>; rel="last"`
      )
      expect(await first.json()).toHaveLength(100)
      const middle = await get('per_page=100&page=2')
      expect(middle.headers.get('link')).toBe(
        `<${api.url}/repos/o/r/issues/1/comments?per_page=100&page=1>; rel="prev", ` +
          `<${api.url}/repos/o/r/issues/1/comments?per_page=100&page=3>; rel="next", ` +
          `<${api.url}/repos/o/r/issues/1/comments?per_page=100&page=3>; rel="last", ` +
          `<${api.url}/repos/o/r/issues/1/comments?per_page=100&page=1>; rel="first"`
      )
      const last = await get('per_page=100&page=3')
      expect(await last.json()).toHaveLength(50)
      expect(last.headers.get('link')).not.toContain('rel="next"')
      // Without per_page GitHub pages by 30: 250 comments make 9 pages.
      const byDefault = await get('')
      expect(await byDefault.json()).toHaveLength(30)
      expect(byDefault.headers.get('link')).toContain(
        `<${api.url}/repos/o/r/issues/1/comments?page=9>; rel="last"`
      )
    } finally {
      await api.stop()
    }
  })
})

describe('findStickyComment', () => {
  const c = (
    id: number,
    body: string,
    type: 'Bot' | 'User',
    at: number,
    login = 'github-actions[bot]'
  ): IssueComment => ({
    id,
    body,
    user: { login, type },
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, at)).toISOString(),
    html_url: `u${id}`
  })

  it.each([
    ['no comment holds the marker', [c(1, 'hello', 'Bot', 1)], undefined, undefined],
    ['the only match', [c(1, 'hello', 'User', 1), c(2, `${marker}\nx`, 'Bot', 2)], undefined, 2],
    [
      'the newest of several bot matches',
      [c(1, marker, 'Bot', 1), c(2, marker, 'Bot', 3), c(3, marker, 'Bot', 2)],
      undefined,
      2
    ],
    [
      'a bot match over a newer human one',
      [c(1, marker, 'Bot', 1), c(2, marker, 'User', 2, 'alice')],
      undefined,
      1
    ],
    ['a human match when no bot wrote one (PAT)', [c(1, marker, 'User', 1, 'alice')], undefined, 1],
    ['the named author over bots', [c(1, marker, 'User', 1, 'me'), c(2, marker, 'Bot', 2)], 'me', 1],
    ['a null body', [{ ...c(1, '', 'Bot', 1), body: null }], undefined, undefined]
  ])('picks %s', (_name, comments, author, expectedId) => {
    expect(findStickyComment(comments, marker, author)?.id).toBe(expectedId)
  })
})

describe('resolvePrNumber', () => {
  const cases: Array<[string, EventContext, number | null, number | null]> = [
    ['pull_request event', { eventName: 'pull_request', payload: { pull_request: { number: 5 } } }, null, 5],
    [
      'pull_request_target event',
      { eventName: 'pull_request_target', payload: { pull_request: { number: 6 } } },
      99,
      6
    ],
    [
      'issue_comment on a PR',
      { eventName: 'issue_comment', payload: { issue: { number: 7, pull_request: { url: 'x' } } } },
      null,
      7
    ],
    [
      'issue_comment on an issue falls back to the input',
      { eventName: 'issue_comment', payload: { issue: { number: 8 } } },
      3,
      3
    ],
    ['workflow_dispatch with the input', { eventName: 'workflow_dispatch', payload: {} }, 12, 12],
    ['push without the input', { eventName: 'push', payload: {} }, null, null]
  ]
  it.each(cases)('%s', (_name, context, input, expected) => {
    expect(resolvePrNumber(context, input)).toBe(expected)
  })
})

describe('commentFailureMessage', () => {
  it('tells a rate limit apart from a missing permission', () => {
    const err = Object.assign(new Error('x'), {
      status: 403,
      response: { data: { message: 'You have exceeded a secondary rate limit.' } }
    })
    const message = commentFailureMessage(err, 'o/r#1')
    expect(message).toContain("GitHub's API rate limit was hit")
    expect(message).not.toContain('pull-requests: write')
  })

  it('names the permission on a 404 as well (private repository, token without access)', () => {
    const err = Object.assign(new Error('Not Found'), {
      status: 404,
      response: { data: { message: 'Not Found' } }
    })
    expect(commentFailureMessage(err, 'o/r#1')).toContain('`permissions: pull-requests: write`')
  })
})

import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import {
  commentFailureMessage,
  findStickyComment,
  resolvePrNumber,
  tokenIdentity,
  upsertStickyComment
} from '../../src/report/comment.js'
import type { EventContext, GitHubClient, IssueComment, TokenIdentity } from '../../src/report/comment.js'
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
    // The first run has no marked comment to choose from, so it does not ask who the token is.
    expect(api.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/o/r/issues/${issue}/comments`,
      `POST /repos/o/r/issues/${issue}/comments`,
      `GET /repos/o/r/issues/${issue}/comments`,
      'GET /user',
      'POST /graphql',
      `PATCH /repos/o/r/issues/comments/${first.id}`
    ])
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
    expect(api.requests.map(r => `${r.method} ${r.path.split('/').at(-1)} ${r.query.page ?? '1'}`)).toEqual([
      'GET comments 1',
      'GET comments 2',
      'GET user 1',
      'POST graphql 1',
      `PATCH ${created.id} 1`
    ])
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

  it("updates the bot's own comment, never a human comment that quotes the marker (even a newer one)", async () => {
    const bots = api.addComment(issue, `${marker}\nold report`)
    api.addComment(issue, `copied: ${marker}`, { login: 'someone', type: 'User' })
    const result = await upsert('new report')
    expect(result).toMatchObject({ action: 'updated', id: bots.id })
    expect(api.comments(issue).find(c => c.user.login === 'someone')?.body).toBe(`copied: ${marker}`)
  })

  it("a user's comment with the marker, posted before the first run: the action creates its own and never edits the user's", async () => {
    const planted = api.addComment(issue, `${marker}\n[pay here](https://e.example)`, {
      login: 'mallory',
      type: 'User'
    })
    const first = await upsert('first report')
    const second = await upsert('second report')

    expect(first.action).toBe('created')
    expect(second).toMatchObject({ action: 'updated', id: first.id })
    expect(api.requests.filter(r => r.method === 'PATCH').map(r => r.path)).toEqual([
      `/repos/o/r/issues/comments/${first.id}`
    ])
    const comments = api.comments(issue)
    expect(comments.find(c => c.id === planted.id)?.body).toBe(`${marker}\n[pay here](https://e.example)`)
    expect(comments.find(c => c.id === first.id)).toMatchObject({
      body: `${marker}\nsecond report`,
      user: { login: 'github-actions[bot]', type: 'Bot' }
    })
    expect(logger.infos.some(l => /Left alone: 1 comment\(s\) .* by others \(mallory\)/.test(l))).toBe(true)
    expect(logger.warnings).toEqual([])
  })

  it('a personal access token: GET /user names its user; only that user’s marked comment is updated, not the bot’s', async () => {
    const pat = getOctokit('ghp_personal', { baseUrl: api.url })
    const bots = api.addComment(issue, `${marker}\nby GITHUB_TOKEN`)
    const result = await upsertStickyComment(pat, {
      owner: 'o',
      repo: 'r',
      issueNumber: issue,
      marker,
      body: `${marker}\nby the PAT`,
      logger
    })
    expect(result.action).toBe('created')
    const again = await upsertStickyComment(pat, {
      owner: 'o',
      repo: 'r',
      issueNumber: issue,
      marker,
      body: `${marker}\nby the PAT again`,
      logger
    })
    expect(again).toMatchObject({ action: 'updated', id: result.id })
    expect(api.comments(issue).find(c => c.id === bots.id)?.body).toBe(`${marker}\nby GITHUB_TOKEN`)
    expect(api.requests.filter(r => r.path === '/graphql')).toEqual([])
  })

  it('a GitHub App token: the GraphQL viewer names its bot (with or without [bot]); GITHUB_TOKEN’s comment is not its own', async () => {
    api.identify('ghs_app', {
      login: 'deploy-app[bot]',
      id: 9000,
      type: 'Bot',
      kind: 'installation',
      viewerLogin: 'deploy-app'
    })
    const app = getOctokit('ghs_app', { baseUrl: api.url })
    const actions = api.addComment(issue, `${marker}\nby GITHUB_TOKEN`)
    const request = (body: string) => ({ owner: 'o', repo: 'r', issueNumber: issue, marker, body, logger })

    const first = await upsertStickyComment(app, request(`${marker}\napp 1`))
    const second = await upsertStickyComment(app, request(`${marker}\napp 2`))

    expect(first.action).toBe('created')
    expect(second).toMatchObject({ action: 'updated', id: first.id })
    expect(api.comments(issue).find(c => c.id === actions.id)?.body).toBe(`${marker}\nby GITHUB_TOKEN`)
    expect(api.comments(issue).find(c => c.id === first.id)?.user.login).toBe('deploy-app[bot]')
  })

  it('a 403 on the edit says GitHub refused to edit that comment (not a missing permission) and writes a new one', async () => {
    // An App token whose identity cannot be learnt is taken for GITHUB_TOKEN; GitHub then refuses
    // to let it edit github-actions[bot]'s comment.
    api.identify('ghs_mystery', {
      login: 'other-app[bot]',
      id: 9100,
      type: 'Bot',
      kind: 'installation',
      viewerFails: true
    })
    const mystery = getOctokit('ghs_mystery', { baseUrl: api.url })
    const actions = api.addComment(issue, `${marker}\nby GITHUB_TOKEN`)

    const result = await upsertStickyComment(mystery, {
      owner: 'o',
      repo: 'r',
      issueNumber: issue,
      marker,
      body: `${marker}\nreport`,
      logger
    })

    expect(result.action).toBe('created')
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toMatch(
      /GitHub refused to edit it \(HTTP 403: .*\): it is not a comment this token may edit/
    )
    expect(logger.warnings[0]).toContain('assumed: GITHUB_TOKEN')
    expect(logger.warnings[0]).not.toContain('pull-requests: write')
    expect(api.comments(issue).find(c => c.id === actions.id)?.body).toBe(`${marker}\nby GITHUB_TOKEN`)
  })

  it('turns a 403 on create into a warning naming pull-requests: write, without throwing', async () => {
    api.failWith(403, { methods: ['POST', 'PATCH'] })
    const result = await upsert('report')
    expect(result).toEqual({ action: 'skipped' })
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toContain('HTTP 403: Resource not accessible by integration')
    expect(logger.warnings[0]).toContain('The token has no permission to comment here')
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
    expect(api.requests.map(r => r.method)).toEqual(['GET', 'GET', 'POST', 'PATCH', 'POST'])
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

describe('findStickyComment: the marker AND the token’s own identity', () => {
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
  const actions: TokenIdentity = { login: 'github-actions[bot]', bot: true, source: 'GraphQL viewer' }
  const pat: TokenIdentity = { login: 'alice', bot: false, source: 'GET /user' }
  const app: TokenIdentity = { login: 'deploy-app', bot: true, source: 'GraphQL viewer' }

  it.each([
    ['nothing when no comment holds the marker', [c(1, 'hello', 'Bot', 1)], actions, undefined],
    ['the only own match', [c(1, 'hello', 'User', 1), c(2, `${marker}\nx`, 'Bot', 2)], actions, 2],
    [
      'the newest of several own matches',
      [c(1, marker, 'Bot', 1), c(2, marker, 'Bot', 3), c(3, marker, 'Bot', 2)],
      actions,
      2
    ],
    ['never a human comment, however new', [c(1, marker, 'User', 2, 'mallory')], actions, undefined],
    [
      'never a human whose login is the bot name without [bot]',
      [c(1, marker, 'User', 1, 'github-actions')],
      actions,
      undefined
    ],
    ["a PAT: its user's comment", [c(1, marker, 'User', 1, 'alice'), c(2, marker, 'Bot', 2)], pat, 1],
    ["a PAT: never the bot's", [c(2, marker, 'Bot', 2)], pat, undefined],
    ['a PAT: logins compare without case', [c(1, marker, 'User', 1, 'Alice')], pat, 1],
    ['an App: its bot, spelt with [bot] by REST', [c(1, marker, 'Bot', 1, 'deploy-app[bot]')], app, 1],
    ["an App: never GITHUB_TOKEN's bot", [c(1, marker, 'Bot', 1)], app, undefined],
    ['a null body', [{ ...c(1, '', 'Bot', 1), body: null }], actions, undefined]
  ] as const)('picks %s', (_name, comments, identity, expectedId) => {
    expect(findStickyComment([...comments], marker, identity)?.id).toBe(expectedId)
  })
})

describe('tokenIdentity', () => {
  let api: GitHubApi
  beforeAll(async () => {
    api = await startGitHubApi()
  })
  afterAll(() => api.stop())
  const quiet = recordingLogger()

  it.each([
    [
      'GITHUB_TOKEN (GET /user 403, GraphQL viewer)',
      'ghs_actions',
      { login: 'github-actions[bot]', bot: true, source: 'GraphQL viewer' }
    ],
    [
      'a personal access token (GET /user)',
      'ghp_mine',
      { login: 'release-bot-user', bot: false, source: 'GET /user' }
    ]
  ])('%s', async (_case, token, expected) => {
    expect(await tokenIdentity(getOctokit(token, { baseUrl: api.url }), quiet)).toEqual(expected)
  })

  it('an installation token whose viewer cannot be read is taken for GITHUB_TOKEN, and says so', async () => {
    api.identify('ghs_x', { login: 'x[bot]', id: 1, type: 'Bot', kind: 'installation', viewerFails: true })
    expect(await tokenIdentity(getOctokit('ghs_x', { baseUrl: api.url }), quiet)).toEqual({
      login: 'github-actions[bot]',
      bot: true,
      source: 'assumed: GITHUB_TOKEN'
    })
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

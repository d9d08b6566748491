import type { getOctokit } from '@actions/github'
import { errorMessage } from '../errors.js'
import type { Logger } from '../types.js'
import { COMMENT_LIMIT } from './markdown.js'

export type GitHubClient = ReturnType<typeof getOctokit>

/** The parts of `github.context` that say which pull request a run belongs to. */
export interface EventContext {
  eventName: string
  payload: {
    pull_request?: { number: number }
    issue?: { number: number; pull_request?: unknown }
  }
}

/** Events whose payload carries the pull request itself. */
const PULL_REQUEST_EVENTS = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment'
])

/**
 * The pull request to comment on: the event's own (pull_request*, or issue_comment on a PR),
 * else the `pr-number` input, else null (no comment).
 */
export function resolvePrNumber(context: EventContext, prNumberInput: number | null): number | null {
  const { eventName, payload } = context
  if (PULL_REQUEST_EVENTS.has(eventName) && typeof payload.pull_request?.number === 'number') {
    return payload.pull_request.number
  }
  if (
    eventName === 'issue_comment' &&
    payload.issue?.pull_request &&
    typeof payload.issue.number === 'number'
  ) {
    return payload.issue.number
  }
  return prNumberInput
}

export interface IssueComment {
  id: number
  body?: string | null
  user?: { login: string; type?: string } | null
  created_at: string
  html_url: string
}

/** Whose comments the token writes. */
export interface TokenIdentity {
  login: string
  /** An installation token (GITHUB_TOKEN, a GitHub App's) comments as a bot; a PAT as its user. */
  bot: boolean
  /** How it was learnt, for the log. */
  source: 'GET /user' | 'GraphQL viewer' | 'assumed: GITHUB_TOKEN'
}

/** The login GITHUB_TOKEN's comments carry. */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]'

/** A bot's login without the `[bot]` suffix REST adds (GraphQL may leave it out), lower case. */
function botName(login: string): string {
  return login.replace(/\[bot\]$/i, '').toLowerCase()
}

/** Whether `user` wrote as `identity`: a bot only matches a bot of that name, a user only that user. */
export function writtenBy(user: IssueComment['user'], identity: TokenIdentity): boolean {
  if (!user) return false
  if (identity.bot) return user.type === 'Bot' && botName(user.login) === botName(identity.login)
  return user.type !== 'Bot' && user.login.toLowerCase() === identity.login.toLowerCase()
}

/**
 * The sticky comment among a PR's comments: one whose body holds the marker AND that the token's
 * identity wrote (the newest, when there are several). A comment anyone else wrote is never
 * chosen, marker or not: editing it would take over a human's comment (or fail on every run).
 */
export function findStickyComment<C extends IssueComment>(
  comments: C[],
  marker: string,
  identity: TokenIdentity
): C | undefined {
  return comments
    .filter(c => typeof c.body === 'string' && c.body.includes(marker) && writtenBy(c.user, identity))
    .reduce<C | undefined>((newest, c) => {
      if (!newest) return c
      const byTime = Date.parse(c.created_at) - Date.parse(newest.created_at)
      return byTime > 0 || (byTime === 0 && c.id > newest.id) ? c : newest
    }, undefined)
}

/**
 * The identity the token writes comments as. A personal access token answers `GET /user` with its
 * user. An installation token (GITHUB_TOKEN, a GitHub App's token) gets 403 "Resource not
 * accessible by integration" there; the GraphQL `viewer` answers for it with the bot's login.
 * When that fails too, the token is taken for GITHUB_TOKEN (`github-actions[bot]`), the default of
 * `github-token`: a wrong guess only means a comment of our own is not found and a new one is
 * written (and an edit GitHub refuses is reported as such). Null when nothing answers.
 */
export async function tokenIdentity(octokit: GitHubClient, logger: Logger): Promise<TokenIdentity | null> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated()
    return { login: data.login, bot: data.type === 'Bot', source: 'GET /user' }
  } catch (err) {
    if (statusOf(err) !== 403) {
      logger.warning(
        `Could not learn whose comments the token writes (GET /user: ${apiMessage(err)}); an existing comment is not updated.`
      )
      return null
    }
  }
  try {
    const result = await octokit.graphql<{ viewer?: { login?: unknown } }>('query { viewer { login } }')
    const login = result.viewer?.login
    if (typeof login === 'string' && login !== '') return { login, bot: true, source: 'GraphQL viewer' }
  } catch (err) {
    logger.debug(`GraphQL viewer: ${apiMessage(err)}`)
  }
  return { login: ACTIONS_BOT_LOGIN, bot: true, source: 'assumed: GITHUB_TOKEN' }
}

export interface StickyCommentRequest {
  owner: string
  repo: string
  /** null: no pull request for this run; the comment is skipped with an info line. */
  issueNumber: number | null
  /** Hidden line that identifies the comment (see commentMarker). */
  marker: string
  body: string
  logger: Logger
  /** The token's identity when already known; otherwise it is learnt (tokenIdentity) when needed. */
  identity?: TokenIdentity | null
}

export interface StickyCommentResult {
  action: 'created' | 'updated' | 'skipped'
  id?: number
  url?: string
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number')
    return err.status
  return undefined
}

/** GitHub's own message from the response body when there is one (Octokit appends a docs link to err.message). */
function apiMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'response' in err) {
    const data = (err as { response?: { data?: unknown } }).response?.data
    if (typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string') {
      return data.message
    }
  }
  return errorMessage(err)
}

/** A warning that says what went wrong and what to change. */
export function commentFailureMessage(err: unknown, where: string): string {
  const status = statusOf(err)
  const message = apiMessage(err)
  const prefix = `Could not write the PR comment on ${where}`
  const fallback = 'The job summary has the full report.'
  if (status === 403 && /rate limit/i.test(message)) {
    return `${prefix}: GitHub's API rate limit was hit (${message}). ${fallback}`
  }
  const permissions =
    "The token has no permission to comment here: the workflow's token needs `permissions: pull-requests: write`; " +
    'pull requests from forks only get a read-only GITHUB_TOKEN, so no comment can be written there.'
  if (status === 403 || (status === 404 && /not accessible by integration/i.test(message))) {
    return `${prefix} (HTTP ${status}: ${message}). ${permissions} ${fallback}`
  }
  if (status === 404) {
    return `${prefix} (HTTP 404: ${message}): the pull request does not exist or the token cannot see it. ${permissions} ${fallback}`
  }
  return `${prefix}${status ? ` (HTTP ${status})` : ''}: ${message}. ${fallback}`
}

/**
 * Create the sticky comment, or update the existing one in place: the newest comment (across all
 * pages) that holds the marker and that the token's own identity wrote. Comments by anyone else
 * are left alone, marker or not. A 403 on the edit (GitHub refuses to edit that comment) is told
 * apart from a 403 on listing or creating (no permission to comment), and a new comment is written.
 * Never throws: a failure becomes a warning and `{ action: 'skipped' }`.
 */
export async function upsertStickyComment(
  octokit: GitHubClient,
  request: StickyCommentRequest
): Promise<StickyCommentResult> {
  const { owner, repo, issueNumber, marker, logger } = request
  if (issueNumber === null) {
    logger.info(
      'No pull request for this run (not a pull request event and no pr-number input): PR comment skipped.'
    )
    return { action: 'skipped' }
  }
  const body = request.body.includes(marker) ? request.body : `${marker}\n${request.body}`
  const where = `${owner}/${repo}#${issueNumber}`
  if (body.length > COMMENT_LIMIT) {
    logger.warning(`PR comment skipped: ${body.length} characters exceed GitHub's limit of ${COMMENT_LIMIT}.`)
    return { action: 'skipped' }
  }
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issueNumber,
      per_page: 100
    })
    const marked = comments.filter(c => typeof c.body === 'string' && c.body.includes(marker))
    // Only asked when there is a comment to choose from: the first run just creates its own.
    const identity =
      marked.length === 0
        ? null
        : request.identity !== undefined
          ? request.identity
          : await tokenIdentity(octokit, logger)
    if (identity) logger.debug(`The token writes comments as ${identity.login} (${identity.source}).`)
    const existing = identity ? findStickyComment(marked, marker, identity) : undefined
    const others = marked.filter(c => c !== existing)
    if (others.length > 0) {
      logger.info(
        `Left alone: ${others.length} comment(s) holding this stage's marker written by others (${[
          ...new Set(others.map(c => c.user?.login ?? '?'))
        ].join(', ')}); the token writes as ${identity?.login ?? 'an unknown identity'}.`
      )
    }
    if (existing) {
      try {
        const { data } = await octokit.rest.issues.updateComment({
          owner,
          repo,
          comment_id: existing.id,
          body
        })
        logger.info(`Updated the PR comment ${data.html_url}`)
        return { action: 'updated', id: data.id, url: data.html_url }
      } catch (err) {
        const status = statusOf(err)
        if (status === 404) {
          // Deleted between listing and updating: write a fresh one instead.
          logger.info(`The PR comment ${existing.id} is gone; creating a new one.`)
        } else if (status === 403) {
          // Not a permission problem of the token as such: GitHub refuses this one edit.
          logger.warning(
            `The PR comment ${existing.html_url} (by ${existing.user?.login ?? '?'}) holds the marker but GitHub refused to edit it (HTTP 403: ${apiMessage(err)}): it is not a comment this token may edit (its identity was taken to be ${identity?.login ?? '?'}, ${identity?.source ?? '?'}). It is left as it is and a new comment is written.`
          )
        } else throw err
      }
    }
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body })
    logger.info(`Created the PR comment ${data.html_url}`)
    return { action: 'created', id: data.id, url: data.html_url }
  } catch (err) {
    logger.warning(commentFailureMessage(err, where))
    return { action: 'skipped' }
  }
}

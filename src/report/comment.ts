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

/**
 * The sticky comment among a PR's comments: those whose body holds the marker; among them the ones
 * by `author` (else by a bot, as GITHUB_TOKEN's github-actions[bot] is) are preferred, and the
 * newest of the chosen group wins.
 */
export function findStickyComment<C extends IssueComment>(
  comments: C[],
  marker: string,
  author?: string
): C | undefined {
  const matching = comments.filter(c => typeof c.body === 'string' && c.body.includes(marker))
  const preferred = matching.filter(c => (author ? c.user?.login === author : c.user?.type === 'Bot'))
  const pool = preferred.length > 0 ? preferred : matching
  return pool.reduce<C | undefined>((newest, c) => {
    if (!newest) return c
    const byTime = Date.parse(c.created_at) - Date.parse(newest.created_at)
    return byTime > 0 || (byTime === 0 && c.id > newest.id) ? c : newest
  }, undefined)
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
  /** Login of the token's user, when known; otherwise comments by bots are preferred. */
  author?: string
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
    "The workflow's token needs `permissions: pull-requests: write`; pull requests from forks only get a " +
    'read-only GITHUB_TOKEN, so no comment can be written there.'
  if (status === 403 || (status === 404 && /not accessible by integration/i.test(message))) {
    return `${prefix} (HTTP ${status}: ${message}). ${permissions} ${fallback}`
  }
  if (status === 404) {
    return `${prefix} (HTTP 404: ${message}): the pull request does not exist or the token cannot see it. ${permissions} ${fallback}`
  }
  return `${prefix}${status ? ` (HTTP ${status})` : ''}: ${message}. ${fallback}`
}

/**
 * Create the sticky comment, or update the existing one in place (found by its marker across all
 * pages of comments). Never throws: a failure becomes a warning and `{ action: 'skipped' }`.
 */
export async function upsertStickyComment(
  octokit: GitHubClient,
  request: StickyCommentRequest
): Promise<StickyCommentResult> {
  const { owner, repo, issueNumber, marker, logger, author } = request
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
    const existing = findStickyComment(comments, marker, author)
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
        // Deleted between listing and updating: write a fresh one instead.
        if (statusOf(err) !== 404) throw err
        logger.info(`The PR comment ${existing.id} is gone; creating a new one.`)
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

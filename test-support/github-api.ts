/**
 * A loopback stand-in for the part of the GitHub API the sticky PR comment uses: list (paginated
 * exactly like GitHub, with a `Link` header), create and update issue comments, and learning the
 * token's identity. Every token has an identity: an installation token (`ghs_…`: GITHUB_TOKEN,
 * github-actions[bot], unless `identify` says otherwise) answers 403 "Resource not accessible by
 * integration" on GET /user and its bot's login on the GraphQL `viewer`; a personal access token
 * (`ghp_…`, `github_pat_…`) answers GET /user with its user. A comment is stored as written by the
 * token's identity, and only its author may edit it (others get 403, as GitHub answers a token
 * that may not edit that comment).
 * Point a real Octokit at it with `getOctokit(token, { baseUrl: api.url })`.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StoredComment {
  id: number
  node_id: string
  url: string
  html_url: string
  issue_url: string
  body: string
  user: { login: string; id: number; type: 'Bot' | 'User' }
  author_association: string
  created_at: string
  updated_at: string
}

export interface RecordedRequest {
  method: string
  /** Path without the query string. */
  path: string
  query: Record<string, string>
  authorization: string | undefined
  /** Parsed JSON body (undefined when there was none). */
  body: unknown
}

/** Who a token is. */
export interface TokenOwner {
  login: string
  id: number
  type: 'Bot' | 'User'
  /** installation: GITHUB_TOKEN or a GitHub App's token; user: a personal access token. */
  kind: 'installation' | 'user'
  /** What the GraphQL viewer answers (default: login); GraphQL may spell a bot without `[bot]`. */
  viewerLogin?: string
  /** GraphQL answers with an error instead (default false). */
  viewerFails?: boolean
}

export interface FailureOptions {
  /** Only requests with these methods fail (default: all). */
  methods?: string[]
}

export interface GitHubApi {
  url: string
  /** The comments of an issue/PR, oldest first, as stored now. */
  comments(issue: number): StoredComment[]
  requests: RecordedRequest[]
  /** Add `n` comments by other users (humans) to an issue. */
  seed(issue: number, n: number): void
  /** Add one comment with the given body and author. */
  addComment(issue: number, body: string, user?: { login: string; type: 'Bot' | 'User' }): StoredComment
  /** Answer every later request (or those of `methods`) with this status and GitHub's body for it; null heals. */
  failWith(status: number | null, options?: FailureOptions): void
  /** Says who a token is (see the module comment for the defaults). */
  identify(token: string, owner: TokenOwner): void
  stop(): Promise<void>
}

/** The login and type GITHUB_TOKEN's comments carry. */
export const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' as const }

/** The user a personal access token belongs to, unless `identify` says otherwise. */
export const PAT_OWNER = { login: 'release-bot-user', id: 7000, type: 'User' as const }

const DEFAULT_PER_PAGE = 30
const MAX_PER_PAGE = 100
const MAX_BODY = 65_536

/** GitHub's error bodies for the statuses tests use. */
function errorBody(status: number): Record<string, string> {
  const docs = 'https://docs.github.com/rest/issues/comments'
  switch (status) {
    case 401:
      return { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }
    case 403:
      return { message: 'Resource not accessible by integration', documentation_url: docs, status: '403' }
    case 404:
      return { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }
    case 422:
      return { message: 'Validation Failed', documentation_url: docs, status: '422' }
    default:
      return { message: 'Server Error', status: String(status) }
  }
}

export async function startGitHubApi(): Promise<GitHubApi> {
  const byIssue = new Map<number, StoredComment[]>()
  const requests: RecordedRequest[] = []
  let nextId = 1_000_001
  let tick = 0
  let failure: { status: number; methods?: string[] } | null = null
  let baseUrl = ''
  const owners = new Map<string, TokenOwner>()

  /** The identity behind an Authorization header (`token X` or `bearer X`). */
  function ownerOf(authorization: string): TokenOwner {
    const token = authorization.replace(/^(token|bearer)\s+/i, '')
    const known = owners.get(token)
    if (known) return known
    if (/^(ghp_|github_pat_)/.test(token)) return { ...PAT_OWNER, kind: 'user' }
    return { ...ACTIONS_BOT, kind: 'installation' }
  }

  /** A deterministic clock: every stored change is one second after the previous one. */
  const now = (): string => new Date(Date.UTC(2026, 0, 1) + tick++ * 1000).toISOString()

  function store(
    issue: number,
    body: string,
    user: StoredComment['user'],
    owner = 'o',
    repo = 'r'
  ): StoredComment {
    const id = nextId++
    const at = now()
    const comment: StoredComment = {
      id,
      node_id: `IC_kwDO${id.toString(36)}`,
      url: `${baseUrl}/repos/${owner}/${repo}/issues/comments/${id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${baseUrl}/repos/${owner}/${repo}/issues/${issue}`,
      body,
      user,
      author_association: user.type === 'Bot' ? 'NONE' : 'CONTRIBUTOR',
      created_at: at,
      updated_at: at
    }
    const list = byIssue.get(issue) ?? []
    list.push(comment)
    byIssue.set(issue, list)
    return comment
  }

  function send(
    res: http.ServerResponse,
    status: number,
    data: unknown,
    headers: Record<string, string> = {}
  ): void {
    const text = JSON.stringify(data)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'x-github-media-type': 'github.v3; format=json',
      ...headers
    })
    res.end(text)
  }

  /** GitHub's Link header: prev, next, last, first (only those that apply), each the same URL with another page. */
  function linkHeader(
    path: string,
    query: URLSearchParams,
    page: number,
    lastPage: number
  ): string | undefined {
    const at = (p: number): string => {
      const q = new URLSearchParams(query)
      q.set('page', String(p))
      return `<${baseUrl}${path}?${q.toString()}>`
    }
    const links: string[] = []
    if (page > 1) links.push(`${at(page - 1)}; rel="prev"`)
    if (page < lastPage) links.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`)
    if (page > 1) links.push(`${at(1)}; rel="first"`)
    return links.length > 0 ? links.join(', ') : undefined
  }

  function handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const method = req.method ?? 'GET'
    let body: unknown
    try {
      body = raw ? (JSON.parse(raw) as unknown) : undefined
    } catch {
      send(res, 400, { message: 'Problems parsing JSON', status: '400' })
      return
    }
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      body
    })
    if (!req.headers.authorization) {
      send(res, 401, { message: 'Requires authentication', status: '401' })
      return
    }
    if (failure && (!failure.methods || failure.methods.includes(method))) {
      send(res, failure.status, errorBody(failure.status))
      return
    }

    const caller = ownerOf(req.headers.authorization ?? '')
    if (url.pathname === '/user' && method === 'GET') {
      if (caller.kind === 'installation') {
        send(res, 403, {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
          status: '403'
        })
      } else send(res, 200, { login: caller.login, id: caller.id, type: caller.type })
      return
    }
    if (url.pathname === '/graphql' && method === 'POST') {
      const query = (body as { query?: unknown } | undefined)?.query
      if (caller.viewerFails || typeof query !== 'string' || !/\bviewer\s*\{\s*login\s*\}/.test(query)) {
        send(res, 200, { errors: [{ message: 'Something went wrong while executing your query.' }] })
      } else send(res, 200, { data: { viewer: { login: caller.viewerLogin ?? caller.login } } })
      return
    }

    const list = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname)
    const one = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname)
    const bodyText = (body as { body?: unknown } | undefined)?.body

    if (list && method === 'GET') {
      const comments = byIssue.get(Number(list[3])) ?? []
      const perPage = Math.min(
        MAX_PER_PAGE,
        Math.max(1, Number(url.searchParams.get('per_page') ?? DEFAULT_PER_PAGE))
      )
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1))
      const lastPage = Math.max(1, Math.ceil(comments.length / perPage))
      const link = linkHeader(url.pathname, url.searchParams, page, lastPage)
      send(res, 200, comments.slice((page - 1) * perPage, page * perPage), link ? { link } : {})
      return
    }
    if ((list && method === 'POST') || (one && method === 'PATCH')) {
      if (typeof bodyText !== 'string') {
        send(res, 422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.', status: '422' })
        return
      }
      if (bodyText.length > MAX_BODY) {
        send(res, 422, {
          ...errorBody(422),
          errors: [
            {
              resource: 'IssueComment',
              code: 'custom',
              field: 'body',
              message: 'body is too long (maximum is 65536 characters)'
            }
          ]
        })
        return
      }
    }
    if (list && method === 'POST') {
      const author = { login: caller.login, id: caller.id, type: caller.type }
      send(res, 201, store(Number(list[3]), bodyText as string, author, list[1], list[2]))
      return
    }
    if (one && method === 'PATCH') {
      const id = Number(one[3])
      const comment = [...byIssue.values()].flat().find(c => c.id === id)
      if (!comment) {
        send(res, 404, errorBody(404))
        return
      }
      if (comment.user.login !== caller.login || comment.user.type !== caller.type) {
        send(res, 403, errorBody(403))
        return
      }
      comment.body = bodyText as string
      comment.updated_at = now()
      send(res, 200, comment)
      return
    }
    send(res, 404, errorBody(404))
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: baseUrl,
    comments: issue => (byIssue.get(issue) ?? []).map(c => ({ ...c, user: { ...c.user } })),
    requests,
    seed(issue, n) {
      for (let i = 0; i < n; i++) {
        const login = `reviewer-${i % 7}`
        store(issue, `Comment ${i + 1} from ${login}`, { login, id: 5000 + (i % 7), type: 'User' })
      }
    },
    addComment: (issue, body, user = { login: ACTIONS_BOT.login, type: 'Bot' }) =>
      store(issue, body, {
        login: user.login,
        id: user.type === 'Bot' ? ACTIONS_BOT.id : 6000,
        type: user.type
      }),
    failWith(status, options = {}) {
      failure = status === null ? null : { status, methods: options.methods }
    },
    identify(token, owner) {
      owners.set(token, owner)
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close(err => (err ? reject(err) : resolve()))
      })
  }
}

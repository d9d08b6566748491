/**
 * Checks rendered report markdown with a real CommonMark tokenizer (markdown-it, HTML and
 * autolinking on, as GitHub renders comments) for what data must never produce: links, images,
 * HTML, headings, and the things GitHub links after rendering (mentions, #references, URLs,
 * e-mail addresses). What the report itself writes is allowed by name.
 */
import MarkdownIt from 'markdown-it'

type Token = ReturnType<MarkdownIt['parse']>[number]

const md = new MarkdownIt({ html: true, linkify: true })
// GitHub links URLs with a scheme, www. and e-mail addresses, not bare domains.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: true })

/** The HTML the report writes itself. */
const OWN_HTML = [
  /^<details>\s*$/,
  /^<\/details>\s*$/,
  /^<summary>[^<]*<\/summary>\s*$/,
  /^<br>$/,
  /^<!-- dynamodb-orphan-guard:[A-Za-z0-9._%-]+ -->\s*$/
]

export interface MarkdownFindings {
  links: string[]
  images: string[]
  html: string[]
  headings: string[]
  /** `@name`, `#123`, `https://…`, `www.…` standing in rendered text (GitHub links them). */
  autolinkable: string[]
}

function walk(
  tokens: Token[],
  visit: (t: Token, parent: Token | null) => void,
  parent: Token | null = null
): void {
  for (const t of tokens) {
    visit(t, parent)
    if (t.children) walk(t.children, visit, t)
  }
}

/**
 * What the markdown renders that the report did not write itself. `ownLinks` are the URLs the
 * report may link (the workflow run, the artifact); `ownHeadings` the heading texts it writes.
 */
export function inspectMarkdown(
  markdown: string,
  opts: { ownLinks?: string[]; ownHeadings?: RegExp[] } = {}
): MarkdownFindings {
  const tokens = md.parse(markdown, {})
  const found: MarkdownFindings = { links: [], images: [], html: [], headings: [], autolinkable: [] }
  const ownLinks = new Set(opts.ownLinks ?? [])
  const ownHeadings = opts.ownHeadings ?? []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    if (t.type === 'heading_open') {
      const text = tokens[i + 1]?.content ?? ''
      if (!ownHeadings.some(h => h.test(text))) found.headings.push(text)
    }
  }
  walk(tokens, t => {
    if (t.type === 'link_open') {
      const href = t.attrGet('href') ?? ''
      if (!ownLinks.has(href)) found.links.push(href)
    }
    if (t.type === 'image') found.images.push(t.attrGet('src') ?? '')
    if (t.type === 'html_inline' || t.type === 'html_block') {
      const lines = t.content.split('\n').filter(l => l.trim() !== '')
      for (const line of lines) if (!OWN_HTML.some(own => own.test(line.trim()))) found.html.push(line)
    }
    if (t.type === 'text') {
      for (const m of t.content.matchAll(/(?:^|[^A-Za-z0-9_`])(@[A-Za-z0-9][A-Za-z0-9-]*)/g))
        found.autolinkable.push(m[1] ?? '')
      for (const m of t.content.matchAll(/(?:^|[^A-Za-z0-9_&])(#\d+)/g)) found.autolinkable.push(m[1] ?? '')
      for (const m of t.content.matchAll(/(?:https?|ftp):\/\/\S+|\bwww\.\S+/gi)) found.autolinkable.push(m[0])
      for (const m of t.content.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g))
        found.autolinkable.push(m[0])
    }
  })
  return found
}

/** The rendered text (code spans included), entities decoded: what a reader sees. */
export function renderedText(markdown: string): string {
  const parts: string[] = []
  walk(md.parse(markdown, {}), t => {
    if (t.type === 'text' || t.type === 'code_inline' || t.type === 'fence' || t.type === 'code_block')
      parts.push(t.content)
  })
  return parts.join('\n')
}

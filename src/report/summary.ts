import * as core from '@actions/core'
import { errorMessage } from '../errors.js'

/** GitHub refuses a step summary larger than 1 MiB. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024

export interface SummaryDeps {
  core: {
    summary: { addRaw(text: string, addEOL?: boolean): { write(): Promise<unknown> } }
    warning(message: string): void
  }
}

const TRUNCATED_NOTE =
  "\n\n> [!NOTE]\n> The report was cut here to fit GitHub's 1 MiB job summary limit; the action outputs hold the full plan.\n"

/**
 * Cut markdown to at most `maxBytes` UTF-8 bytes at a line break, close what the cut left open
 * (a code fence, `<details>` blocks) and say that it was cut.
 */
export function truncateMarkdown(markdown: string, maxBytes: number): string {
  if (Buffer.byteLength(markdown, 'utf8') <= maxBytes) return markdown
  const budget = maxBytes - Buffer.byteLength(TRUNCATED_NOTE, 'utf8') - 1024 // room for the closers
  const kept: string[] = []
  let used = 0
  let fence: string | null = null
  let openDetails = 0
  for (const line of markdown.split('\n')) {
    const size = Buffer.byteLength(line, 'utf8') + 1
    if (used + size > budget) break
    kept.push(line)
    used += size
    const fenceMatch = /^(`{3,}|~{3,})/.exec(line)
    if (fence !== null) {
      if (
        fenceMatch &&
        fenceMatch[1]![0] === fence[0] &&
        fenceMatch[1]!.length >= fence.length &&
        line.trim() === fenceMatch[1]
      ) {
        fence = null
      }
    } else if (fenceMatch) {
      fence = fenceMatch[1]!
    } else {
      openDetails += (line.match(/<details>/g) ?? []).length - (line.match(/<\/details>/g) ?? []).length
    }
  }
  const closers: string[] = []
  if (fence !== null) closers.push(fence)
  for (let i = 0; i < Math.max(0, openDetails); i++) closers.push('', '</details>')
  return `${[...kept, ...closers].join('\n')}${TRUNCATED_NOTE}`
}

/**
 * Append the report to the job summary. Never throws: a summary that cannot be written (no
 * GITHUB_STEP_SUMMARY outside Actions, a full disk) becomes a warning, the run goes on.
 */
export async function writeSummary(markdown: string, deps: SummaryDeps = { core }): Promise<boolean> {
  try {
    await deps.core.summary.addRaw(truncateMarkdown(markdown, SUMMARY_LIMIT_BYTES), true).write()
    return true
  } catch (err) {
    deps.core.warning(`Could not write the job summary: ${errorMessage(err)}`)
    return false
  }
}

/**
 * The release workflow's checks and notes for a tag `vX.Y.Z`:
 *   node --import ./scripts/register-ts.mjs scripts/release-notes.ts v1.2.3 > notes.md
 * Fails (exit 1, a message on stderr) when the tag is not `vX.Y.Z`; when package.json (which
 * the code's TOOL_VERSION is read from: backup manifests, `--version`) or the committed CLI
 * bundle's `--version` says another version; or when CHANGELOG.md has no section for the version
 * or an empty one. Prints the section's body (without its heading), which becomes the GitHub
 * release's notes.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { TOOL_NAME } from '../src/data/manifest.js'

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..')

/** `v1.2.3` → `1.2.3`; anything else (`v1`, `1.2.3`, `v1.2.3-rc.1`) is refused. */
export function versionOfTag(tag: string): string {
  const match = /^v(\d+\.\d+\.\d+)$/.exec(tag)
  if (!match) throw new Error(`tag '${tag}' is not a release tag vX.Y.Z`)
  return match[1] as string
}

/** `1.2.3` → `v1`: the tag that workflows pinned to the major version follow. */
export function majorTag(version: string): string {
  return `v${version.split('.')[0]}`
}

/**
 * The body of the Keep a Changelog section `## [version] - YYYY-MM-DD`: the lines up to the next
 * `## ` heading or the link references at the end, trimmed.
 */
export function releaseNotes(changelog: string, version: string): string {
  const lines = changelog.split('\n')
  const heading = new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}\\s*$`)
  const start = lines.findIndex(line => heading.test(line))
  if (start < 0) throw new Error(`CHANGELOG.md has no section '## [${version}] - YYYY-MM-DD'`)
  const rest = lines.slice(start + 1)
  const end = rest.findIndex(line => line.startsWith('## ') || /^\[[^\]]+\]: /.test(line))
  const body = (end < 0 ? rest : rest.slice(0, end)).join('\n').trim()
  if (body === '') throw new Error(`the CHANGELOG.md section of ${version} is empty`)
  return `${body}\n`
}

/** Where a release's version is written, besides the tag. */
export interface VersionSources {
  /** package.json's `version`. */
  packageJson: string
  /** What the committed `dist/cli.js --version` prints (`dynamodb-orphan-guard 1.2.3 (node v24…)`). */
  bundleVersionLine: string
}

/** What stops a release of `version`: each place that names another version, and what to do. */
export function versionMismatches(version: string, found: VersionSources): string[] {
  const problems: string[] = []
  if (found.packageJson !== version)
    problems.push(
      `package.json says version ${found.packageJson}, the tag says ${version}: bump package.json first`
    )
  const bundle = new RegExp(`^${TOOL_NAME} (\\S+) \\(node [^)]+\\)$`).exec(found.bundleVersionLine.trim())
  if (bundle === null)
    problems.push(
      `dist/cli.js --version printed '${found.bundleVersionLine.trim()}', not '${TOOL_NAME} <version> (node …)'`
    )
  else if (bundle[1] !== version)
    problems.push(
      `the committed dist/cli.js says version ${bundle[1]}, the tag says ${version}: run npm run package and commit dist/`
    )
  return problems
}

function main(tag: string | undefined): void {
  const version = versionOfTag(tag ?? '')
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const bundleVersionLine = execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), '--version'], {
    encoding: 'utf8'
  })
  const problems = versionMismatches(version, {
    packageJson: pkg.version,
    bundleVersionLine
  })
  if (problems.length > 0) throw new Error(problems.join('\n'))
  process.stdout.write(releaseNotes(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'), version))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv[2])
  } catch (err) {
    process.stderr.write(`release-notes: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}

/**
 * What makes a release people can pin: the license, the changelog and the notes the release
 * workflow takes from it, the Marketplace's limits on action.yml, one canonical repository name in
 * every recipe, and the same current major version of each action in the README and the workflows.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { majorTag, releaseNotes, versionMismatches, versionOfTag } from '../../scripts/release-notes.js'
import { TOOL_VERSION } from '../../src/data/manifest.js'

const REPOSITORY = 'dynamodb-orphan-guard/dynamodb-orphan-guard'
const read = (file: string): string => readFileSync(file, 'utf8')
const pkg = JSON.parse(read('package.json')) as {
  version: string
  license: string
  repository: { url: string }
}
const readme = read('README.md')
const changelog = read('CHANGELOG.md')
const workflows = Object.fromEntries(
  readdirSync('.github/workflows').map(f => [f, read(`.github/workflows/${f}`)])
)

/**
 * The current major version of every action the README's recipes and the workflows use (December
 * 2026). When Dependabot moves a workflow to a new major, move this table and the README with it.
 */
const CURRENT_MAJOR: Record<string, string> = {
  'actions/checkout': 'v7',
  'actions/setup-node': 'v7',
  'actions/setup-python': 'v7',
  'actions/upload-artifact': 'v7',
  'actions/download-artifact': 'v8',
  'aws-actions/configure-aws-credentials': 'v6',
  [REPOSITORY]: 'v1'
}

/** `owner/name@ref` of every `uses:` in a text (local actions `./` left out). */
function usesOf(text: string): Array<{ action: string; ref: string }> {
  return [...text.matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([\w.-]+)/g)].map(m => ({
    action: m[1] as string,
    ref: m[2] as string
  }))
}

describe('license', () => {
  it('is MIT, as package.json says, held by the contributors', () => {
    const license = read('LICENSE')
    expect(pkg.license).toBe('MIT')
    expect(license.startsWith('MIT License\n')).toBe(true)
    expect(license).toMatch(/^Copyright \(c\) \d{4} DynamoDB Orphan Guard contributors$/m)
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND')
  })
})

describe('CHANGELOG.md (Keep a Changelog)', () => {
  const headings = changelog.split('\n').filter(line => line.startsWith('## '))

  it('starts with Unreleased, then versions newest first, each with a date', () => {
    expect(headings[0]).toBe('## [Unreleased]')
    const versions = headings.slice(1).map(h => {
      const match = /^## \[(\d+)\.(\d+)\.(\d+)\] - \d{4}-\d{2}-\d{2}$/.exec(h)
      expect([h, match !== null]).toEqual([h, true])
      return match!.slice(1).map(Number)
    })
    const sorted = [...versions].sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]! || b[2]! - a[2]!)
    expect(versions).toEqual(sorted)
  })

  it("has a section for package.json's version, with a link for every version", () => {
    expect(releaseNotes(changelog, pkg.version)).toMatch(/\S/)
    for (const h of headings) {
      const name = /^## \[([^\]]+)\]/.exec(h)![1]!.toLowerCase()
      expect([
        name,
        new RegExp(`^\\[${name.replace(/\./g, '\\.')}\\]: https://github\\.com/${REPOSITORY}/`, 'm').test(
          changelog
        )
      ]).toEqual([name, true])
    }
  })
})

describe('release notes (scripts/release-notes.ts, run by the release workflow)', () => {
  const sample = [
    '# Changelog',
    '',
    '## [Unreleased]',
    '',
    '- next',
    '',
    '## [1.2.0] - 2027-01-02',
    '',
    '### Added',
    '',
    '- a thing',
    '',
    '## [1.1.0] - 2026-12-24',
    '',
    '- older',
    '',
    '[unreleased]: https://example.com/compare/v1.2.0...HEAD',
    '[1.2.0]: https://example.com/releases/tag/v1.2.0'
  ].join('\n')

  it("takes one version's section, without its heading and up to the next one", () => {
    expect(releaseNotes(sample, '1.2.0')).toBe('### Added\n\n- a thing\n')
    expect(releaseNotes(sample, '1.1.0')).toBe('- older\n')
  })

  it('refuses a version without a section, or with an empty one', () => {
    expect(() => releaseNotes(sample, '1.3.0')).toThrow("no section '## [1.3.0] - YYYY-MM-DD'")
    expect(() => releaseNotes(sample.replace('- older', ''), '1.1.0')).toThrow('is empty')
    // 1.2.0 must not match 1x2x0.
    expect(() => releaseNotes(sample.replace('[1.2.0] -', '[1x2x0] -'), '1.2.0')).toThrow('no section')
  })

  it('accepts only vX.Y.Z tags, and names the major tag they move', () => {
    expect(versionOfTag('v1.2.3')).toBe('1.2.3')
    for (const tag of ['v1', '1.2.3', 'v1.2.3-rc.1', 'v1.2', 'release-1.2.3'])
      expect(() => versionOfTag(tag)).toThrow('is not a release tag')
    expect(majorTag('12.0.1')).toBe('v12')
  })
})

describe('one version everywhere', () => {
  it("the sources' TOOL_VERSION is package.json's version (read from it, not a copy)", () => {
    expect(TOOL_VERSION).toBe(pkg.version)
    expect(read('src/data/manifest.ts')).toMatch(
      /^export const TOOL_VERSION: string = packageJson\.version$/m
    )
  })

  const agreeing = {
    packageJson: '1.2.3',
    bundleVersionLine: 'dynamodb-orphan-guard 1.2.3 (node v24.11.0)\n'
  }

  // The sources' TOOL_VERSION is read from package.json (pinned above), so it is not compared again.
  it('a release goes ahead only when package.json and the committed CLI name the tag', () => {
    expect(versionMismatches('1.2.3', agreeing)).toEqual([])
  })

  it.each([
    ['package.json not bumped', { packageJson: '1.2.2' }, ['package.json says version 1.2.2']],
    [
      'dist/ not rebuilt after the bump',
      { bundleVersionLine: 'dynamodb-orphan-guard 1.2.2 (node v24.11.0)' },
      ['the committed dist/cli.js says version 1.2.2, the tag says 1.2.3: run npm run package']
    ],
    [
      'a bundle that prints something else',
      { bundleVersionLine: 'Usage: …' },
      ["dist/cli.js --version printed 'Usage: …'"]
    ],
    [
      'nothing bumped',
      {
        packageJson: '1.2.2',
        bundleVersionLine: 'dynamodb-orphan-guard 1.2.2 (node v20.1.0)'
      },
      ['package.json says', 'the committed dist/cli.js says']
    ]
  ])('refuses a release when %s', (_name, change, messages) => {
    const problems = versionMismatches('1.2.3', { ...agreeing, ...change })
    expect(problems).toHaveLength(messages.length)
    problems.forEach((p, i) => expect(p).toContain(messages[i]))
  })
})

describe('the release workflow', () => {
  const release = parse(workflows['release.yml'] ?? '') as {
    on: { push: { tags: string[] } }
    permissions: Record<string, string>
    jobs: { release: { steps: Array<{ name?: string; run?: string; uses?: string }> } }
  }
  const steps = release.jobs.release.steps
  const runs = steps.map(s => s.run ?? '').join('\n')
  const stepIndex = (text: string): number => steps.findIndex(s => (s.run ?? '').includes(text))

  it('checks the versions and runs the unit tests before it creates anything', () => {
    const create = stepIndex('gh release create')
    for (const check of [
      'scripts/release-notes.ts',
      'npm run test:unit',
      'git diff --exit-code --stat --text -- dist/'
    ])
      expect([check, stepIndex(check) >= 0 && stepIndex(check) < create]).toEqual([check, true])
  })

  describe('the step that creates the release can be re-run', () => {
    const step = steps.find(s => (s.run ?? '').includes('gh release create'))!

    /** Runs the step as GitHub does (bash -e, pipefail) with a fake `gh`; returns its calls. */
    function runStep(releaseExists: boolean): { code: number | null; calls: string[]; stdout: string } {
      const dir = mkdtempSync(join(tmpdir(), 'orphan-guard-release-'))
      try {
        const bin = join(dir, 'bin')
        mkdirSync(bin)
        const log = join(dir, 'gh.log')
        writeFileSync(
          join(bin, 'gh'),
          [
            '#!/bin/sh',
            'echo "$*" >> "$GH_LOG"',
            'case "$1 $2" in',
            `  "release view") exit ${releaseExists ? 0 : 1} ;;`,
            // The real gh refuses a second release of one tag.
            `  "release create") ${releaseExists ? 'echo "a release with the same tag name already exists" >&2; exit 1' : 'exit 0'} ;;`,
            'esac',
            'exit 3',
            ''
          ].join('\n')
        )
        chmodSync(join(bin, 'gh'), 0o755)
        writeFileSync(join(dir, 'notes.md'), '- a thing\n')
        const run = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
          encoding: 'utf8',
          env: {
            PATH: `${bin}:${process.env.PATH ?? ''}`,
            GH_LOG: log,
            GH_TOKEN: 'token',
            GITHUB_REF_NAME: 'v1.2.3',
            RUNNER_TEMP: dir
          }
        })
        let calls: string[] = []
        try {
          calls = readFileSync(log, 'utf8').trim().split('\n')
        } catch {
          // gh was never called
        }
        return { code: run.status, calls, stdout: run.stdout }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }

    it('the first run creates the release from the notes', () => {
      const r = runStep(false)
      expect(r.code).toBe(0)
      expect(r.calls).toEqual([
        'release view v1.2.3',
        expect.stringMatching(
          /^release create v1\.2\.3 --verify-tag --title v1\.2\.3 --notes-file .*notes\.md$/
        )
      ])
    })

    it('a re-run after a later step failed finds the release and goes on to move the major tag', () => {
      const r = runStep(true)
      expect(r.code).toBe(0)
      expect(r.calls).toEqual(['release view v1.2.3'])
      expect(r.stdout).toContain('::notice::The release v1.2.3 exists already')
    })
  })

  it('runs on vX.Y.Z tags, checks dist/ and the notes, creates the release and moves the major tag', () => {
    expect(release.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+'])
    expect(release.permissions).toEqual({ contents: 'write' })
    expect(runs).toContain('git merge-base --is-ancestor "$GITHUB_SHA" origin/main')
    expect(runs).toContain('scripts/release-notes.ts "$GITHUB_REF_NAME"')
    expect(runs).toContain('npm run package')
    expect(runs).toContain('git diff --exit-code --stat --text -- dist/')
    expect(runs).toContain('gh release create "$GITHUB_REF_NAME" --verify-tag')
    expect(runs).toContain('git push --force origin "refs/tags/$major"')
  })
})

describe('action.yml for the Marketplace', () => {
  const action = parse(read('action.yml')) as { description: string; branding: Record<string, string> }

  it('has a description under 125 characters, and branding', () => {
    expect(action.description.length).toBeLessThan(125)
    expect(action.branding).toEqual({ icon: 'shield', color: 'orange' })
  })
})

describe('one repository name and current actions everywhere', () => {
  it('the README, package.json and the changelog name the canonical repository', () => {
    expect(readme).not.toMatch(/your-org|OWNER\/REPO/)
    expect(pkg.repository.url).toBe(`git+https://github.com/${REPOSITORY}.git`)
    const own = usesOf(readme).filter(u => u.action.endsWith('/dynamodb-orphan-guard'))
    expect(own.length).toBeGreaterThan(3)
    expect(new Set(own.map(u => u.action))).toEqual(new Set([REPOSITORY]))
  })

  it.each([['README.md', readme], ...Object.entries(workflows)])(
    '%s uses the current major version of every action',
    (_file, text) => {
      const outdated = usesOf(text).filter(u => CURRENT_MAJOR[u.action] !== u.ref)
      // A SHA pin (40 hex digits) is fine where the README shows how to pin.
      expect(outdated.filter(u => !/^[0-9a-f]{40}$/.test(u.ref))).toEqual([])
    }
  )

  it('CI runs the action itself (uses: ./) against moto', () => {
    const ci = parse(workflows['ci.yml'] ?? '') as {
      jobs: Record<string, { env?: Record<string, string>; steps: Array<{ uses?: string; with?: object }> }>
    }
    const job = Object.values(ci.jobs).find(j => j.steps.some(s => s.uses === './'))
    expect(job?.env?.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(job?.steps.find(s => s.uses === './')?.with).toMatchObject({ strategy: 'report' })
  })
})

describe('Dependabot', () => {
  const config = parse(read('.github/dependabot.yml')) as {
    updates: Array<{ 'package-ecosystem': string; groups?: Record<string, { patterns?: string[] }> }>
  }

  it('updates npm packages and GitHub Actions, the AWS SDK packages in one group', () => {
    expect(config.updates.map(u => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm'])
    const npm = config.updates.find(u => u['package-ecosystem'] === 'npm')
    expect(npm?.groups?.['aws-sdk']?.patterns).toEqual(['@aws-sdk/*', '@smithy/*'])
  })
})

/**
 * The layout is part of the design, so it is tested like the rest: the folders of src/ follow the
 * flow, a file imports only from its own folder and the layers below it, there is no import cycle,
 * the README's tree lists every file, and every test that starts an emulator says so in its name
 * (the jest projects select on it).
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

const ROOT = process.cwd()
const SRC = path.join(ROOT, 'src')

/** Bottom to top. A file may import from its own layer's folder and from layers listed before it. */
const LAYERS: readonly string[][] = [
  ['types.ts', 'errors.ts'],
  ['inputs.ts'],
  ['aws'],
  ['data'],
  ['discover'],
  ['inspect'],
  ['compare'],
  ['plan'],
  ['execute'],
  ['report'],
  ['run'],
  // The two edges of the same run (run/run-guard.ts): the action (main.ts) and the CLI (cli/). At one
  // level, so neither imports the other: each only reads its inputs and shows the result its own way.
  ['main.ts', 'cli'],
  ['index.ts']
]

const ROOT_FILES = ['errors.ts', 'index.ts', 'inputs.ts', 'main.ts', 'types.ts']

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map(f => path.join(dir, f))
    .filter(f => f.endsWith('.ts') && statSync(f).isFile())
    .sort()
}

/** Relative module specifiers of every import and re-export (type-only ones included). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs: string[] = []
  const pattern =
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g
  for (const m of text.matchAll(pattern)) specs.push((m[1] ?? m[2]) as string)
  return specs
}

function resolveImport(from: string, spec: string): string {
  return path.resolve(path.dirname(from), spec.replace(/\.js$/, '.ts'))
}

/** The layer a src file belongs to: its first path segment under src/. */
function layerOf(file: string): number {
  const top = path.relative(SRC, file).split(path.sep)[0] as string
  const index = LAYERS.findIndex(names => names.includes(top))
  if (index < 0) throw new Error(`${path.relative(ROOT, file)} is in no layer of LAYERS`)
  return index
}

/**
 * The one file outside src/ that src/ may import: package.json, for the version (data/manifest.ts;
 * the bundler inlines only that field). It is data, below every layer, and no part of the graph.
 */
const PACKAGE_JSON = path.join(ROOT, 'package.json')

const srcFiles = filesUnder(SRC)
const graph = new Map(
  srcFiles.map(f => [
    f,
    relativeImports(f)
      .map(s => resolveImport(f, s))
      .filter(t => t !== PACKAGE_JSON)
  ])
)

describe('src/ layout', () => {
  it('keeps only the entry, the inputs, the errors and the shared types at its root', () => {
    const rootFiles = readdirSync(SRC).filter(f => statSync(path.join(SRC, f)).isFile())
    expect(rootFiles.sort()).toEqual(ROOT_FILES)
  })

  it('has a folder for each layer, and each file in a layer', () => {
    const folders = readdirSync(SRC).filter(f => statSync(path.join(SRC, f)).isDirectory())
    expect(folders.sort()).toEqual(
      LAYERS.flat()
        .filter(n => !n.endsWith('.ts'))
        .sort()
    )
    for (const f of srcFiles) expect(() => layerOf(f)).not.toThrow()
  })

  it('imports only from the same folder or from layers below (never up the flow, never into a renderer)', () => {
    const upward: string[] = []
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const sameFolder = path.dirname(file) === path.dirname(target) && path.dirname(file) !== SRC
        if (!sameFolder && layerOf(target) >= layerOf(file)) {
          upward.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`)
        }
      }
    }
    expect(upward).toEqual([])
  })

  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter(t => !graph.has(t)).map(t => `${path.relative(ROOT, file)} -> ${path.relative(ROOT, t)}`)
    )
    expect(missing).toEqual([])
  })

  it('has no import cycle', () => {
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const stack: string[] = []
    const visit = (file: string): void => {
      state.set(file, 'open')
      stack.push(file)
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') {
          cycles.push(
            [...stack.slice(stack.indexOf(next)), next].map(f => path.relative(ROOT, f)).join(' -> ')
          )
        } else if (!state.has(next)) visit(next)
      }
      stack.pop()
      state.set(file, 'done')
    }
    for (const file of srcFiles) if (!state.has(file)) visit(file)
    expect(cycles).toEqual([])
  })
})

describe("README's development tree", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Development\n'))
  const block = /```\n(src\/\n[\s\S]*?)```/.exec(section)?.[1] ?? ''

  /** Paths the tree names: a line's first word, under the folder of the last less-indented line. */
  function treePaths(): string[] {
    const paths: string[] = []
    const folders: string[] = []
    for (const line of block.split('\n')) {
      const match = /^( *)(\S+)/.exec(line)
      if (!match) continue
      const depth = (match[1] as string).length / 2
      const name = match[2] as string
      folders.length = depth
      const full = [...folders, name].join('')
      if (name.endsWith('/')) folders.push(name)
      else paths.push(full)
    }
    return paths.sort()
  }

  it('lists exactly the files of src/, each in its folder', () => {
    expect(block).not.toBe('')
    expect(treePaths()).toEqual(srcFiles.map(f => path.relative(ROOT, f).split(path.sep).join('/')))
  })
})

describe('test names say which emulator a test starts', () => {
  const TESTS = path.join(ROOT, '__tests__')
  const SUPPORT = path.join(ROOT, 'test-support')
  const starters: Record<string, string> = {
    [path.join(SUPPORT, 'moto.ts')]: 'moto',
    [path.join(SUPPORT, 'dynalite.ts')]: 'dynalite',
    [path.join(SUPPORT, 'run-bundle.ts')]: 'bundle'
  }
  const importsOf = new Map<string, string[]>()
  const reach = (file: string, seen = new Set<string>()): Set<string> => {
    for (const spec of importsOf.get(file) ?? relativeImports(file)) {
      const target = resolveImport(file, spec)
      if (seen.has(target) || !target.startsWith(ROOT) || target.startsWith(SRC)) continue
      seen.add(target)
      try {
        reach(target, seen)
      } catch {
        // not a readable TypeScript file (a fixture, a .mjs helper): nothing to follow
      }
    }
    return seen
  }

  it('a test that reaches moto, dynalite or the bundle is an integration (*.moto / *.dynalite) or e2e test', () => {
    const misnamed: string[] = []
    for (const file of filesUnder(TESTS).filter(f => f.endsWith('.test.ts'))) {
      const needs = [...reach(file)].flatMap(t => (starters[t] ? [starters[t]] : []))
      const named = /\.(moto|dynalite)\.test\.ts$/.test(file) || file.includes(`${path.sep}e2e${path.sep}`)
      if (needs.length > 0 && !named) misnamed.push(`${path.relative(ROOT, file)} (${needs.join(', ')})`)
    }
    expect(misnamed).toEqual([])
  })
})

// `npm run package`: the two committed bundles, built by ncc from their entries.
//   dist/index.js         the action (src/index.ts), what action.yml runs
//   dist/cli.js           the CLI (src/cli/bin.ts), package.json's bin
//   dist/package.json     {"type":"module"}: both bundles are ES modules
//   dist/licenses.txt     the licenses of the packages bundled (the same for both bundles today;
//                         dist/cli-licenses.txt is written too only when the CLI's ever differ)
// Deterministic: the same sources give the same bytes (CI compares dist/ with a fresh build). Each
// entry builds into a folder of its own, in parallel; anything but the expected files (a chunk
// ncc split off) fails the build, so the committed bundles are always single files.
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const DIST = 'dist'
const ENTRIES = [
  { entry: 'src/index.ts', bundle: 'index.js' },
  { entry: 'src/cli/bin.ts', bundle: 'cli.js', executable: true }
]
const EXPECTED = ['index.js', 'licenses.txt', 'package.json']

function ncc(entry, out) {
  return new Promise((resolve, reject) => {
    const args = ['build', entry, '-o', out, '--license', 'licenses.txt', '--target', 'es2022', '--quiet']
    const child = spawn(join('node_modules', '.bin', 'ncc'), args, { stdio: 'inherit' })
    child.on('error', reject)
    child.on('close', code =>
      code === 0 ? resolve() : reject(new Error(`ncc ${entry} exited with ${code}`))
    )
  })
}

rmSync(DIST, { recursive: true, force: true })
mkdirSync(DIST)
const work = mkdtempSync(join(tmpdir(), 'orphan-guard-package-'))
try {
  const outs = ENTRIES.map((e, i) => ({ ...e, out: join(work, String(i)) }))
  await Promise.all(outs.map(e => ncc(e.entry, e.out)))
  let packageJson = null
  for (const e of outs) {
    const files = readdirSync(e.out).sort()
    if (files.join(',') !== EXPECTED.join(','))
      throw new Error(`ncc ${e.entry} wrote ${files.join(', ')}; expected exactly ${EXPECTED.join(', ')}`)
    const pkg = readFileSync(join(e.out, 'package.json'), 'utf8')
    if (packageJson !== null && pkg !== packageJson)
      throw new Error(`the bundles need different dist/package.json files:\n${packageJson}\n${pkg}`)
    packageJson = pkg
    renameSync(join(e.out, 'index.js'), join(DIST, e.bundle))
    if (e.executable) chmodSync(join(DIST, e.bundle), 0o755)
  }
  const [action, cli] = outs.map(e => readFileSync(join(e.out, 'licenses.txt'), 'utf8'))
  renameSync(join(outs[0].out, 'licenses.txt'), join(DIST, 'licenses.txt'))
  if (cli !== action) renameSync(join(outs[1].out, 'licenses.txt'), join(DIST, 'cli-licenses.txt'))
  renameSync(join(outs[0].out, 'package.json'), join(DIST, 'package.json'))
  for (const name of readdirSync(DIST).sort())
    process.stdout.write(`${name} ${readFileSync(join(DIST, name)).length} bytes\n`)
} finally {
  rmSync(work, { recursive: true, force: true })
}

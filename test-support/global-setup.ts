import { tsImport } from 'tsx/esm/api'

/**
 * Runs once per jest run. Finds (or installs) a python that can run moto and hands its path to
 * the workers through process.env, which jest shares with them. When moto cannot be had, the
 * message is handed over instead: unit tests still run and every moto test fails with it.
 *
 * Jest loads this file outside its module system (no moduleNameMapper, native ESM resolution),
 * so `./moto.js` would not resolve to moto.ts here; tsx loads the TypeScript module instead.
 */
export default async function globalSetup(): Promise<void> {
  const moto = (await tsImport('./moto.ts', import.meta.url)) as typeof import('./moto.js')
  if (process.env[moto.MOTO_PYTHON_ENV]) return
  try {
    process.env[moto.MOTO_PYTHON_ENV] = await moto.resolveMotoPython(message => console.log(message))
  } catch (err) {
    process.env[moto.MOTO_UNAVAILABLE_ENV] = err instanceof Error ? err.message : String(err)
  }
}

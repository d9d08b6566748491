/**
 * Three projects, named after what they need:
 * - unit: pure code and aws-sdk-client-mock contract tests; no server, seconds.
 * - integration: tests named `*.moto.test.ts` or `*.dynalite.test.ts` start that emulator on a
 *   loopback port themselves (moto via python3, dynalite in-process).
 * - e2e: `__tests__/e2e/` runs the committed bundles (dist/index.js, dist/cli.js) against moto, on
 *   the node in BUNDLE_NODE when set (npm run test:e2e:node24).
 * `npm test` runs all three; `npm run test:unit` (or `jest --selectProjects integration`) one of them.
 * A unit test in __tests__/unit checks that every test that starts an emulator is named so.
 */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }
    ]
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/__fixtures__/']
}

const EMULATOR_TEST = '\\.(moto|dynalite)\\.test\\.ts$'

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: [...base.testPathIgnorePatterns, EMULATOR_TEST, '/__tests__/e2e/']
    },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/**/*.moto.test.ts', '<rootDir>/__tests__/**/*.dynalite.test.ts'],
      testPathIgnorePatterns: [...base.testPathIgnorePatterns, '/__tests__/e2e/']
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts']
    }
  ],
  globalSetup: './test-support/global-setup.ts',
  globalTeardown: './test-support/global-teardown.ts',
  // Global, not per project: jest reads testTimeout from the top-level config only.
  testTimeout: 60000,
  verbose: false
}

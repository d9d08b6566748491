import { describe, expect, it } from '@jest/globals'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { discover } from '../../src/discover/discover.js'
import { stackCount } from '../../src/run/check-tables.js'

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const base = { stage: 'pr-5', stackName: null, tables: [], region: 'us-east-1' }

describe("the log's stack count says how many top-level and nested stacks it read", () => {
  it('a cloud assembly with a nested stack', () => {
    const discovery = discover({ ...base, template: join(REPO_ROOT, '__fixtures__', 'cdk-out-pr-5') })
    expect(stackCount(discovery)).toBe('3 stack(s) (2 top-level, 1 nested)')
  })
  it('no template: the tables input alone', () => {
    const discovery = discover({ ...base, template: '/nonexistent/cdk.out', tables: ['t'] })
    expect(stackCount(discovery)).toBe('0 stack(s) (no template)')
  })
})

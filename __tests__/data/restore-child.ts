/**
 * Runs one restore in a child process so a test can SIGKILL it mid-way (not a test file).
 * argv: endpoint manifestPath table delayMs — every BatchWriteItem is delayed by delayMs so the
 * restore lasts long enough to be killed in the middle.
 */
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb'
import { restoreTable } from '../../src/data/restore.js'
import { client } from './helpers.js'

const [endpoint, manifestPath, table, delayMs] = process.argv.slice(2) as [string, string, string, string]
const real = client(endpoint)
const slow = {
  send: (async (command: unknown) => {
    if (command instanceof BatchWriteItemCommand) await new Promise(r => setTimeout(r, Number(delayMs)))
    return real.send(command as never)
  }) as typeof real.send
}
const report = await restoreTable(slow, {
  manifestPath,
  table,
  concurrency: 2,
  initialConcurrency: 2,
  checkpointIntervalMs: 0,
  logger: { info: m => console.log(m), warning: m => console.log(m), debug: () => undefined }
})
console.log(JSON.stringify(report))
real.destroy()

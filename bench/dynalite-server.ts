/** dynalite in its own process (its own core) for the bench; prints its endpoint, stops with stdin. */
import { startDynalite } from '../test-support/dynalite.js'

const db = await startDynalite()
process.stdout.write(`${JSON.stringify({ endpoint: db.endpoint })}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void db.stop().finally(() => process.exit(0))
})

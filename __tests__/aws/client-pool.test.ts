import { describe, expect, it } from '@jest/globals'
import { ClientPool, type AwsClients } from '../../src/aws/clients.js'
import { createRunClientPool } from '../../src/run/clients.js'

/** Stand-in clients that say whether they were closed. */
function standIn(region: string, closed: string[]): AwsClients {
  const client = (service: string) => ({ destroy: () => closed.push(`${service}@${region}`) })
  return {
    dynamodb: client('dynamodb'),
    cloudformation: client('cloudformation'),
    s3: client('s3'),
    sts: client('sts')
  } as unknown as AwsClients
}

describe('ClientPool: one set of clients per region', () => {
  it("makes a region's clients on first use only, and the same set after that", () => {
    const made: string[] = []
    const pool = new ClientPool('us-east-1', region => {
      made.push(region)
      return standIn(region, [])
    })
    expect(made).toEqual([])
    const west = pool.forRegion('us-west-2')
    expect(pool.forRegion('us-west-2')).toBe(west)
    pool.forRegion('us-east-1')
    expect(made).toEqual(['us-west-2', 'us-east-1'])
    expect(pool.regions()).toEqual(['us-west-2', 'us-east-1'])
    expect(pool.defaultRegion).toBe('us-east-1')
  })

  it('closes every client of every region it made, once', () => {
    const closed: string[] = []
    const pool = new ClientPool('us-east-1', region => standIn(region, closed))
    pool.forRegion('us-east-1')
    pool.forRegion('eu-west-1')
    pool.destroy()
    expect(closed.sort()).toEqual(
      ['cloudformation', 'dynamodb', 's3', 'sts'].flatMap(s => [`${s}@eu-west-1`, `${s}@us-east-1`]).sort()
    )
    pool.destroy()
    expect(closed).toHaveLength(8)
  })

  it("the run's pool gives each region's clients that region", async () => {
    const pool = createRunClientPool({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' })
    try {
      expect(await pool.forRegion('us-west-2').dynamodb.config.region()).toBe('us-west-2')
      expect(await pool.forRegion('us-east-1').cloudformation.config.region()).toBe('us-east-1')
    } finally {
      pool.destroy()
    }
  })
})

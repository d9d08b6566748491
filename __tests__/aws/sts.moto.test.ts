import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { getCallerIdentity, partitionOfArn } from '../../src/aws/sts.js'
import { readCallerIdentity } from '../../src/inspect/identity.js'
import { destroyClients, testClients } from '../../test-support/aws-clients.js'
import { startMoto, type MotoServer } from '../../test-support/moto.js'
import type { AwsClients } from '../../src/aws/clients.js'

let moto: MotoServer
let clients: AwsClients
beforeAll(async () => {
  moto = await startMoto()
  clients = testClients(moto.endpoint)
})
afterAll(async () => {
  destroyClients(clients)
  await moto?.stop()
})

describe('getCallerIdentity', () => {
  it("answers the credentials' account, ARN and partition (moto's STS)", async () => {
    const id = await getCallerIdentity(clients.sts)
    expect(id.account).toBe('123456789012')
    expect(id.arn).toMatch(/^arn:aws:/)
    expect(id.partition).toBe('aws')
    expect(id.userId).toMatch(/^[A-Z0-9]+(:.+)?$/)
  })

  it('reads the partition of GovCloud and China ARNs', () => {
    expect(partitionOfArn('arn:aws-us-gov:sts::123456789012:assumed-role/r/s')).toBe('aws-us-gov')
    expect(partitionOfArn('arn:aws-cn:iam::123456789012:user/u')).toBe('aws-cn')
    expect(() => partitionOfArn('not-an-arn')).toThrow(/not an ARN/)
  })
})

describe('readCallerIdentity', () => {
  it('a failed GetCallerIdentity is an unknown identity with the reason, not a failed run', async () => {
    const sts = new STSClient({ region: 'us-east-1' })
    const mock = mockClient(sts)
    mock.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('The security token included in the request is invalid'), {
        name: 'InvalidClientTokenId'
      })
    )
    try {
      const read = await readCallerIdentity(sts)
      expect(read.identity).toBeNull()
      expect(read.problem).toMatch(/GetCallerIdentity: The security token included in the request is invalid/)
    } finally {
      mock.restore()
      sts.destroy()
    }
  })
})

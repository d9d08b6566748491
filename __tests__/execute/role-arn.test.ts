import { describe, expect, it } from '@jest/globals'
import { roleArnFor } from '../../src/execute/execute-plan.js'

const CDK_EXEC =
  'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}'

describe('roleArnFor: the role-arn input for one stack', () => {
  it("fills in each stack's account, region and partition (one input names every region's bootstrap role)", () => {
    expect(
      roleArnFor(CDK_EXEC, { stackName: 'pr-7-west', region: 'us-west-2', account: '123456789012' })
    ).toEqual({
      roleArn: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-west-2'
    })
    expect(roleArnFor(CDK_EXEC, { stackName: 'x', region: 'cn-north-1', account: '111111111111' })).toEqual({
      roleArn: 'arn:aws-cn:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-cn-north-1'
    })
  })

  it('passes a literal role ARN as it is, and nothing when the input is empty', () => {
    const literal = 'arn:aws:iam::123456789012:role/deploy/exec'
    expect(roleArnFor(literal, { stackName: 's', region: 'us-east-1' })).toEqual({ roleArn: literal })
    expect(roleArnFor(null, { stackName: 's', region: 'us-east-1' })).toEqual({})
  })

  it("refuses when the account is needed and unknown (the credentials' account could not be read)", () => {
    expect(roleArnFor(CDK_EXEC, { stackName: 'pr-7-agnostic', region: 'us-east-1' })).toEqual({
      refusal: expect.stringMatching(
        /^role-arn .* cannot be filled in for stack pr-7-agnostic: .*AWS::AccountId/
      )
    })
  })
})

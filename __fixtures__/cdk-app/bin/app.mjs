// Fixture CDK app for the discover tests. Plain ESM JavaScript, no build step.
// Its `cdk synth` output is committed in ../cdk-out-pr-5 (see README.md).
import { App, Aws, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib'
import { AttributeType, Billing, BillingMode, Table, TableV2 } from 'aws-cdk-lib/aws-dynamodb'

const app = new App()
const stage = app.node.tryGetContext('stage') ?? process.env.STAGE
if (!stage) throw new Error('Set the stage: cdk synth --context stage=pr-5 (or STAGE=pr-5)')

class AuditStack extends NestedStack {
  constructor(scope, id, props) {
    super(scope, id, props)
    new Table(this, 'AuditTable', {
      tableName: `${stage}-audit-table`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.RETAIN
    })
  }
}

class DatabaseStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)

    const main = new Table(this, 'MainTable', {
      tableName: `${stage}-main-table`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.RETAIN,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true }
    })
    main.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING }
    })

    // The stack name as a token, so the template holds Fn::Join over Ref AWS::StackName.
    new Table(this, 'SessionsTable', {
      tableName: `${Aws.STACK_NAME}-sessions`,
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY
    })

    // No tableName: CloudFormation generates a unique name, so it can never collide.
    new Table(this, 'UnnamedTable', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY
    })

    new TableV2(this, 'GlobalTable', {
      tableName: `${stage}-global-table`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      removalPolicy: RemovalPolicy.RETAIN
    })

    new AuditStack(this, 'Audit')
  }
}

class ApiStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)
    new Table(this, 'ApiCacheTable', {
      tableName: `${stage}-api-cache`,
      partitionKey: { name: 'key', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
      timeToLiveAttribute: 'expiresAt'
    })
  }
}

// Environment-agnostic stacks: synth needs no AWS account, credentials or context lookups.
new DatabaseStack(app, 'DatabaseStack', { stackName: `${stage}-aws-boilerplate-database` })
new ApiStack(app, `${stage}-aws-boilerplate-api`)

app.synth()

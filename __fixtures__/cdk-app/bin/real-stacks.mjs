// Second fixture CDK app: "real stacks" shapes (several accounts and regions, an environment-agnostic
// stack whose table names use AWS::AccountId / AWS::Region, a global table with a replica, a large
// template). Plain ESM JavaScript, no build step. Its `cdk synth` output is committed in
// ../cdk-out-real-stacks-pr-7 (see README.md); ./app.mjs and ../cdk-out-pr-5 are separate and unchanged.
//
// Synth is offline: the pinned accounts are fake, no lookups (fromLookup, ...) are used, and the
// Lambda functions use inline code, so there are no file or docker assets.
import { App, Aws, CfnParameter, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib'
import {
  AttributeType,
  Billing,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableV2
} from 'aws-cdk-lib/aws-dynamodb'
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda'

const app = new App({
  context: {
    // No aws:cdk:creationStack metadata: it holds file:// paths of this machine, so the committed
    // *.metadata.json would change with the checkout's location.
    'aws:cdk:disable-creation-stack-traces': true
  }
})
const stage = app.node.tryGetContext('stage') ?? process.env.STAGE
if (!stage) throw new Error('Set the stage: cdk synth --context stage=pr-7 (or STAGE=pr-7)')

const ACCOUNT = '123456789012'
const OTHER_ACCOUNT = '999999999999'

const onDemand = {
  billingMode: BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.RETAIN
}
const pkSk = {
  partitionKey: { name: 'pk', type: AttributeType.STRING },
  sortKey: { name: 'sk', type: AttributeType.STRING }
}

// us-east-1: plain table, table with an LSI, table with a stream, and a global table (TableV2)
// whose replicas are us-east-1 (the stack's region, implicit) and us-west-2.
class EastStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)

    new Table(this, 'OrdersTable', { tableName: `${stage}-orders`, ...pkSk, ...onDemand })

    const withLsi = new Table(this, 'WithLsiTable', { tableName: `${stage}-with-lsi`, ...pkSk, ...onDemand })
    withLsi.addLocalSecondaryIndex({
      indexName: 'lsi1',
      sortKey: { name: 'lsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY
    })

    new Table(this, 'StreamedTable', {
      tableName: `${stage}-streamed`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      ...onDemand
    })

    new TableV2(this, 'GlobalTable', {
      tableName: `${stage}-global`,
      ...pkSk,
      billing: Billing.onDemand(),
      removalPolicy: RemovalPolicy.RETAIN,
      replicas: [{ region: 'us-west-2' }]
    })
  }
}

class WestStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)
    new Table(this, 'EventsTable', { tableName: `${stage}-west-events`, ...pkSk, ...onDemand })
  }
}

class OtherAccountStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)
    new Table(this, 'ForeignTable', {
      tableName: `${stage}-foreign`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      ...onDemand
    })
  }
}

// Environment-agnostic: the names are only known at deploy time.
class AgnosticStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)
    // Tokens inside a template literal: synthesises to Fn::Join over Ref AWS::AccountId / AWS::Region.
    new Table(this, 'CacheTable', {
      tableName: `${stage}-cache-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY
    })
    // Fn.sub: synthesises to Fn::Sub with the string as written.
    new Table(this, 'SubTable', {
      tableName: Fn.sub('${AWS::StackName}-sub-${AWS::AccountId}'),
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY
    })
  }
}

// A table name built from a stack parameter: only CloudFormation knows it, at deploy time (the
// parameter's default is not what a deploy must use), so no check before the deploy can see it.
class ParamStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)
    const suffix = new CfnParameter(this, 'TableSuffix', { type: 'String', default: 'main' })
    new Table(this, 'ParamTable', {
      tableName: `${stage}-param-${suffix.valueAsString}`,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY
    })
  }
}

// A template well over 51,200 bytes (the CloudFormation limit for an inline TemplateBody; CDK
// uploads it to the bootstrap bucket anyway). Made of Lambda functions with inline code, their
// IAM roles, and grants on the one table.
const FUNCTION_COUNT = 24
class LargeStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props)
    const table = new Table(this, 'LargeTable', { tableName: `${stage}-large-table`, ...pkSk, ...onDemand })

    for (let i = 1; i <= FUNCTION_COUNT; i++) {
      const n = String(i).padStart(2, '0')
      const fn = new LambdaFunction(this, `Handler${n}`, {
        description: `Fixture handler ${n} of ${FUNCTION_COUNT}: reads and writes items of ${stage}-large-table for tenant partition t${n}`,
        runtime: Runtime.NODEJS_24_X,
        handler: 'index.handler',
        memorySize: 256,
        timeout: Duration.seconds(30),
        environment: { TABLE_NAME: table.tableName, HANDLER_INDEX: n, STAGE: stage },
        code: Code.fromInline(
          [
            `// handler ${n}`,
            "const { DynamoDBClient, GetItemCommand, PutItemCommand } = require('@aws-sdk/client-dynamodb')",
            'const client = new DynamoDBClient({})',
            'exports.handler = async (event) => {',
            `  const key = { pk: { S: 't${n}#' + (event.id ?? 'none') }, sk: { S: 'handler-${n}' } }`,
            '  const found = await client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: key }))',
            '  if (!found.Item) await client.send(new PutItemCommand({ TableName: process.env.TABLE_NAME, Item: key }))',
            `  return { handler: '${n}', existed: Boolean(found.Item) }`,
            '}'
          ].join('\n')
        )
      })
      if (i % 2 === 0) table.grantReadWriteData(fn)
      else table.grantReadData(fn)
    }
  }
}

new EastStack(app, `${stage}-east`, { env: { account: ACCOUNT, region: 'us-east-1' } })
new WestStack(app, `${stage}-west`, { env: { account: ACCOUNT, region: 'us-west-2' } })
new OtherAccountStack(app, `${stage}-other-account`, { env: { account: OTHER_ACCOUNT, region: 'us-east-1' } })
new AgnosticStack(app, `${stage}-agnostic`)
new LargeStack(app, `${stage}-large`, { env: { account: ACCOUNT, region: 'us-east-1' } })
new ParamStack(app, `${stage}-param`, { env: { account: ACCOUNT, region: 'us-east-1' } })

app.synth()

package managed

// catalogue holds the built-in policies, sorted by name. Documents are
// AWS's, compacted. Where AWS's document is very long (ReadOnlyAccess,
// AmazonDynamoDBFullAccess, AmazonDynamoDBReadOnlyAccess) only the
// statements and actions for the services updraft serves (lambda, iam,
// sts, sqs, kinesis, dynamodb, states, logs) are kept, as noted on each.
var catalogue = []Policy{
	mk("AWSLambdaBasicExecutionRole", "/service-role/", "v1", "Provides write permissions to CloudWatch Logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambdaDynamoDBExecutionRole", "/service-role/", "v1", "Provides list and read access to DynamoDB streams and write permissions to CloudWatch logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambdaExecute", "/", "v1", "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"arn:aws:logs:*:*:*"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::*"}]}`),
	mk("AWSLambdaInvocation-DynamoDB", "/service-role/", "v1", "Provides read access to DynamoDB Streams.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams"],"Resource":"*"}]}`),
	mk("AWSLambdaKinesisExecutionRole", "/service-role/", "v1", "Provides list and read access to Kinesis streams and write permissions to CloudWatch logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator","kinesis:ListShards","kinesis:ListStreams","kinesis:SubscribeToShard","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambdaRole", "/service-role/", "v1", "Default policy for AWS Lambda service role.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}`),
	mk("AWSLambdaSQSQueueExecutionRole", "/service-role/", "v1", "Provides receive message, delete message, and read attribute access to SQS queues, and write permissions to CloudWatch logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambda_FullAccess", "/", "v2", "Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:DescribeStacks","cloudformation:ListStackResources","cloudwatch:ListMetrics","cloudwatch:GetMetricData","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:ListAliases","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","lambda:*","logs:DescribeLogGroups","states:DescribeStateMachine","states:ListStateMachines","tag:GetResources","xray:GetTraceSummaries","xray:BatchGetTraces"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents","logs:StartLiveTail","logs:StopLiveTail"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}`),
	mk("AWSLambda_ReadOnlyAccess", "/", "v3", "Grants read-only access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:DescribeStacks","cloudformation:ListStacks","cloudformation:ListStackResources","cloudwatch:GetMetricData","cloudwatch:ListMetrics","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:ListAliases","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","logs:DescribeLogGroups","lambda:Get*","lambda:List*","states:DescribeStateMachine","states:ListStateMachines","tag:GetResources","xray:GetTraceSummaries","xray:BatchGetTraces"],"Resource":"*"},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents","logs:StartQuery","logs:StopQuery","logs:DescribeQueries","logs:GetLogGroupFields","logs:GetLogRecord","logs:GetQueryResults","logs:StartLiveTail","logs:StopLiveTail"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}`),
	mk("AWSStepFunctionsFullAccess", "/", "v2", "Provides full access to AWS Step Functions.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"states:*","Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/service-role/StepFunctions*"}]}`),
	mk("AWSStepFunctionsReadOnlyAccess", "/", "v2", "Provides read only access to AWS Step Functions.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["states:ListStateMachines","states:ListActivities","states:DescribeStateMachine","states:DescribeStateMachineForExecution","states:ListExecutions","states:DescribeExecution","states:GetExecutionHistory","states:DescribeActivity","states:ListTagsForResource","states:DescribeMapRun","states:ListMapRuns","states:ListStateMachineVersions","states:ListStateMachineAliases","states:DescribeStateMachineAlias"],"Resource":"*"}]}`),
	mk("AdministratorAccess", "/", "v1", "Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
	// AmazonDynamoDBFullAccess: AWS's document also grants the console's
	// helpers (cloudwatch, datapipeline, ec2, kms, sns, resource-groups,
	// tag, ...); only the statements for dynamodb, dax, lambda and iam are
	// kept.
	mk("AmazonDynamoDBFullAccess", "/", "v5", "Provides full access to Amazon DynamoDB via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Action":["dynamodb:*","dax:*","iam:GetRole","iam:ListRoles","lambda:CreateFunction","lambda:ListFunctions","lambda:ListEventSourceMappings","lambda:CreateEventSourceMapping","lambda:DeleteEventSourceMapping","lambda:GetFunctionConfiguration","lambda:DeleteFunction"],"Effect":"Allow","Resource":"*"},{"Action":"iam:PassRole","Effect":"Allow","Resource":"*","Condition":{"StringLike":{"iam:PassedToService":["application-autoscaling.amazonaws.com","application-autoscaling.amazonaws.com.cn","dax.amazonaws.com"]}}},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole"],"Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":["replication.dynamodb.amazonaws.com","dax.amazonaws.com","dynamodb.application-autoscaling.amazonaws.com","contributorinsights.dynamodb.amazonaws.com","kinesisreplication.dynamodb.amazonaws.com"]}}}]}`),
	// AmazonDynamoDBReadOnlyAccess: only the dynamodb, dax, iam and
	// lambda actions of AWS's document are kept.
	mk("AmazonDynamoDBReadOnlyAccess", "/", "v13", "Provides read only access to Amazon DynamoDB via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Action":["dax:Describe*","dax:List*","dax:GetItem","dax:BatchGetItem","dax:Query","dax:Scan","dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:GetAbacStatus","dynamodb:GetItem","dynamodb:GetResourcePolicy","dynamodb:List*","dynamodb:PartiQLSelect","dynamodb:Query","dynamodb:Scan","iam:GetRole","iam:ListRoles","lambda:ListFunctions","lambda:ListEventSourceMappings","lambda:GetFunctionConfiguration"],"Effect":"Allow","Resource":"*"}]}`),
	mk("AmazonKinesisFullAccess", "/", "v1", "Provides full access to all streams via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`),
	mk("AmazonKinesisReadOnlyAccess", "/", "v2", "Provides read only access to all streams via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:Get*","kinesis:List*","kinesis:Describe*"],"Resource":"*"}]}`),
	mk("AmazonSQSFullAccess", "/", "v2", "Provides full access to Amazon SQS via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"SQSFullAccess","Effect":"Allow","Action":["sqs:*"],"Resource":"*"},{"Sid":"SQSFullAccessSchedulerPermissions","Effect":"Allow","Action":["scheduler:*"],"Resource":"*"}]}`),
	mk("AmazonSQSReadOnlyAccess", "/", "v3", "Provides read only access to Amazon SQS via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"AmazonSQSReadOnly","Effect":"Allow","Action":["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListMessageMoveTasks","sqs:ListQueueTags"],"Resource":"*"}]}`),
	mk("CloudWatchLogsFullAccess", "/", "v2", "Provides full access to CloudWatch Logs.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"CloudWatchLogsFullAccess","Effect":"Allow","Action":["logs:*","cloudwatch:GenerateQuery"],"Resource":"*"}]}`),
	mk("IAMFullAccess", "/", "v2", "Provides full access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`),
	mk("IAMReadOnlyAccess", "/", "v4", "Provides read only access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}`),
	mk("PowerUserAccess", "/", "v12", "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}`),
	// ReadOnlyAccess: AWS's document lists read actions for every AWS
	// service (over a thousand); only those for lambda, iam, sts, sqs,
	// kinesis, dynamodb, states and logs are kept.
	mk("ReadOnlyAccess", "/", "v120", "Provides read-only access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyActions","Effect":"Allow","Action":["dynamodb:BatchGet*","dynamodb:Describe*","dynamodb:Get*","dynamodb:List*","dynamodb:PartiQLSelect","dynamodb:Query","dynamodb:Scan","iam:Generate*","iam:Get*","iam:List*","iam:Simulate*","kinesis:Describe*","kinesis:Get*","kinesis:List*","lambda:Get*","lambda:List*","logs:Describe*","logs:FilterLogEvents","logs:Get*","logs:ListTagsForResource","logs:ListTagsLogGroup","logs:StartLiveTail","logs:StartQuery","logs:StopLiveTail","logs:StopQuery","logs:TestMetricFilter","sqs:Get*","sqs:List*","states:Describe*","states:GetExecutionHistory","states:List*","sts:GetCallerIdentity","sts:GetSessionToken"],"Resource":"*"}]}`),
}

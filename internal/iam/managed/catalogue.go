package managed

// catalogue holds the built-in policies, sorted by name. Documents are
// AWS's default versions, compacted (JSON key order normalised to
// Sid, Effect, Action, Resource, Condition; action order as AWS lists it).
// Sources: the AWS Managed Policy Reference
// (docs.aws.amazon.com/aws-managed-policy/latest/reference/NAME.html) and,
// for AWSLambdaSQSQueueExecutionRole, AmazonSQSFullAccess,
// CloudWatchLogsFullAccess and ReadOnlyAccess, whose reference pages were
// not to hand, moto's record of AWS's documents
// (moto/iam/aws_managed_policies.py, July 2026).
//
// Where AWS's document is very long (ReadOnlyAccess,
// AmazonDynamoDBFullAccess, AmazonDynamoDBReadOnlyAccess) it is SHORTENED:
// only statements that concern the services updraft serves (lambda, iam,
// sts, sqs, kinesis, dynamodb, states, logs) are kept, and within a kept
// statement only the actions of those services; everything kept is
// AWS's, unaltered. The version id is that of the full AWS document.
var catalogue = []Policy{
	mk("AWSLambdaBasicExecutionRole", "/service-role/", "v1", "Provides write permissions to CloudWatch Logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambdaDynamoDBExecutionRole", "/service-role/", "v1", "Provides list and read access to DynamoDB streams and write permissions to CloudWatch logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambdaExecute", "/", "v1", "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"arn:aws:logs:*:*:*"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::*"}]}`),
	mk("AWSLambdaInvocation-DynamoDB", "/", "v1", "Provides read access to DynamoDB Streams.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams"],"Resource":"*"}]}`),
	mk("AWSLambdaKinesisExecutionRole", "/service-role/", "v2", "Provides list and read access to Kinesis streams and write permissions to CloudWatch logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator","kinesis:ListShards","kinesis:ListStreams","kinesis:SubscribeToShard","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambdaRole", "/service-role/", "v1", "Default policy for AWS Lambda service role.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}`),
	mk("AWSLambdaSQSQueueExecutionRole", "/service-role/", "v1", "Provides receive message, delete message, and read attribute access to SQS queues, and write permissions to CloudWatch logs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`),
	mk("AWSLambda_FullAccess", "/", "v2", "Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:DescribeStacks","cloudformation:ListStackResources","cloudwatch:ListMetrics","cloudwatch:GetMetricData","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:ListAliases","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","lambda:*","logs:DescribeLogGroups","states:DescribeStateMachine","states:ListStateMachines","tag:GetResources","xray:GetTraceSummaries","xray:BatchGetTraces"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents","logs:StartLiveTail","logs:StopLiveTail"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}`),
	mk("AWSLambda_ReadOnlyAccess", "/", "v3", "Grants read-only access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:DescribeStacks","cloudformation:ListStacks","cloudformation:ListStackResources","cloudwatch:GetMetricData","cloudwatch:ListMetrics","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:ListAliases","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","logs:DescribeLogGroups","lambda:Get*","lambda:List*","states:DescribeStateMachine","states:ListStateMachines","tag:GetResources","xray:GetTraceSummaries","xray:BatchGetTraces"],"Resource":"*"},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents","logs:StartQuery","logs:StopQuery","logs:DescribeQueries","logs:GetLogGroupFields","logs:GetLogRecord","logs:GetQueryResults","logs:StartLiveTail","logs:StopLiveTail"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}`),
	mk("AWSStepFunctionsFullAccess", "/", "v1", "An access policy for providing a user/role/etc access to the AWS StepFunctions API. For full access, in addition to this policy, a user MUST have iam:PassRole permission on at least one IAM role that can be assumed by the service.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"states:*","Resource":"*"}]}`),
	mk("AWSStepFunctionsReadOnlyAccess", "/", "v4", "An access policy for providing a user/role/etc read only access to the AWS StepFunctions service.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyAccess","Effect":"Allow","Action":["states:ListStateMachines","states:ListActivities","states:DescribeStateMachine","states:DescribeStateMachineForExecution","states:ListExecutions","states:DescribeExecution","states:GetExecutionHistory","states:DescribeActivity","states:ListTagsForResource","states:DescribeMapRun","states:ListMapRuns","states:DescribeStateMachineAlias","states:ListStateMachineAliases","states:ListStateMachineVersions","states:ValidateStateMachineDefinition"],"Resource":"*"}]}`),
	mk("AdministratorAccess", "/", "v1", "Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
	// AmazonDynamoDBFullAccess (shortened): AWS's first statement also
	// grants dax:* and the console's helpers (application-autoscaling,
	// cloudwatch, datapipeline, ec2, kms, sns, resource-groups, tag), and a
	// further statement grants cloudwatch:GetInsightRuleReport; those are
	// dropped. The iam:PassRole and iam:CreateServiceLinkedRole statements
	// are kept whole.
	mk("AmazonDynamoDBFullAccess", "/", "v15", "Provides full access to Amazon DynamoDB via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:*","iam:GetRole","iam:ListRoles","lambda:CreateFunction","lambda:ListFunctions","lambda:ListEventSourceMappings","lambda:CreateEventSourceMapping","lambda:DeleteEventSourceMapping","lambda:GetFunctionConfiguration","lambda:DeleteFunction","kinesis:ListStreams","kinesis:DescribeStream","kinesis:DescribeStreamSummary"],"Resource":"*"},{"Effect":"Allow","Action":["iam:PassRole"],"Resource":"*","Condition":{"StringLike":{"iam:PassedToService":["application-autoscaling.amazonaws.com","application-autoscaling.amazonaws.com.cn","dax.amazonaws.com"]}}},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole"],"Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":["replication.dynamodb.amazonaws.com","dax.amazonaws.com","dynamodb.application-autoscaling.amazonaws.com","contributorinsights.dynamodb.amazonaws.com","kinesisreplication.dynamodb.amazonaws.com"]}}}]}`),
	// AmazonDynamoDBReadOnlyAccess (shortened): only the dynamodb, iam,
	// lambda and kinesis actions of AWS's GeneralReadOnlyAccess statement
	// are kept; its dax, cloudwatch, datapipeline, ec2, kms, sns,
	// resource-groups and tag actions and the CCIAccess statement
	// (cloudwatch) are dropped.
	mk("AmazonDynamoDBReadOnlyAccess", "/", "v15", "Provides read only access to Amazon DynamoDB via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"GeneralReadOnlyAccess","Effect":"Allow","Action":["dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:List*","dynamodb:GetAbacStatus","dynamodb:GetItem","dynamodb:GetResourcePolicy","dynamodb:Query","dynamodb:Scan","dynamodb:PartiQLSelect","iam:GetRole","iam:ListRoles","lambda:ListFunctions","lambda:ListEventSourceMappings","lambda:GetFunctionConfiguration","kinesis:ListStreams","kinesis:DescribeStream","kinesis:DescribeStreamSummary"],"Resource":"*"}]}`),
	mk("AmazonKinesisFullAccess", "/", "v1", "Provides full access to all streams via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`),
	mk("AmazonKinesisReadOnlyAccess", "/", "v1", "Provides read only access to all streams via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:Get*","kinesis:List*","kinesis:Describe*"],"Resource":"*"}]}`),
	mk("AmazonSQSFullAccess", "/", "v1", "Provides full access to Amazon SQS via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:*"],"Resource":"*"}]}`),
	mk("AmazonSQSReadOnlyAccess", "/", "v4", "Provides read only access to Amazon SQS via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"AmazonSQSReadOnlyAccess","Effect":"Allow","Action":["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListMessageMoveTasks","sqs:ListQueueTags"],"Resource":"*"}]}`),
	mk("CloudWatchLogsFullAccess", "/", "v8", "Provides full access to CloudWatch Logs.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"CloudWatchLogsFullAccess","Effect":"Allow","Action":["logs:*","cloudwatch:GenerateQuery","cloudwatch:GenerateQueryResultsSummary","observabilityadmin:GetS3TableIntegration","observabilityadmin:ListS3TableIntegrations","observabilityadmin:ListTelemetryPipelines"],"Resource":"*"}]}`),
	mk("IAMFullAccess", "/", "v2", "Provides full access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`),
	mk("IAMReadOnlyAccess", "/", "v4", "Provides read only access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}`),
	mk("PowerUserAccess", "/", "v12", "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}`),
	// ReadOnlyAccess (shortened): AWS's document lists read actions for
	// every AWS service (thousands, in statements ReadOnlyActionsGroup1 and
	// ReadOnlyActionsGroup2, plus an s3express statement); only the
	// actions for lambda, iam, sts, sqs, kinesis, dynamodb, states and
	// logs are kept, in their statements, and the s3express statement is
	// dropped.
	mk("ReadOnlyAccess", "/", "v186", "Provides read-only access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyActionsGroup1","Effect":"Allow","Action":["dynamodb:BatchGet*","dynamodb:Describe*","dynamodb:Get*","dynamodb:List*","dynamodb:PartiQLSelect","dynamodb:Query","dynamodb:Scan","iam:Generate*","iam:Get*","iam:List*","iam:Simulate*"],"Resource":"*"},{"Sid":"ReadOnlyActionsGroup2","Effect":"Allow","Action":["kinesis:Describe*","kinesis:Get*","kinesis:List*","lambda:Get*","lambda:List*","logs:Describe*","logs:FilterLogEvents","logs:Get*","logs:ListAggregateLogGroupSummaries","logs:ListAnomalies","logs:ListEntitiesForLogGroup","logs:ListIntegrations","logs:ListLogAnomalyDetectors","logs:ListLogDeliveries","logs:ListLogGroupsForEntity","logs:ListLogGroupsForQuery","logs:ListScheduledQueries","logs:ListSourcesForS3TableIntegration","logs:ListTagsForResource","logs:ListTagsLogGroup","logs:StartLiveTail","logs:StartQuery","logs:StopLiveTail","logs:StopQuery","logs:TestMetricFilter","sqs:Get*","sqs:List*","sqs:Receive*","states:Describe*","states:GetExecutionHistory","states:List*","states:ValidateStateMachineDefinition","sts:GetAccessKeyInfo","sts:GetCallerIdentity","sts:GetSessionToken"],"Resource":"*"}]}`),
}

// Drives updraft with the AWS SDK for JavaScript v3 as a Node program
// would: Kinesis (which the SDK speaks over HTTP/2), SQS and DynamoDB. Reads the
// endpoint and credentials from the environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and prints one JSON document
// of what it read back; any failure exits non-zero with the error.
import {
  KinesisClient, CreateStreamCommand, PutRecordCommand, GetShardIteratorCommand, GetRecordsCommand,
  RegisterStreamConsumerCommand, DescribeStreamConsumerCommand, SubscribeToShardCommand,
} from "@aws-sdk/client-kinesis";
import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, PutItemCommand, GetItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand, DeleteMessageCommand,
} from "@aws-sdk/client-sqs";

const endpoint = process.env.AWS_ENDPOINT_URL;
const region = "us-east-1";
const out = {};
const subscribe = process.argv.includes("--subscribe");

const kinesis = new KinesisClient({ region, endpoint, maxAttempts: 1 });
await kinesis.send(new CreateStreamCommand({ StreamName: "js-s", ShardCount: 1 }));
const put = [];
for (const data of ["one", "two"]) {
  const r = await kinesis.send(new PutRecordCommand({ StreamName: "js-s", PartitionKey: "k", Data: new TextEncoder().encode(data) }));
  put.push(r.SequenceNumber);
}
out.put = put;
const it = await kinesis.send(new GetShardIteratorCommand({ StreamName: "js-s", ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }));
const recs = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
out.records = recs.Records.map((r) => ({ data: new TextDecoder().decode(r.Data), seq: r.SequenceNumber, key: r.PartitionKey }));
out.millisBehindLatest = recs.MillisBehindLatest;

if (subscribe) {
  const streamARN = "arn:aws:kinesis:us-east-1:000000000000:stream/js-s";
  const reg = await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: "js-consumer" }));
  const consumerARN = reg.Consumer.ConsumerARN;
  for (let i = 0; i < 50; i++) {
    const d = await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerARN }));
    if (d.ConsumerDescription.ConsumerStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const abort = new AbortController();
  const sub = await kinesis.send(new SubscribeToShardCommand({
    ConsumerARN: consumerARN, ShardId: "shardId-000000000000", StartingPosition: { Type: "TRIM_HORIZON" },
  }), { abortSignal: abort.signal });
  out.subscribed = [];
  out.events = [];
  for await (const ev of sub.EventStream) {
    out.events.push(Object.keys(ev).join("+"));
    if (ev.SubscribeToShardEvent) {
      for (const r of ev.SubscribeToShardEvent.Records) out.subscribed.push(new TextDecoder().decode(r.Data));
      if (out.subscribed.length >= 2) break;
    }
  }
  abort.abort();
}

const sqs = new SQSClient({ region, endpoint, maxAttempts: 1 });
const q = await sqs.send(new CreateQueueCommand({ QueueName: "js-q" }));
// The SDK checks the MD5 digests of the body and attributes it gets back.
const sent = await sqs.send(new SendMessageCommand({
  QueueUrl: q.QueueUrl, MessageBody: "hello from node",
  MessageAttributes: { lang: { DataType: "String", StringValue: "js" } },
}));
const got = await sqs.send(new ReceiveMessageCommand({
  QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"],
}));
const m = got.Messages[0];
await sqs.send(new DeleteMessageCommand({ QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle }));
out.queue = { sentId: sent.MessageId, id: m.MessageId, body: m.Body, lang: m.MessageAttributes.lang.StringValue, count: m.Attributes.ApproximateReceiveCount };

const ddb = new DynamoDBClient({ region, endpoint, maxAttempts: 1 });
await ddb.send(new CreateTableCommand({
  TableName: "js-t", BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
}));
for (let i = 0; i < 100; i++) {
  const d = await ddb.send(new DescribeTableCommand({ TableName: "js-t" }));
  if (d.Table.TableStatus === "ACTIVE") break;
  await new Promise((r) => setTimeout(r, 100));
}
await ddb.send(new PutItemCommand({ TableName: "js-t", Item: { id: { S: "a" }, n: { N: "42" } } }));
const item = await ddb.send(new GetItemCommand({ TableName: "js-t", Key: { id: { S: "a" } }, ConsistentRead: true }));
out.table = { id: item.Item.id.S, n: item.Item.n.N };

kinesis.destroy();
sqs.destroy();
ddb.destroy();
console.log(JSON.stringify(out));
// An aborted event stream may leave the HTTP/2 session to time out; the
// answer is complete, so do not wait for it.
process.exit(0);

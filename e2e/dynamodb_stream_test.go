package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

// dynamoClient is an aws-sdk-go-v2 DynamoDB client for srv.
func dynamoClient(srv *testutil.Server) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.HTTPClient(),
	})
}

// TestDynamoDBStreamTriggersPython: a NEW_AND_OLD_IMAGES table triggers a
// Python function through an event source mapping; 1,000 writes across
// 100 keys arrive in per-key order with the right old and new images; a
// poisoned record fails its batch, which is bisected until the record is
// alone and discarded, while the rest of the batch is delivered. The
// Streams API reads the same records with the aws CLI.
func TestDynamoDBStreamTriggersPython(t *testing.T) {
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	db := dynamoClient(srv)
	c := ctx(t)
	const fn = "ddb-stream-fn"
	pyCreate(t, srv.Lambda(), fn, "ddbstream.handler", nil)

	ct, err := db.CreateTable(c, &dynamodb.CreateTableInput{
		TableName:            aws.String("Events"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	streamArn := aws.ToString(ct.TableDescription.LatestStreamArn)
	if !strings.HasPrefix(streamArn, "arn:aws:dynamodb:us-east-1:000000000000:table/Events/stream/") {
		t.Fatalf("LatestStreamArn %q", streamArn)
	}
	if _, err := srv.Lambda().CreateEventSourceMapping(c, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(fn), EventSourceArn: aws.String(streamArn), StartingPosition: "TRIM_HORIZON",
		BatchSize: aws.Int32(100), MaximumBatchingWindowInSeconds: aws.Int32(1),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(1),
	}); err != nil {
		t.Fatal(err)
	}

	// 10 rounds over 100 keys, 8 writers, each key written by one of
	// them in order.
	const keys, rounds = 100, 10
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for r := range rounds {
				for k := w; k < keys; k += 8 {
					_, err := db.PutItem(c, &dynamodb.PutItemInput{TableName: aws.String("Events"), Item: map[string]ddbtypes.AttributeValue{
						"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", k)},
						"v":  &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(r)},
					}})
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	line := regexp.MustCompile(`BATCH ([^\n]*)`)
	var got map[string][]string
	testutil.WaitFor(t, 90*time.Second, func() error {
		out, _, _ := updraftCLI(t, srv, "logs", fn)
		got = map[string][]string{}
		n := 0
		for _, m := range line.FindAllStringSubmatch(out, -1) {
			for _, rec := range strings.Fields(m[1]) {
				k, rest, _ := strings.Cut(rec, ":")
				got[k] = append(got[k], rest)
				n++
			}
		}
		if n < keys*rounds {
			return fmt.Errorf("%d of %d records delivered", n, keys*rounds)
		}
		return nil
	})
	for k := range keys {
		key := fmt.Sprintf("k%03d", k)
		want := []string{"INSERT:None:0:aws:dynamodb"}
		for r := 1; r < rounds; r++ {
			want = append(want, fmt.Sprintf("MODIFY:%d:%d:aws:dynamodb", r-1, r))
		}
		if strings.Join(got[key], " ") != strings.Join(want, " ") {
			t.Fatalf("%s: got %v\nwant %v", key, got[key], want)
		}
	}

	// One batch with a poisoned record: bisected down to it.
	for _, k := range []string{"p1", "p2", "poisoned", "p3", "p4"} {
		item := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: k}, "v": &ddbtypes.AttributeValueMemberN{Value: "1"}}
		if k == "poisoned" {
			item["poison"] = &ddbtypes.AttributeValueMemberBOOL{Value: true}
		}
		if _, err := db.PutItem(c, &dynamodb.PutItemInput{TableName: aws.String("Events"), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 90*time.Second, func() error {
		out, _, _ := updraftCLI(t, srv, "logs", fn)
		for _, k := range []string{"p1", "p2", "p3", "p4"} {
			if !strings.Contains(out, " "+k+":INSERT:None:1:") && !strings.Contains(out, "BATCH "+k+":INSERT:None:1:") {
				return fmt.Errorf("%s not delivered yet", k)
			}
		}
		if !strings.Contains(out, "poisoned record poisoned") {
			return fmt.Errorf("the poisoned batch has not failed yet")
		}
		return nil
	})

	// The Streams API with the aws CLI.
	out, _ := awsCLI(t, srv, false, "dynamodbstreams", "describe-stream", "--stream-arn", streamArn)
	var desc struct {
		StreamDescription struct {
			StreamStatus, StreamViewType, TableName string
			Shards                                  []struct{ ShardId string }
		}
	}
	if err := json.Unmarshal([]byte(out), &desc); err != nil || desc.StreamDescription.StreamStatus != "ENABLED" ||
		desc.StreamDescription.StreamViewType != "NEW_AND_OLD_IMAGES" || len(desc.StreamDescription.Shards) != 1 {
		t.Fatalf("describe-stream: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "dynamodbstreams", "get-shard-iterator", "--stream-arn", streamArn,
		"--shard-id", desc.StreamDescription.Shards[0].ShardId, "--shard-iterator-type", "TRIM_HORIZON")
	var it struct{ ShardIterator string }
	_ = json.Unmarshal([]byte(out), &it)
	out, _ = awsCLI(t, srv, false, "dynamodbstreams", "get-records", "--shard-iterator", it.ShardIterator, "--limit", "2")
	var recs struct {
		Records []struct {
			EventName, EventSource string
			Dynamodb               struct {
				Keys           map[string]map[string]string
				NewImage       map[string]map[string]string
				SequenceNumber string
				StreamViewType string
			}
		}
		NextShardIterator string
	}
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs.Records) != 2 || recs.Records[0].EventName != "INSERT" ||
		recs.Records[0].EventSource != "aws:dynamodb" || recs.Records[0].Dynamodb.NewImage["v"]["N"] != "0" ||
		recs.Records[0].Dynamodb.SequenceNumber >= recs.Records[1].Dynamodb.SequenceNumber || recs.NextShardIterator == "" {
		t.Fatalf("get-records: %s", out)
	}

}

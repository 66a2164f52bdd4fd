package sqs

import (
	"encoding/base64"
	"encoding/xml"
	"sort"

	"github.com/updraft/updraft/internal/queue"
)

// Input shapes, with the JSON protocol's member names; query.go fills
// the same structs from a form.
type (
	createQueueInput struct {
		QueueName  string            `json:"QueueName"`
		Attributes map[string]string `json:"Attributes"`
		Tags       map[string]string `json:"tags"`
	}
	getQueueURLInput struct {
		QueueName              string `json:"QueueName"`
		QueueOwnerAWSAccountID string `json:"QueueOwnerAWSAccountId"`
	}
	listQueuesInput struct {
		QueueNamePrefix string `json:"QueueNamePrefix"`
		NextToken       string `json:"NextToken"`
		MaxResults      *int   `json:"MaxResults"`
	}
	queueURLInput struct {
		QueueURL string `json:"QueueUrl"`
	}
	getQueueAttributesInput struct {
		QueueURL       string   `json:"QueueUrl"`
		AttributeNames []string `json:"AttributeNames"`
	}
	setQueueAttributesInput struct {
		QueueURL   string            `json:"QueueUrl"`
		Attributes map[string]string `json:"Attributes"`
	}
	sendMessageInput struct {
		QueueURL string `json:"QueueUrl"`
		sendEntry
	}
	sendEntry struct {
		ID                      string                     `json:"Id,omitempty"`
		MessageBody             *string                    `json:"MessageBody"`
		DelaySeconds            *int                       `json:"DelaySeconds"`
		MessageAttributes       map[string]queue.Attribute `json:"MessageAttributes"`
		MessageSystemAttributes map[string]queue.Attribute `json:"MessageSystemAttributes"`
		MessageDeduplicationID  string                     `json:"MessageDeduplicationId"`
		MessageGroupID          string                     `json:"MessageGroupId"`
	}
	sendMessageBatchInput struct {
		QueueURL string      `json:"QueueUrl"`
		Entries  []sendEntry `json:"Entries"`
	}
	receiveMessageInput struct {
		QueueURL                    string   `json:"QueueUrl"`
		AttributeNames              []string `json:"AttributeNames"`
		MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
		MessageAttributeNames       []string `json:"MessageAttributeNames"`
		MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
		VisibilityTimeout           *int     `json:"VisibilityTimeout"`
		WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
		ReceiveRequestAttemptID     string   `json:"ReceiveRequestAttemptId"`
	}
	deleteMessageInput struct {
		QueueURL      string `json:"QueueUrl"`
		ReceiptHandle string `json:"ReceiptHandle"`
	}
	handleEntry struct {
		ID                string `json:"Id"`
		ReceiptHandle     string `json:"ReceiptHandle"`
		VisibilityTimeout *int   `json:"VisibilityTimeout"`
	}
	batchHandleInput struct {
		QueueURL string        `json:"QueueUrl"`
		Entries  []handleEntry `json:"Entries"`
	}
	changeVisibilityInput struct {
		QueueURL          string `json:"QueueUrl"`
		ReceiptHandle     string `json:"ReceiptHandle"`
		VisibilityTimeout *int   `json:"VisibilityTimeout"`
	}
	tagQueueInput struct {
		QueueURL string            `json:"QueueUrl"`
		Tags     map[string]string `json:"Tags"`
	}
	untagQueueInput struct {
		QueueURL string   `json:"QueueUrl"`
		TagKeys  []string `json:"TagKeys"`
	}
)

// Output shapes. The json tags are the JSON protocol's members, the xml
// tags the query protocol's elements (flattened lists and maps, as SQS
// writes them).
type (
	queueURLOutput struct {
		QueueURL string `json:"QueueUrl" xml:"QueueUrl"`
	}
	listQueuesOutput struct {
		QueueURLs []string `json:"QueueUrls,omitempty" xml:"QueueUrl"`
		NextToken string   `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
	}
	attributesOutput struct {
		Attributes nameValues `json:"Attributes" xml:"Attribute"`
	}
	tagsOutput struct {
		Tags keyValues `json:"Tags,omitempty" xml:"Tag"`
	}
	sendMessageOutput struct {
		MD5OfMessageBody       string `json:"MD5OfMessageBody" xml:"MD5OfMessageBody"`
		MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty" xml:"MD5OfMessageAttributes,omitempty"`
		MD5OfSystemAttributes  string `json:"MD5OfMessageSystemAttributes,omitempty" xml:"MD5OfMessageSystemAttributes,omitempty"`
		MessageID              string `json:"MessageId" xml:"MessageId"`
		SequenceNumber         string `json:"SequenceNumber,omitempty" xml:"SequenceNumber,omitempty"`
	}
	sendBatchEntry struct {
		ID string `json:"Id" xml:"Id"`
		sendMessageOutput
	}
	batchError struct {
		ID          string `json:"Id" xml:"Id"`
		SenderFault bool   `json:"SenderFault" xml:"SenderFault"`
		Code        string `json:"Code" xml:"Code"`
		Message     string `json:"Message,omitempty" xml:"Message,omitempty"`
	}
	sendBatchOutput struct {
		Successful []sendBatchEntry `json:"Successful" xml:"SendMessageBatchResultEntry"`
		Failed     []batchError     `json:"Failed" xml:"BatchResultErrorEntry"`
	}
	batchID struct {
		ID string `json:"Id" xml:"Id"`
	}
	// handleBatchOutput is DeleteMessageBatch's and
	// ChangeMessageVisibilityBatch's output; entryName is the element of
	// a success in XML.
	handleBatchOutput struct {
		Successful []batchID     `json:"Successful" xml:"-"`
		Failed     []batchError  `json:"Failed" xml:"BatchResultErrorEntry"`
		XMLOK      []xmlResultOK `json:"-" xml:",any"`
	}
	xmlResultOK struct {
		XMLName xml.Name
		ID      string `xml:"Id"`
	}
	message struct {
		MessageID              string         `json:"MessageId" xml:"MessageId"`
		ReceiptHandle          string         `json:"ReceiptHandle" xml:"ReceiptHandle"`
		MD5OfBody              string         `json:"MD5OfBody" xml:"MD5OfBody"`
		Body                   string         `json:"Body" xml:"Body"`
		Attributes             nameValues     `json:"Attributes,omitempty" xml:"Attribute"`
		MD5OfMessageAttributes string         `json:"MD5OfMessageAttributes,omitempty" xml:"MD5OfMessageAttributes,omitempty"`
		MessageAttributes      messageAttrMap `json:"MessageAttributes,omitempty" xml:"MessageAttribute"`
	}
	receiveOutput struct {
		Messages []message `json:"Messages,omitempty" xml:"Message"`
	}
)

// nameValues is a string map, written in XML as SQS does attributes:
// <Attribute><Name>k</Name><Value>v</Value></Attribute> per entry.
type nameValues map[string]string

// MarshalXML writes one start.Name element per entry, sorted by name.
func (m nameValues) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return marshalPairs(e, start, m, "Name")
}

// keyValues is a string map written as tags: <Tag><Key>k</Key><Value>v</Value></Tag>.
type keyValues map[string]string

// MarshalXML writes one start.Name element per entry, sorted by key.
func (m keyValues) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return marshalPairs(e, start, m, "Key")
}

func marshalPairs(e *xml.Encoder, start xml.StartElement, m map[string]string, keyName string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pair := struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		}{k, m[k]}
		if keyName == "Name" {
			if err := e.EncodeElement(struct {
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			}{k, m[k]}, xml.StartElement{Name: start.Name}); err != nil {
				return err
			}
			continue
		}
		if err := e.EncodeElement(pair, xml.StartElement{Name: start.Name}); err != nil {
			return err
		}
	}
	return nil
}

// messageAttrMap is a message's attributes, written in XML as
// <MessageAttribute><Name/><Value><StringValue/>|<BinaryValue/><DataType/></Value></MessageAttribute>.
type messageAttrMap map[string]queue.Attribute

// MarshalXML writes one start.Name element per attribute, sorted by name.
func (m messageAttrMap) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	type value struct {
		StringValue string `xml:"StringValue,omitempty"`
		BinaryValue string `xml:"BinaryValue,omitempty"`
		DataType    string `xml:"DataType"`
	}
	for _, n := range names {
		a := m[n]
		v := value{StringValue: a.StringValue, DataType: a.DataType}
		if len(a.BinaryValue) > 0 {
			v.BinaryValue = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		if err := e.EncodeElement(struct {
			Name  string `xml:"Name"`
			Value value  `xml:"Value"`
		}{n, v}, xml.StartElement{Name: start.Name}); err != nil {
			return err
		}
	}
	return nil
}

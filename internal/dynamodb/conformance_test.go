package dynamodb

import (
	"encoding/json"
	"regexp"
	"testing"
)

// Conformance scenarios. Every expectation is DynamoDB's own answer as
// recorded by a test suite that is run against real DynamoDB: ScyllaDB's
// test/alternator (cited as file::test; its pytest `match=` patterns are
// the regular expressions below, and its asserted results the response
// patterns), or the AWS documentation quoted where noted. None is taken
// from updraft's output.
//
// Fixture (the tables Alternator's fixtures create): test_s (p S),
// test_sn (p S, c N) holding p=pp, c=1..5 with i=10×c, test_ss (p S, c S).
type scenario struct {
	src  string // where the answer is recorded
	op   string // operation, "Streams.X" for DynamoDB Streams
	body string
	// want is "ok" or the error type; re matches the error message, or
	// for "ok" the JSON answer ("" for anything).
	want string
	re   string
}

var scenarios = []scenario{
	// Tables.
	{"test_table.py::test_create_table_already_exists", "CreateTable", `{"TableName":"test_s","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, "ResourceInUseException", `Table.*already exists`},
	{"test_table.py::test_create_table_unsupported_names", "CreateTable", `{"TableName":"n!","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", ``},
	{"test_table.py::test_create_and_delete_table_256", "CreateTable", `{"TableName":"` + long256 + `","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", ``},
	{"test_table.py::test_create_table_invalid_schema", "CreateTable", `{"TableName":"bad_schema","KeySchema":[{"AttributeName":"p","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", ``},
	{"test_table.py::test_create_table_invalid_attribute_definitions", "CreateTable", `{"TableName":"bad_attrs","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"Q"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", `ttributeType`},
	{"test_table.py::test_create_table_lacking_attribute_definitions", "CreateTable", `{"TableName":"no_attrs","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"q","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", `AttributeDefinitions`},
	{"test_table.py::test_create_table_spurious_attribute_definitions", "CreateTable", `{"TableName":"spurious","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"q","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, "ValidationException", ``},
	{"test_table.py::test_create_table_billing_mode_errors", "CreateTable", `{"TableName":"billing","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PROVISIONED"}`, "ValidationException", ``},
	{"test_table.py::test_create_table_billing_mode_errors", "CreateTable", `{"TableName":"billing2","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`, "ValidationException", ``},
	{"test_table.py::test_delete_table_non_existent", "DeleteTable", `{"TableName":"nonexistent_table"}`, "ResourceNotFoundException", ``},
	{"test_table.py::test_update_table_non_existent", "UpdateTable", `{"TableName":"nonexistent_table","BillingMode":"PAY_PER_REQUEST"}`, "ResourceNotFoundException", ``},
	{"test_table.py::test_list_tables_wrong_limit", "ListTables", `{"Limit":101}`, "ValidationException", `[Mm]ember must have value less than or equal to 100`},
	{"test_table.py::test_list_tables_paginated", "ListTables", `{"Limit":1}`, "ok", `"LastEvaluatedTableName":"test_s"`},
	{"test_table.py::test_table_streams_off", "DescribeTable", `{"TableName":"test_s"}`, "ok", `"TableStatus":"ACTIVE"`},
	{"test_describe_table.py (DescribeTable of a missing table)", "DescribeTable", `{"TableName":"nonexistent_table"}`, "ResourceNotFoundException", `Requested resource not found`},

	// Items.
	{"test_item.py::test_item_operations_nonexistent_table", "PutItem", `{"TableName":"nonexistent_table","Item":{"p":{"S":"a"}}}`, "ResourceNotFoundException", ``},
	{"test_item.py::test_item_operations_nonexistent_table", "GetItem", `{"TableName":"nonexistent_table","Key":{"p":{"S":"a"}}}`, "ResourceNotFoundException", ``},
	{"test_item.py::test_item_operations_improper_named_table", "GetItem", `{"TableName":"x","Key":{"p":{"S":"a"}}}`, "ResourceNotFoundException", ``},
	{"test_item.py::test_get_item_missing_item", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"nosuchkey"}}}`, "ok", `^\{\}$`},
	{"test_item.py::test_put_item_wrong_key_type", "PutItem", `{"TableName":"test_s","Item":{"p":{"N":"3"}}}`, "ValidationException", `mismatch`},
	{"test_item.py::test_get_item_wrong_key_type", "GetItem", `{"TableName":"test_s","Key":{"p":{"N":"3"}}}`, "ValidationException", ``},
	{"test_item.py::test_delete_item_wrong_key_type", "DeleteItem", `{"TableName":"test_s","Key":{"p":{"N":"3"}}}`, "ValidationException", ``},
	{"test_item.py::test_update_item_wrong_key_type", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"N":"3"}}}`, "ValidationException", ``},
	{"test_item.py::test_put_item_empty_key", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":""}}}`, "ValidationException", `empty`},
	{"test_item.py::test_key_empty_bytes_value", "PutItem", `{"TableName":"test_s","Item":{"p":{"B":""}}}`, "ValidationException", ``},
	{"test_item.py::test_nonkey_empty_value", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"empty_ok"},"a":{"S":""}}}`, "ok", ``},
	{"test_item.py::test_empty_put", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"e"},"a":{}}}`, "ValidationException", ``},
	{"test_item.py::test_basic_string_put_and_get", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"k1"},"a":{"S":"hello"},"b":{"N":"3"}}}`, "ok", ``},
	{"test_item.py::test_basic_string_put_and_get", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ConsistentRead":true}`, "ok", `"a":\{"S":"hello"\}`},
	{"test_item.py::test_put_and_get_attribute_types", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"types"},"n":{"NULL":true},"b":{"BOOL":false},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"a":{"N":"1"}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["aGk="]},"bin":{"B":"aGk="}}}`, "ok", ``},
	{"test_item.py::test_put_and_get_attribute_types", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"types"}}}`, "ok", `"bin":\{"B":"aGk="\}.*"bs":\{"BS":\["aGk="\]\}.*"n":\{"NULL":true\}.*"ns":\{"NS":\["1","2"\]\}`},
	{"test_item.py::test_put_item_replace", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"k1"},"c":{"S":"new"}}}`, "ok", ``},
	{"test_item.py::test_put_item_replace", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}}}`, "ok", `^\{"Item":\{"c":\{"S":"new"\},"p":\{"S":"k1"\}\}\}$`},
	{"test_item.py::test_update_item_non_existent", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"created_by_update"}},"UpdateExpression":"SET a = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ok", ``},
	{"test_item.py::test_update_item_non_existent", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"created_by_update"}}}`, "ok", `"a":\{"N":"2"\}`},
	{"test_item.py::test_delete_item_return", "DeleteItem", `{"TableName":"test_s","Key":{"p":{"S":"created_by_update"}},"ReturnValues":"ALL_OLD"}`, "ok", `"Attributes":\{"a":\{"N":"2"\}`},
	{"test_item.py::test_unused_entries_no_expression", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `ExpressionAttributeValues`},
	{"test_item.py::test_unused_entries_no_expression", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ExpressionAttributeNames":{"#n":"a"}}`, "ValidationException", `ExpressionAttributeNames`},
	{"test_limits.py::test_limit_partition_key_len", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"` + long2049 + `"}}}`, "ValidationException", `2048`},
	{"test_limits.py::test_limit_sort_key_len", "PutItem", `{"TableName":"test_ss","Item":{"p":{"S":"a"},"c":{"S":"` + long1025 + `"}}}`, "ValidationException", `1024`},

	// Numbers.
	{"test_number.py::test_number_magnitude_not_allowed", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"num"},"a":{"N":"1e126"}}}`, "ValidationException", `overflow`},
	{"test_number.py::test_number_magnitude_not_allowed", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"num"},"a":{"N":"1e-131"}}}`, "ValidationException", `underflow`},
	{"test_number.py::test_number_precision_not_allowed", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"num"},"a":{"N":"1234567890123456789012345678901234567890"}}}`, "ValidationException", `significant`},
	{"test_number.py::test_invalid_numbers", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"num"},"a":{"N":"dog"}}}`, "ValidationException", `numeric`},
	{"test_number.py::test_invalid_numbers", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"num"},"a":{"N":" 1"}}}`, "ValidationException", `numeric`},
	{"test_number.py::test_number_output_normalization", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"num"},"a":{"N":"001.2300e2"},"b":{"N":"-0.0"},"c":{"N":"1e-20"}}}`, "ok", ``},
	{"test_number.py::test_number_output_normalization", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"num"}}}`, "ok", `"a":\{"N":"123"\},"b":\{"N":"0"\},"c":\{"N":"0.00000000000000000001"\}`},
	{"test_number.py::test_update_expression_plus_precision", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"num"}},"UpdateExpression":"SET b = :a + :b","ExpressionAttributeValues":{":a":{"N":"10000000000000000000000"},":b":{"N":"1"}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"b":\{"N":"10000000000000000000001"\}`},
	{"test_number.py::test_update_expression_plus_overflow", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"num"}},"UpdateExpression":"SET b = :a + :a","ExpressionAttributeValues":{":a":{"N":"9.9e125"}}}`, "ValidationException", `overflow`},
	{"test_number.py::test_update_expression_plus_imprecise", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"num"}},"UpdateExpression":"SET b = :a + :b","ExpressionAttributeValues":{":a":{"N":"1e50"},":b":{"N":"1"}}}`, "ValidationException", `[Nn]umber`},
	{"test_number.py::test_number_set_normalization", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"ns"},"a":{"NS":["1","1.0"]}}}`, "ValidationException", `duplicates`},

	// Condition expressions.
	{"test_condition_expression.py::test_put_item_condition", "PutItem", `{"TableName":"test_s","Item":{"p":{"S":"k1"}},"ConditionExpression":"attribute_not_exists(p)"}`, "ConditionalCheckFailedException", `The conditional request failed`},
	{"test_condition_expression.py::test_update_condition_eq_unequal", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"c = :o","ExpressionAttributeValues":{":v":{"N":"1"},":o":{"S":"old"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_eq_success", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"c = :o","ExpressionAttributeValues":{":v":{"N":"1"},":o":{"S":"new"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_eq_two_unset", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"q = z","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_ne", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"z <> :o","ExpressionAttributeValues":{":v":{"N":"1"},":o":{"N":"1"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_ne", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"a <> :o","ExpressionAttributeValues":{":v":{"N":"1"},":o":{"S":"1"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_comparison_two_unset", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"q < z","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_comparison_two_unset", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v","ConditionExpression":"q between z and x","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_lt", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a < :o","ExpressionAttributeValues":{":v":{"N":"1"},":o":{"N":"2"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_lt", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"c < :o","ExpressionAttributeValues":{":v":{"N":"1"},":o":{"N":"2"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_between", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a BETWEEN :lo AND :hi","ExpressionAttributeValues":{":v":{"N":"1"},":lo":{"N":"0"},":hi":{"N":"1"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_between", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a BETWEEN :hi AND :lo","ExpressionAttributeValues":{":v":{"N":"1"},":lo":{"N":"0"},":hi":{"N":"1"}}}`, "ValidationException", `BETWEEN`},
	{"test_condition_expression.py::test_update_condition_in", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a IN (:x, :v)","ExpressionAttributeValues":{":v":{"N":"1"},":x":{"N":"7"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_attribute_exists", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"attribute_exists(nothere)","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_attribute_exists", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"attribute_exists(:v)","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `path`},
	{"test_condition_expression.py::test_update_condition_attribute_type", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"attribute_type(c, :t)","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"S"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_attribute_type_unknown", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"attribute_type(c, :t)","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"DOG"}}}`, "ValidationException", `DOG`},
	{"test_condition_expression.py::test_update_condition_begins_with", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"begins_with(c, :t)","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"ne"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_begins_with", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"begins_with(c, :v)","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", ``},
	{"test_condition_expression.py::test_update_condition_contains", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"contains(c, :t)","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"ew"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_size", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"size(c) = :t","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"N":"3"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_size_alone", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"size(c)","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `not allowed`},
	{"test_condition_expression.py::test_update_condition_attribute_exists_in_comparison", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"attribute_exists(c) = :t","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"BOOL":true}}}`, "ValidationException", `not allowed`},
	{"test_condition_expression.py::test_update_condition_other_funcs", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"dog(c) = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `function`},
	{"test_condition_expression.py::test_update_condition_and", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a = :v AND c = :t","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"new"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_or", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a = :t OR c = :t","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"new"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_not", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"NOT c = :t","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"new"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_condition_and_before_or", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"c = :t OR a = :x AND a = :y","ExpressionAttributeValues":{":v":{"N":"1"},":t":{"S":"new"},":x":{"N":"7"},":y":{"N":"8"}}}`, "ok", ``},
	{"test_condition_expression.py::test_update_condition_empty", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `empty`},
	{"test_condition_expression.py::test_redundant_parentheses", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"((a = :v))","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `redundant parentheses`},
	{"test_condition_expression.py::test_update_condition_unused_entries_failed", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a = :v","ExpressionAttributeValues":{":v":{"N":"1"},":val3":{"N":"3"}}}`, "ValidationException", `val3`},
	{"test_condition_expression.py::test_update_condition_unused_entries_failed", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET z = :v","ConditionExpression":"a = :v","ExpressionAttributeValues":{":v":{"N":"1"}},"ExpressionAttributeNames":{"#name3":"x"}}`, "ValidationException", `name3`},
	{"test_condition_expression.py::test_delete_item_condition", "DeleteItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ConditionExpression":"a = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "ConditionalCheckFailedException", ``},
	{"test_condition_expression.py::test_update_item_condition_key_attribute_not_exists", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"fresh_key"}},"UpdateExpression":"SET z = :v","ConditionExpression":"attribute_not_exists(p)","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ok", ``},

	// Update expressions.
	{"test_update_expression.py::test_update_expression_empty", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":""}`, "ValidationException", `empty`},
	{"test_update_expression.py::test_update_expression_set_copy", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET c2 = nothere"}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_set_copy", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET x = :v, y = x","ExpressionAttributeValues":{":v":{"N":"4"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_name_token", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET _123 = :v","ExpressionAttributeValues":{":v":{"N":"3"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_name_token", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET hi-there = :v","ExpressionAttributeValues":{":v":{"N":"3"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_name_token", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :","ExpressionAttributeValues":{":a":{"N":"7"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_name_token", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET :a = :b","ExpressionAttributeValues":{":a":{"N":"1"},":b":{"N":"2"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_multi", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :v SET b = :w","ExpressionAttributeValues":{":v":{"N":"1"},":w":{"N":"2"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_multi_overlap", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"REMOVE a SET a = :v","ExpressionAttributeValues":{":v":{"S":"hi"}}}`, "ValidationException", `overlap`},
	{"test_update_expression.py::test_update_expression_multi_overlap_nested", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a.b = :v, a.b.c = :w","ExpressionAttributeValues":{":v":{"N":"2"},":w":{"S":"there"}}}`, "ValidationException", `overlap`},
	{"test_update_expression.py::test_update_expression_multi_conflict_nested", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a.b = :v, a[1] = :w","ExpressionAttributeValues":{":v":{"N":"2"},":w":{"S":"there"}}}`, "ValidationException", `conflict`},
	{"test_update_expression.py::test_update_expression_set_missing_value", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET b = :val1","ExpressionAttributeValues":{":val2":{"N":"4"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_spurious_value", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET a = :val1","ExpressionAttributeValues":{":val1":{"N":"3"},":val2":{"N":"4"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_set_missing_name", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET #name = :val1","ExpressionAttributeValues":{":val1":{"N":"4"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_cannot_modify_key", "UpdateItem", `{"TableName":"test_ss","Key":{"p":{"S":"a"},"c":{"S":"b"}},"UpdateExpression":"SET p = :v","ExpressionAttributeValues":{":v":{"N":"4"}}}`, "ValidationException", `key`},
	{"test_update_expression.py::test_update_expression_cannot_modify_key", "UpdateItem", `{"TableName":"test_ss","Key":{"p":{"S":"a"},"c":{"S":"b"}},"UpdateExpression":"REMOVE c"}`, "ValidationException", `key`},
	{"test_update_expression.py::test_update_expression_non_existent_clause", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"HELLO b = :v","ExpressionAttributeValues":{":v":{"N":"4"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_plus_basic", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET b = :a + :b + :c","ExpressionAttributeValues":{":a":{"N":"4"},":b":{"N":"3"},":c":{"N":"2"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_plus_basic", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET b = :a + :b","ExpressionAttributeValues":{":a":{"S":"dog"},":b":{"N":"3"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_plus_basic", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET b = :a + :b","ExpressionAttributeValues":{":a":{"N":"4"},":b":{"N":"3"}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"b":\{"N":"7"\}`},
	{"test_update_expression.py::test_update_expression_list_append_basic", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET l = LIST_APPEND(:a, :b)","ExpressionAttributeValues":{":a":{"L":[]},":b":{"L":[]}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_list_append_basic", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET l = list_append(:a)","ExpressionAttributeValues":{":a":{"L":[]}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_list_append_basic", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET l = list_append(:a, :b)","ExpressionAttributeValues":{":a":{"L":[{"N":"4"},{"S":"hello"}]},":b":{"L":[{"S":"hi"},{"N":"7"}]}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"l":\{"L":\[\{"N":"4"\},\{"S":"hello"\},\{"S":"hi"\},\{"N":"7"\}\]\}`},
	{"test_update_expression.py::test_update_expression_list_append_non_list_arguments", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET l = list_append(c, :a)","ExpressionAttributeValues":{":a":{"L":[]}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_if_not_exists", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET b = if_not_exists(if_not_exists(a, :x), :y)","ExpressionAttributeValues":{":x":{"N":"3"},":y":{"N":"6"}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_if_not_exists", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET ine = if_not_exists(ine, :y)","ExpressionAttributeValues":{":y":{"N":"6"}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"ine":\{"N":"6"\}`},
	{"test_update_expression.py::test_update_expression_unknown_function", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET b = f123_hi(a)"}`, "ValidationException", `f123_hi`},
	{"test_update_expression.py::test_update_expression_add_numbers", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"ADD ctr :v","ExpressionAttributeValues":{":v":{"N":"3"}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"ctr":\{"N":"3"\}`},
	{"test_update_expression.py::test_update_expression_add_sets", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"ADD st :v","ExpressionAttributeValues":{":v":{"SS":["dog","cat"]}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"st":\{"SS":\["cat","dog"\]\}`},
	{"test_update_expression.py::test_update_expression_add_lists", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"ADD lst :v","ExpressionAttributeValues":{":v":{"L":[{"N":"1"}]}}}`, "ValidationException", ``},
	{"test_update_expression.py::test_update_expression_delete_sets", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"DELETE st :v","ExpressionAttributeValues":{":v":{"SS":["dog"]}},"ReturnValues":"UPDATED_NEW"}`, "ok", `"st":\{"SS":\["cat"\]\}`},
	{"test_update_expression.py::test_nested_attribute_update_bad_path_dot", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET c.x = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `path`},
	{"test_update_expression.py::test_nested_attribute_update_bad_path_array", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET c[0] = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`, "ValidationException", `path`},
	{"test_update_expression.py::test_update_expression_nested_remove_list_item_original_number", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"SET rl = :v","ExpressionAttributeValues":{":v":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"}]}}}`, "ok", ``},
	{"test_update_expression.py::test_update_expression_nested_remove_list_item_original_number", "UpdateItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"UpdateExpression":"REMOVE rl[1], rl[2]","ReturnValues":"ALL_NEW"}`, "ok", `"rl":\{"L":\[\{"N":"0"\},\{"N":"3"\}\]\}`},

	// Projection expressions.
	{"test_projection_expression.py::test_projection_expression_toplevel", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ProjectionExpression":"c, ctr"}`, "ok", `^\{"Item":\{"c":\{"S":"new"\},"ctr":\{"N":"3"\}\}\}$`},
	{"test_projection_expression.py::test_projection_expression_toplevel_syntax", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ProjectionExpression":"c,"}`, "ValidationException", `ProjectionExpression.*[Ss]yntax error`},
	{"test_projection_expression.py::test_projection_expression_path_overlap", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ProjectionExpression":"a, a.b"}`, "ValidationException", ` overlap`},
	{"test_projection_expression.py::test_projection_expression_path_conflict", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ProjectionExpression":"a.b, a[1]"}`, "ValidationException", ` conflict`},
	{"test_projection_expression.py::test_projection_expression_list_index", "GetItem", `{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ProjectionExpression":"rl[1]"}`, "ok", `^\{"Item":\{"rl":\{"L":\[\{"N":"3"\}\]\}\}\}$`},

	// Query and key conditions.
	{"test_key_condition_expression.py::test_key_condition_expression_num_between", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND c BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"pp"},":a":{"N":"2"},":b":{"N":"4"}}}`, "ok", `"Count":3,.*"ScannedCount":3`},
	{"test_key_condition_expression.py::test_key_condition_expression_num_lt_reverse", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND :c > c","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}}}`, "ok", `"Count":2`},
	{"test_key_condition_expression.py::test_key_condition_expression_and_same", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}}}`, "ValidationException", `one`},
	{"test_key_condition_expression.py::test_key_condition_expression_partition_missing_val", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p"}`, "ValidationException", `:p`},
	{"test_key_condition_expression.py::test_key_condition_expression_partition_unused_val", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"},":qq":{"N":"3"}}}`, "ValidationException", `qq`},
	{"test_key_condition_expression.py::test_key_condition_expression_partition_eq_only", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p<:p","ExpressionAttributeValues":{":p":{"S":"pp"}}}`, "ValidationException", `supported`},
	{"test_key_condition_expression.py::test_key_condition_expression_no_partition", "Query", `{"TableName":"test_sn","KeyConditionExpression":"c=:c","ExpressionAttributeValues":{":c":{"N":"3"}}}`, "ValidationException", ` p`},
	{"test_key_condition_expression.py::test_key_condition_expression_num_begins", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND begins_with(c, :c)","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}}}`, "ValidationException", `begins_with`},
	{"test_key_condition_expression.py::test_key_condition_expression_unknown", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND dog(c, :c)","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}}}`, "ValidationException", `dog`},
	{"test_key_condition_expression.py::test_key_condition_expression_parser", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND c<>:c","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"5"}}}`, "ValidationException", `operator`},
	{"test_key_condition_expression.py::test_key_condition_expression_parser", "Query", `{"TableName":"test_sn","KeyConditionExpression":"c=:c OR p=:p","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}}}`, "ValidationException", `KeyConditionExpression`},
	{"test_key_condition_expression.py::test_key_condition_expression_syntax", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND c!=:c","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}}}`, "ValidationException", `yntax`},
	{"test_key_condition_expression.py::test_key_condition_expression_empty", "Query", `{"TableName":"test_sn","KeyConditionExpression":""}`, "ValidationException", `empty`},
	{"test_key_condition_expression.py::test_key_condition_expression_non_key", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p AND a.b<:a","ExpressionAttributeValues":{":p":{"S":"pp"},":a":{"N":"3"}}}`, "ValidationException", `nested`},
	{"test_key_condition_expression.py::test_key_condition_expression_bad_compare", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=c"}`, "ValidationException", ``},
	{"test_key_condition_expression.py::test_key_condition_expression_bad_compare", "Query", `{"TableName":"test_sn","KeyConditionExpression":":p=:a","ExpressionAttributeValues":{":p":{"S":"pp"},":a":{"N":"3"}}}`, "ValidationException", ``},
	{"test_key_condition_expression.py::test_key_condition_expression_name_ref_error", "Query", `{"TableName":"test_sn","KeyConditionExpression":"#name1=:p AND #name2=:c","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}},"ExpressionAttributeNames":{"#name1":"p"}}`, "ValidationException", `name2`},
	{"test_key_condition_expression.py::test_key_condition_expression_wrong_type", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:num","ExpressionAttributeValues":{":num":{"N":"3"}}}`, "ValidationException", `type`},
	{"test_key_condition_expression.py::test_key_condition_expression_str_begins_case", "Query", `{"TableName":"test_ss","KeyConditionExpression":"p=:p AND BEGINS_WITH(c,:c)","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"S":"00"}}}`, "ValidationException", `BEGINS_WITH`},
	{"test_query.py::test_query_nonexistent_table", "Query", `{"TableName":"nonexistent_table","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}}}`, "ResourceNotFoundException", ``},
	{"test_query.py::test_query_limit", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}},"Limit":0}`, "ValidationException", `[lL]imit`},
	{"test_query.py::test_query_limit_paging", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}},"Limit":2}`, "ok", `"LastEvaluatedKey":\{"c":\{"N":"2"\},"p":\{"S":"pp"\}\}`},
	{"test_query.py::test_query_exclusivestartkey", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}},"ExclusiveStartKey":{"p":{"S":"pp"},"c":{"N":"3"}}}`, "ok", `"Count":2`},
	{"test_query.py::test_query_reverse", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}},"ScanIndexForward":false,"Limit":1}`, "ok", `"c":\{"N":"5"\}`},
	{"test_query.py::test_query_select", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}},"Select":"COUNT"}`, "ok", `^\{"Count":5,"ScannedCount":5\}$`},
	{"test_query.py::test_query_select", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}},"Select":"COUNT","ProjectionExpression":"i"}`, "ValidationException", ``},
	{"test_query.py::test_query_missing_key", "Query", `{"TableName":"test_sn"}`, "ValidationException", ``},
	{"test_filter_expression.py::test_filter_expression_partition_key_1", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"p=:p","ExpressionAttributeValues":{":p":{"S":"pp"}}}`, "ValidationException", ` p`},
	{"test_filter_expression.py::test_filter_expression_sort_key", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"c=:c","ExpressionAttributeValues":{":p":{"S":"pp"},":c":{"N":"3"}}}`, "ValidationException", ` key `},
	{"test_filter_expression.py::test_filter_expression_missing_val", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"i=:i","ExpressionAttributeValues":{":p":{"S":"pp"}}}`, "ValidationException", `:i`},
	{"test_filter_expression.py::test_filter_expression_num_between_reverse", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"i BetWEeN :a AnD :b","ExpressionAttributeValues":{":p":{"S":"pp"},":a":{"N":"40"},":b":{"N":"20"}}}`, "ValidationException", ` BETWEEN`},
	{"test_filter_expression.py::test_filter_expression_attribute_type", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"attribute_type(i, :t)","ExpressionAttributeValues":{":p":{"S":"pp"},":t":{"S":"HELLO"}}}`, "ValidationException", `HELLO`},
	{"test_filter_expression.py::test_filter_expression_syntax", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"i != :i","ExpressionAttributeValues":{":p":{"S":"pp"},":i":{"N":"3"}}}`, "ValidationException", `yntax`},
	{"test_filter_expression.py::test_filter_expression_validation_without_results", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"list_append(s, :v) = :v","ExpressionAttributeValues":{":p":{"S":"pp"},":v":{"S":"hello"}}}`, "ValidationException", `Invalid FilterExpression.*list_append`},
	{"test_filter_expression.py::test_filter_expression_validation_without_results", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"begins_with(s)","ExpressionAttributeValues":{":p":{"S":"pp"}}}`, "ValidationException", `Invalid FilterExpression.*begins_with`},
	{"test_filter_expression.py::test_filter_expression_ge", "Query", `{"TableName":"test_sn","KeyConditionExpression":"p=:p","FilterExpression":"i >= :i","ExpressionAttributeValues":{":p":{"S":"pp"},":i":{"N":"30"}}}`, "ok", `"Count":3,.*"ScannedCount":5`},

	// Scan.
	{"test_scan.py::test_scan_nonexistent_table", "Scan", `{"TableName":"nonexistent_table"}`, "ResourceNotFoundException", ``},
	{"test_scan.py::test_scan_parallel_incorrect", "Scan", `{"TableName":"test_sn","Segment":3,"TotalSegments":2}`, "ValidationException", `Segment`},
	{"test_scan.py::test_scan_parallel_incorrect", "Scan", `{"TableName":"test_sn","TotalSegments":2}`, "ValidationException", `Segment`},
	{"test_scan.py::test_scan_select", "Scan", `{"TableName":"test_sn","Select":"COUNT"}`, "ok", `^\{"Count":5,"ScannedCount":5\}$`},

	// Batches.
	{"test_batch.py::test_batch_write_duplicate_write", "BatchWriteItem", `{"RequestItems":{"test_s":[{"PutRequest":{"Item":{"p":{"S":"dup"}}}},{"PutRequest":{"Item":{"p":{"S":"dup"}}}}]}}`, "ValidationException", `duplicates`},
	{"test_batch.py::test_batch_write_duplicate_write_and_delete", "BatchWriteItem", `{"RequestItems":{"test_s":[{"PutRequest":{"Item":{"p":{"S":"dup"}}}},{"DeleteRequest":{"Key":{"p":{"S":"dup"}}}}]}}`, "ValidationException", `duplicates`},
	{"test_batch.py::test_batch_get_item_duplicate", "BatchGetItem", `{"RequestItems":{"test_s":{"Keys":[{"p":{"S":"k1"}},{"p":{"S":"k1"}}]}}}`, "ValidationException", `[Dd]uplicate`},
	{"test_batch.py::test_batch_write_duplicate_number_key", "BatchWriteItem", `{"RequestItems":{"test_sn":[{"PutRequest":{"Item":{"p":{"S":"d"},"c":{"N":"1"}}}},{"PutRequest":{"Item":{"p":{"S":"d"},"c":{"N":"1.0"}}}}]}}`, "ValidationException", `duplicates`},
	{"test_batch.py::test_basic_batch_write_item", "BatchWriteItem", `{"RequestItems":{"test_s":[{"PutRequest":{"Item":{"p":{"S":"b1"}}}},{"PutRequest":{"Item":{"p":{"S":"b2"}}}}]}}`, "ok", `^\{"UnprocessedItems":\{\}\}$`},
	{"test_batch.py::test_batch_get_item_missing", "BatchGetItem", `{"RequestItems":{"test_s":{"Keys":[{"p":{"S":"b1"}},{"p":{"S":"nosuch"}}]}}}`, "ok", `"Responses":\{"test_s":\[\{"p":\{"S":"b1"\}\}\]\}`},
	{"test_batch.py::test_empty_batch_write", "BatchWriteItem", `{"RequestItems":{}}`, "ValidationException", ``},
	{"test_batch.py::test_batch_write_item_too_many", "BatchWriteItem", `{"RequestItems":{"test_s":[` + puts26 + `]}}`, "ValidationException", `length`},

	// Transactions.
	{"test_transact.py::test_transact_write_items_single_put_false", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"test_s","Item":{"p":{"S":"k1"}},"ConditionExpression":"attribute_not_exists(p)"}}]}`, "TransactionCanceledException", `ConditionalCheckFailed`},
	{"test_transact.py::test_transact_write_items_single_conditioncheck_true", "TransactWriteItems", `{"TransactItems":[{"ConditionCheck":{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ConditionExpression":"attribute_exists(p)"}}]}`, "ok", ``},
	{"test_transact.py::test_transact_write_items_multi_action_conflict", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"test_s","Item":{"p":{"S":"k9"}}}},{"Delete":{"TableName":"test_s","Key":{"p":{"S":"k9"}}}}]}`, "ValidationException", `one item`},
	{"test_transact.py::test_transact_write_items_empty", "TransactWriteItems", `{"TransactItems":[]}`, "ValidationException", `[tT]ransactItems`},
	{"test_transact.py::test_transact_write_items_unused_value", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"test_s","Item":{"p":{"S":"k9"}},"ExpressionAttributeValues":{":xyz":{"N":"1"}},"ConditionExpression":"attribute_not_exists(p)"}}]}`, "ValidationException", `unused.*:xyz`},
	{"test_transact.py::test_transact_write_items_missing_name", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"test_s","Item":{"p":{"S":"k9"}},"ConditionExpression":"attribute_not_exists(#zz)"}}]}`, "ValidationException", `#zz`},
	{"test_transact.py::test_transact_write_items_syntax_error", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"test_s","Item":{"p":{"S":"k9"}},"ConditionExpression":"a = = b"}}]}`, "ValidationException", `Syntax error`},
	{"test_transact.py::test_transact_write_cancellation_reasons_conditionalcheckfailed", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"test_s","Item":{"p":{"S":"k10"}}}},{"ConditionCheck":{"TableName":"test_s","Key":{"p":{"S":"k1"}},"ConditionExpression":"attribute_not_exists(p)"}}]}`, "TransactionCanceledException", `\[None, ConditionalCheckFailed\]`},
	{"test_transact.py::test_transact_get_items_one", "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"test_s","Key":{"p":{"S":"b1"}}}}]}`, "ok", `^\{"Responses":\[\{"Item":\{"p":\{"S":"b1"\}\}\}\]\}$`},
	{"test_transact.py::test_transact_get_items_missing", "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"test_s","Key":{"p":{"S":"k10"}}}}]}`, "ok", `^\{"Responses":\[\{\}\]\}$`},

	// TTL.
	{"test_ttl.py::test_describe_ttl_without_ttl", "DescribeTimeToLive", `{"TableName":"test_s"}`, "ok", `"TimeToLiveStatus":"DISABLED"`},
	{"test_ttl.py::test_ttl_disable_errors", "UpdateTimeToLive", `{"TableName":"test_s","TimeToLiveSpecification":{"AttributeName":"expiration","Enabled":false}}`, "ValidationException", `disabled`},
	{"test_ttl.py::test_ttl_enable", "UpdateTimeToLive", `{"TableName":"test_s","TimeToLiveSpecification":{"AttributeName":"expiration","Enabled":true}}`, "ok", `"TimeToLiveSpecification":\{"AttributeName":"expiration","Enabled":true\}`},
	{"test_ttl.py::test_ttl_enable", "UpdateTimeToLive", `{"TableName":"test_s","TimeToLiveSpecification":{"AttributeName":"expiration","Enabled":true}}`, "ValidationException", `(active|enabled)`},
	{"test_ttl.py::test_ttl_enable", "DescribeTimeToLive", `{"TableName":"test_s"}`, "ok", `"AttributeName":"expiration","TimeToLiveStatus":"ENABLED"`},
	{"test_ttl.py::test_update_ttl_errors", "UpdateTimeToLive", `{"TableName":"nonexistent_table","TimeToLiveSpecification":{"AttributeName":"expiration","Enabled":true}}`, "ResourceNotFoundException", ``},
}

var (
	long256  = repeat('a', 256)
	long2049 = repeat('x', 2049)
	long1025 = repeat('x', 1025)
	puts26   = func() string {
		s := ""
		for i := range 26 {
			if i > 0 {
				s += ","
			}
			s += `{"PutRequest":{"Item":{"p":{"S":"many` + string(rune('a'+i)) + `"}}}}`
		}
		return s
	}()
)

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	if len(scenarios) < 100 {
		t.Fatalf("only %d scenarios", len(scenarios))
	}
	h := newHandler(t)
	must(t, h, "CreateTable", `{"TableName":"test_s","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	must(t, h, "CreateTable", `{"TableName":"test_sn","KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"c","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"c","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"}`)
	must(t, h, "CreateTable", `{"TableName":"test_ss","KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"c","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"c","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	for c := 1; c <= 5; c++ {
		must(t, h, "PutItem", `{"TableName":"test_sn","Item":{"p":{"S":"pp"},"c":{"N":"`+string(rune('0'+c))+`"},"i":{"N":"`+string(rune('0'+c))+`0"},"s":{"S":"str"}}}`)
	}
	for i, sc := range scenarios {
		code, m := call(t, h, sc.op, sc.body)
		raw, _ := json.Marshal(m)
		if sc.want == "ok" {
			if code != 200 {
				t.Errorf("#%d %s (%s): %d %s", i, sc.op, sc.src, code, raw)
				continue
			}
			if sc.re != "" && !regexp.MustCompile(sc.re).Match(raw) {
				t.Errorf("#%d %s (%s): %s does not match %s", i, sc.op, sc.src, raw, sc.re)
			}
			continue
		}
		msg, _ := m["message"].(string)
		if code != 400 || errType(m) != sc.want || !regexp.MustCompile(sc.re).MatchString(msg) {
			t.Errorf("#%d %s (%s): %d %s, want %s matching %q", i, sc.op, sc.src, code, raw, sc.want, sc.re)
		}
	}
}

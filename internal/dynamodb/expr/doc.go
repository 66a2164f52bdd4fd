// Package expr parses and evaluates DynamoDB's expression languages:
// condition and filter expressions, key condition expressions, update
// expressions and projection expressions, with ExpressionAttributeNames
// and ExpressionAttributeValues. Every error is DynamoDB's own
// ValidationException text ("Invalid UpdateExpression: Syntax error;
// token: ..."). It is a pure leaf: values come from package attr, and
// nothing here does I/O.
package expr

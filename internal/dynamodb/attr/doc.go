// Package attr is DynamoDB's data model: AttributeValues (the ten types,
// their JSON form and DynamoDB's validation messages), exact 38-digit
// decimal numbers, comparison, equality and item sizes. A pure leaf.
package attr

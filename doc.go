// Package updraft is a self-hosted, AWS-Lambda-compatible function
// platform in one Go binary (cmd/updraft). This root package holds only
// repository-wide tests (layering, package docs).
package updraft

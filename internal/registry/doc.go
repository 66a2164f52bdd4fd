// Package registry owns what a function is: its $LATEST configuration,
// its published versions, its aliases, its reserved concurrency and its
// code, with Lambda's validation rules, error messages and JSON shapes.
//
// # Storage
//
// Everything lives in the JetStream KV bucket updraft-functions, one key
// per record:
//
//	fn.<name>             $LATEST config, version counter, tags, reserved concurrency
//	ver.<name>.<n>        an immutable published version
//	alias.<name>.<alias>  an alias, with optional weighted routing
//
// Code zips live in the object store updraft-code under the hex sha256 of
// their bytes, so a zip shared by many functions or versions is stored
// once. Zips are validated when they arrive (CreateFunction,
// UpdateFunctionCode): size limits, readability, every entry decompressed
// once under the 250 MB budget, and no entry or symlink leading out of
// the package. CodeDir unpacks a zip once per node into
// <CodeCacheDir>/<sha256>, through a temporary directory renamed into
// place, and concurrent callers share one unpack.
//
// # Reclaiming storage
//
// CodeDir and OptDir hand out directories pinned until ReleaseDir. The
// reclaimer goroutine removes, on each node, the unpacked directories no
// version of the view needs and nobody holds (reclaim.go), and deletes
// from the object store the zips no version or layer version has
// referenced for Config.PruneGrace, with marks in updraft-code-holds that
// keep it safe against uploads on other nodes (prune.go). StorageStats
// reports what is held.
//
// # Writes
//
// Several nodes may write the bucket at once. Every write is a
// compare-and-set on the key's KV revision: the writer reads the record
// fresh, applies the change (checking a caller's RevisionId against it),
// and writes it back only if nobody else wrote in between, retrying a
// bounded number of times otherwise. Creates use KV Create, so two nodes
// creating one name cannot both succeed. Version numbers are claimed on
// fn.<name> before ver.<name>.<n> is written, so they are never reused.
//
// # Reads and the data plane
//
// The registry keeps an in-memory view of the whole bucket. New builds it
// from a watcher's initial values; the watcher then applies every change
// from any node; and each of this node's own writes is applied directly
// as soon as it succeeds, so a client that just wrote reads its write.
// Each key's last applied revision keeps the two paths from undoing each
// other. Get and List calls read the view. Resolve, on the warm-invoke
// path, reads only the view under a read lock and hands out immutable
// *Version snapshots; it never touches JetStream or disk.
//
// Subscribe lets the pool hear about every change to a function (from
// any node) so that it can evict environments of a stale RevisionId.
//
// # Locks
//
// mu guards the view; subMu the subscriber list; unpackMu the table of
// unpacks in progress and the pins of unpacked directories; settleMu the
// table of settle goroutines. No two are ever held at once (except
// unpackMu then settleMu in Close), and subscribers are called with none
// held.
//
// # States
//
// A new function is Pending and an updated one InProgress until its code
// is unpacked on the writing node, which then marks it Active and
// Successful (state.go tells the whole story).
package registry

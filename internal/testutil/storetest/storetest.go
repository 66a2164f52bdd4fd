// Package storetest opens embedded stores for tests. It is apart from
// testutil because the store package's own tests use testutil, and a
// package's tests cannot import one that imports it.
package storetest

import (
	"log/slog"
	"testing"

	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/store"
)

// Open opens an embedded single-replica store with its data in dir and
// closes it when the test ends. Opening the same dir again sees the data.
func Open(t testing.TB, dir string, logger *slog.Logger) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), config.Store{DataDir: dir, Replicas: 1}, logger)
	if err != nil {
		t.Fatalf("storetest: open store in %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// CredsFile is the name, in the data dir, of the user nkey seed that an
// exposed embedded NATS (config.Store.NatsListen) requires of every
// client, the server's own in-process connection included. Joining nodes
// pass a copy with --nats-creds.
//
// An nkey rather than a password: the client signs the server's nonce, so
// the secret never crosses the network, even on a plain loopback listener.
// The file is the decorated seed that nsc writes, so the nats CLI reads it
// too (`nats --nkey FILE`).
const CredsFile = "nats.creds"

// credsHeader precedes the seed in a generated file; no line of it may
// start with "S", where nkeys looks for a bare seed.
const credsHeader = `# updraft NATS user key (an nkey seed), generated on first start.
# It grants read and write access to every record of this updraft store:
# keep it mode 0600 and copy it only to nodes that join this one
# (updraft server --nats-url ... --nats-creds FILE).
`

// loadOrCreateCreds returns the path and public key of the user nkey in
// dataDir, generating it (mode 0600) when the file does not exist. An
// existing file that others may read is refused rather than used.
func loadOrCreateCreds(dataDir string) (path, pub string, created bool, err error) {
	path = filepath.Join(dataDir, CredsFile)
	pub, err = readCreds(path)
	if err == nil {
		return path, pub, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", "", false, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", "", false, fmt.Errorf("store: generate nats user key: %w", err)
	}
	defer kp.Wipe()
	if pub, err = kp.PublicKey(); err != nil {
		return "", "", false, fmt.Errorf("store: generate nats user key: %w", err)
	}
	seed, err := kp.Seed() // the key pair's own bytes: wiped with it
	if err != nil {
		return "", "", false, fmt.Errorf("store: generate nats user key: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(credsHeader)
	b.WriteString("-----BEGIN USER NKEY SEED-----\n")
	b.Write(seed)
	b.WriteString("\n------END USER NKEY SEED------\n")
	won, err := createExclusive(path, b.Bytes())
	wipe(b.Bytes())
	if err != nil {
		return "", "", false, fmt.Errorf("store: write %s: %w", path, err)
	}
	if !won { // another process wrote it first; use theirs
		pub, err = readCreds(path)
		return path, pub, false, err
	}
	return path, pub, true, nil
}

// readCreds checks the mode of a generated credentials file and returns
// the public key of its seed.
func readCreds(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("store: read nats credentials: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("store: nats credentials %s have mode %#o, want 0600 (chmod 600 %s)", path, perm, path)
	}
	contents, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("store: read nats credentials: %w", err)
	}
	defer wipe(contents)
	kp, err := nkeys.ParseDecoratedNKey(contents)
	if err != nil {
		return "", fmt.Errorf("store: nats credentials %s: %w", path, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("store: nats credentials %s: not a user nkey seed", path)
	}
	return pub, nil
}

// credsOption authenticates a connection with the file at path: a NATS
// .creds file (user JWT and seed, for operator-mode servers) or an nkey
// seed such as the CredsFile a node generates.
func credsOption(path string) (nats.Option, error) {
	contents, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: nats credentials: %w", err)
	}
	hasJWT := bytes.Contains(contents, []byte("BEGIN NATS USER JWT"))
	wipe(contents)
	if hasJWT {
		return nats.UserCredentials(path), nil
	}
	opt, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return nil, fmt.Errorf("store: nats credentials %s: %w", path, err)
	}
	return opt, nil
}

// createExclusive writes data to a new file at path with mode 0600. It
// reports false, and writes nothing, when the file already exists.
func createExclusive(path string, data []byte) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return false, err
	}
	return true, nil
}

// wipe overwrites a secret held in memory once it is no longer needed.
func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}

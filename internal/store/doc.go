// Package store owns updraft's only state: NATS JetStream.
//
// # Lifecycle
//
// [Open] runs once at start-up, before anything else that keeps state. It
// either starts an embedded nats-server with JetStream in-process (the
// default: data in <data-dir>/jetstream, no network listener unless
// config.Store.NatsListen asks for one so that other nodes can join) or
// connects to an external NATS cluster named by config.Store.NatsURL
// (reconnecting forever once connected; the first connection is bounded).
// Either way it then creates or updates every JetStream object updraft
// uses, with the configured replica count, so that the rest of the
// program can assume they exist. The objects are declared in one place,
// objects.go: add a new stream or bucket there.
//
// # An exposed server
//
// Whoever reaches an embedded server's port can read and rewrite every
// record, so a listener (config.Store.NatsListen) never accepts an
// anonymous client: Open generates a user nkey in <data-dir>/nats.creds
// (mode 0600, reused on later starts; natscreds.go) and the server
// admits only that key, the server's own in-process connection included.
// Off loopback the listener also requires TLS, with --nats-tls-cert or
// else a certificate from a CA generated in the data dir (natstls.go;
// keys 0600, the server certificate reissued from the same CA when its
// names or dates no longer fit). [Store.Join] gives the flags another
// node joins with: the tls:// or nats:// URL, the creds file and the CA.
//
// # A cluster
//
// With config.Store.ClusterListen and Join the embedded server is a
// member of a NATS cluster with JetStream clustered (cluster.go): routes
// authenticated with the shared cluster key, mutual TLS off loopback, a
// stable node name kept in the data dir. Open waits for JetStream's meta
// leader before it creates objects. With automatic replicas (Replicas 0)
// the count is min(3, cluster size) and rises as nodes join: the meta
// leader's node raises every stream's replicas (replicas.go).
// [Store.Cluster] reports the peers, leader and routes from nats-server's
// own monitoring (clusterstatus.go).
//
// A [Store] hands out the JetStream context, the raw connection and typed
// handles to the well-known objects. It does not interpret what is stored:
// the registry owns the layout of the functions bucket, fnlog owns the log
// stream, and so on.
//
// # When it cannot write
//
// Every write through the handles a Store hands out has a deadline and
// passes a gate (gate.go): a write failing for want of storage (a full
// disk, JetStream out of resources or disabled, a missed deadline) makes
// the store degraded, and from then on writes are refused at once with
// [ErrUnavailable] until the monitor goroutine (monitor.go) proves a probe
// write succeeds. The monitor also watches the data dir's free space and,
// because nats-server keeps a file store's write error until JetStream
// restarts, restarts the embedded JetStream in place before it probes.
// [Store.Status] says whether and why writes are refused;
// [Store.WaitWritable] waits for them to be taken again.
//
// [Store.Close] stops the monitor, drains the connection and, in embedded mode, shuts the
// server down; it is idempotent and is the last thing the daemon calls.
// Killing the process instead is safe: JetStream recovers its files on the
// next Open.
//
// # What it must never do
//
// Store never decides policy (retention beyond the object definitions,
// retries, key layout) and never logs at Info on a hot path. Its methods
// are safe for concurrent use; it holds no locks of its own beyond the
// close guard.
package store

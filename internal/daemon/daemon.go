// Package daemon wires updraft's subsystems together and owns their start
// and stop order. Run creates the data dir 0700 (or tightens it), then
// starts, in dependency order, the sandbox manager (saying what basic
// isolation does not protect), the store (embedded JetStream or an
// external NATS), credentials, the registry, the function log sink, the
// pool, the invoke service and the HTTP listener; it prints where it
// listens, how another node joins the store and how to deploy a first
// function; and on context cancellation (SIGINT/SIGTERM in main) it stops
// them in reverse: stop accepting requests, let in-flight invocations
// finish within the grace period, destroy environments, flush logs, close
// the store.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/updraft/updraft/internal/dynamodb"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/async"
	"github.com/updraft/updraft/internal/auth"
	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/connlimit"
	"github.com/updraft/updraft/internal/esm"
	"github.com/updraft/updraft/internal/fnlog"
	"github.com/updraft/updraft/internal/fnpolicy"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/pool"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/rawheader"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/runtimes"
	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sfn"
	"github.com/updraft/updraft/internal/sqs"
	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/stream"
	"github.com/updraft/updraft/internal/sts"
)

// Run runs the server until ctx ends. out receives the start-up banner
// meant for people (addresses, credentials, the first command to type).
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, out io.Writer) (err error) {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if err := prepareDataDir(cfg.Store.DataDir, logger); err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.Store.DataDir)
	if err != nil {
		return err
	}
	defer func() { _ = unlock() }()
	if err := removeStaleSpool(filepath.Join(cfg.Store.DataDir, "spool"), logger); err != nil {
		logger.Warn("request bodies spooled by a server that died could not all be removed", "err", err)
	}
	if n := serverProcs(cfg.Server.Procs, os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	var closers []func(context.Context) error
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownGrace+5*time.Second)
		defer cancel()
		for i := len(closers) - 1; i >= 0; i-- {
			if cerr := closers[i](sctx); cerr != nil {
				logger.Warn("shutdown step failed", "err", cerr)
			}
		}
	}()

	// Servers sharing a machine (tests, several nodes) share the parent
	// cgroup; each owns a tree beneath it named for its process, and
	// reaps at start the trees of servers that died (sandbox.New).
	isolation := sandbox.Config{
		ForceBasic: cfg.Sandbox.Isolation == "basic",
		CgroupName: sandbox.DefaultCgroupName,
		Zygotes:    cfg.Sandbox.Zygotes,
	}
	// Ephemeral storage images: they live as long as their sandbox, or
	// their pre-started init, or are kept by the pool for the environment
	// that replaces a reset one, so whatever is here is left over from an
	// earlier server (the data dir's lock says no other runs).
	isolation.ScratchDir = filepath.Join(cfg.Store.DataDir, "ephemeral")
	isolation.ScratchSparse = cfg.Sandbox.EphemeralStorage == "sparse"
	if err := os.MkdirAll(isolation.ScratchDir, 0o700); err != nil {
		return fmt.Errorf("daemon: ephemeral storage dir: %w", err)
	}
	if stale, _ := filepath.Glob(filepath.Join(isolation.ScratchDir, "scratch-*.img")); len(stale) > 0 {
		for _, f := range stale {
			_ = os.Remove(f)
		}
		logger.Info("removed ephemeral storage images left by an earlier server", "count", len(stale))
	}
	if cfg.Sandbox.FunctionNetwork != "auto" {
		isolation.Network = sandbox.NetworkMode(cfg.Sandbox.FunctionNetwork)
	}
	if isolation.EgressAllow, err = cfg.Sandbox.EgressAllowPrefixes(); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	if cfg.Sandbox.Zygotes == 0 {
		isolation.Zygotes = -1 // the sandbox reads 0 as its default
	}
	sb, err := sandbox.New(isolation, logger)
	if err != nil {
		return fmt.Errorf("daemon: sandbox: %w", err)
	}
	closers = append(closers, func(context.Context) error { return sb.Close() })
	if cfg.Sandbox.Isolation == "full" && sb.Level() != sandbox.LevelFull {
		return errors.New("daemon: --isolation full requested but not available (run as root with writable cgroups)")
	}
	limits := isolationLimits(sb.Status(), cfg.Sandbox.Isolation == "basic")
	if limits != "" {
		logger.Warn(limits)
	}

	promReg := metrics.NewRegistry()
	st, err := store.Open(ctx, cfg.Store, logger, store.WithMetrics(metrics.NewStore(promReg)))
	if err != nil {
		return fmt.Errorf("daemon: store: %w", err)
	}
	closers = append(closers, func(context.Context) error { return st.Close() })

	creds, created, err := auth.LoadOrCreate(cfg.Store.DataDir, auth.Credentials{
		AccessKeyID: cfg.Server.AccessKeyID, SecretAccessKey: cfg.Server.SecretAccessKey,
	})
	if err != nil {
		return fmt.Errorf("daemon: credentials: %w", err)
	}

	identities, err := iam.New(ctx, st.IAM(), iam.Config{
		AccountID:       cfg.Server.AccountID,
		RootAccessKeyID: creds.AccessKeyID, RootSecretAccessKey: creds.SecretAccessKey,
	}, iam.Deps{Logger: logger, Validate: validatePolicy, AWSPolicies: managedCatalogue{}})
	if err != nil {
		return fmt.Errorf("daemon: identities: %w", err)
	}
	closers = append(closers, func(context.Context) error { return identities.Close() })
	// The authoriser needs the function policies, which need the
	// registry; AssumeRole asks it once it exists.
	var authorizer *authz.Authorizer
	stsHandler, err := sts.NewHandler(sts.Deps{Identities: identities, Logger: logger,
		MayAssume: func(caller iam.Principal, role iam.Role) bool {
			return authorizer != nil && authorizer.MayAssume(caller, role, authz.Context{})
		},
	})
	if err != nil {
		return fmt.Errorf("daemon: sts: %w", err)
	}

	reg, err := registry.New(ctx, st, registry.Config{
		Region: cfg.Server.Region, AccountID: cfg.Server.AccountID,
		CodeCacheDir:       filepath.Join(cfg.Store.DataDir, "code"),
		AccountConcurrency: cfg.Pool.MaxEnvironments,
		PruneGrace:         cfg.Store.CodePruneGrace,
		HoldStates:         cfg.Server.TestHoldStates,
	}, logger)
	if err != nil {
		return fmt.Errorf("daemon: registry: %w", err)
	}
	closers = append(closers, func(context.Context) error { return reg.Close() })

	invokeMetrics := metrics.NewInvoke(promReg)
	// The two StorageStats have the same fields, so the compiler keeps them in step.
	metrics.NewStorage(promReg, func() metrics.StorageStats { return metrics.StorageStats(reg.StorageStats()) })

	sink := fnlog.NewJetStreamSink(st.JetStream(), fnlog.SinkConfig{
		Limits: fnlog.Limits{
			MaxBytes:    int64(cfg.Logs.FunctionMaxBytes),
			MaxMessages: int64(cfg.Logs.FunctionMaxMessages),
			MaxAge:      cfg.Logs.MaxAge,
			Replicas:    st.Replicas(),
		},
		BufferBytes: cfg.Logs.BufferBytes,
		Observer:    metrics.NewLogs(promReg),
	}, logger)
	closers = append(closers, func(context.Context) error { return sink.Close() })

	openFiles, err := raiseOpenFiles()
	if err != nil {
		logger.Warn("open-file limit not raised", "err", err)
	}
	maxConns := cfg.Server.MaxConnections
	if maxConns == 0 {
		maxConns = defaultMaxConnections(openFiles)
	}
	listenHost, _, _ := net.SplitHostPort(cfg.Server.Listen)
	tlsConfig, caFile, err := apiTLS(cfg, listenHost, logger)
	if err != nil {
		return err
	}
	rawLn, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("daemon: listen %s: %w", cfg.Server.Listen, err)
	}
	// The cap counts TCP connections, beneath TLS, so that handshakes
	// that never finish count too.
	limiter := connlimit.New(connlimit.Config{Max: maxConns})
	// Plaintext connections record their requests' header names as sent,
	// for the HTTP proxy's events (TLS ones cannot: see rawheader).
	var recorded net.Listener = rawLn
	if tlsConfig == nil {
		recorded = rawheader.Listener(rawLn)
	}
	ln := limiter.Listener(recorded)
	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	endpoint := localEndpoint(scheme, rawLn.Addr())
	reg.SetCodeBaseURL(endpoint)

	rts, err := runtimes.New(cfg.Store.DataDir, runtimes.WithNodeSDK(cfg.Pool.NodeSDKDir))
	if err != nil {
		ln.Close()
		return fmt.Errorf("daemon: runtimes: %w", err)
	}
	pl, err := pool.New(pool.Config{
		IdleTTL:         cfg.Pool.IdleTTL,
		MaxEnvironments: cfg.Pool.MaxEnvironments,
		InitTimeout:     cfg.Pool.InitTimeout,
		FreezeDelay:     cfg.Pool.FreezeDelay,
		Region:          cfg.Server.Region,
		EndpointURL:     endpoint,
		TmpRoot:         filepath.Join(cfg.Store.DataDir, "tmp"),
		// The pool says at start whether they are on, and why not.
		RuntimeTemplates: cfg.Sandbox.RuntimeTemplates,
	}, pool.Deps{Logger: logger, Sandbox: sb, Code: reg, Logs: sink, Observer: invokeMetrics, Runtimes: rts,
		// The root key never enters an environment: each gets a session
		// of its function's role, revoked when the environment ends.
		Credentials:       environmentCredentials(identities),
		RevokeCredentials: revokeCredentials(ctx, identities, logger),
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("daemon: pool: %w", err)
	}
	closers = append(closers, pl.Close)
	reg.Subscribe(func(function string) {
		pl.EvictStale(function, func(version, revision string) bool {
			t, err := reg.Resolve(function, version)
			return err == nil && t.Version.RevisionID == revision
		})
	})

	inv := invoke.New(reg, pl, invokeMetrics, logger)

	queues := queue.New(st.JetStream(), st.Replicas(), logger, queue.WithAccount(cfg.Server.Region, cfg.Server.AccountID),
		queue.WithMaxMessageBytes(store.MinMaxPayload-(256<<10)), queue.WithVisibilityTimeout(cfg.Queue.VisibilityTimeout))
	streams := stream.New(st.JetStream(), st.Replicas(), logger, stream.WithAccount(cfg.Server.Region, cfg.Server.AccountID))
	tables, err := dynamodb.New(ctx, st.JetStream(), st.Conn(), logger, dynamodb.Options{
		Region: cfg.Server.Region, Account: cfg.Server.AccountID, Replicas: st.Replicas(), TTLInterval: cfg.Tables.TTLInterval, Streams: streams})
	if err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: tables: %w", err)
	}
	closers = append(closers, func(context.Context) error { tables.Close(); return nil })
	engine, err := async.New(ctx, async.Config{
		MaxPayloadBytes:  cfg.Async.MaxPayloadBytes,
		RetryDelay:       cfg.Async.RetryDelay,
		RecordTTL:        cfg.Async.RecordTTL,
		ReleaseAfter:     cfg.Async.ReleaseAfter,
		AckWait:          cfg.Async.AckWait,
		Replicas:         st.Replicas(),
		ConcurrencyLimit: cfg.Pool.MaxEnvironments,
	}, async.Deps{
		JetStream: st.JetStream(),
		Store:     st,
		Invoker:   inv,
		Resolver:  reg,
		Policies:  asyncPolicies{reg},
		Queues:    asyncQueues{queues},
		Metrics:   metrics.NewAsync(promReg),
		Logger:    logger,
	})
	if err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: async engine: %w", err)
	}
	promReg.MustRegister(engine.Collector())
	// Closed before the pool (closers run in reverse): events in flight
	// finish, the rest stay queued for the next start or another node.
	closers = append(closers, engine.Close)
	reg.Subscribe(engine.FunctionChanged)
	if err := engine.Start(ctx); err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: async engine: %w", err)
	}

	mappings, err := esm.New(ctx, esm.Config{Region: cfg.Server.Region, AccountID: cfg.Server.AccountID, Replicas: st.Replicas()},
		esm.Deps{JetStream: st.JetStream(), Invoker: inv, Resolver: reg, Queues: queues, Streams: streams, Logger: logger})
	if err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: event source mappings: %w", err)
	}
	// Closed before the pool: batches in flight finish; the rest of the
	// queue waits for the next start or another node.
	closers = append(closers, mappings.Close)
	if err := mappings.Start(ctx); err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: event source mappings: %w", err)
	}

	workflowAuth := &lateAuthorizer{enabled: cfg.Server.Auth == config.AuthSigV4}
	workflows, err := sfn.New(ctx, sfn.Config{Region: cfg.Server.Region, AccountID: cfg.Server.AccountID, Replicas: st.Replicas()},
		sfn.Deps{JetStream: st.JetStream(), Invoker: inv, Queues: workflowQueues{queues}, Authorizer: workflowAuth, Metrics: metrics.NewWorkflows(promReg), Logger: logger})
	if err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: workflows: %w", err)
	}
	// Closed before the pool: work items in flight finish or go back to
	// the queue for the next start or another node.
	closers = append(closers, workflows.Close)
	if err := workflows.Start(ctx); err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: workflows: %w", err)
	}

	policies, err := fnpolicy.New(ctx, fnpolicy.Config{Replicas: st.Replicas()},
		fnpolicy.Deps{JetStream: st.JetStream(), Functions: reg, Logger: logger})
	if err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: function policies: %w", err)
	}
	closers = append(closers, func(context.Context) error { return policies.Close() })

	authorizer, err = authz.New(identities, functionPolicies(policies), authz.UnknownRoles(cfg.Server.UnknownRoles))
	if err != nil {
		pl.Close(ctx)
		ln.Close()
		return fmt.Errorf("daemon: authoriser: %w", err)
	}
	workflowAuth.a.Store(authorizer)
	var authn api.Authenticator
	var apiAuthorizer api.Authorizer
	if cfg.Server.Auth == config.AuthSigV4 {
		apiAuthorizer = authorizer
		spool := filepath.Join(cfg.Store.DataDir, "spool")
		if err := os.MkdirAll(spool, 0o700); err != nil {
			return fmt.Errorf("daemon: spool dir: %w", err)
		}
		authLog := logger.With("component", "auth")
		v, err := auth.New([]auth.Credentials{creds}, auth.WithSpoolDir(spool),
			auth.WithSpoolBudget(int64(cfg.Server.AuthSpoolMaxMB)<<20),
			auth.WithRootIdentity(identities.Root()), auth.WithKeyLookup(keyLookup(identities)),
			auth.WithScope(cfg.Server.Region, api.SigningScope),
			auth.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
				var ae *auth.Error
				if !errors.As(err, &ae) || ae.Status >= 500 {
					authLog.Error("request could not be authenticated", "method", r.Method, "path", r.URL.Path, "err", err)
				} else {
					authLog.Debug("request refused", "method", r.Method, "path", r.URL.Path, "type", ae.Type)
				}
				auth.WriteError(w, err)
			}))
		if err != nil {
			pl.Close(ctx)
			ln.Close()
			return fmt.Errorf("daemon: auth: %w", err)
		}
		authn = v
	}
	handler := api.New(api.Deps{
		Logger:        logger,
		Registry:      reg,
		Invoker:       inv,
		Async:         engine,
		Queues:        queues,
		ESM:           mappings,
		StepFunctions: workflows,
		Policies:      policies,
		Streams:       streams,
		Tables:        tables,
		Auth:          authn,
		Authorizer:    apiAuthorizer,
		Roles:         definedRoles{ids: identities, refuse: cfg.Server.UnknownRoles == "refuse"},
		AccountID:     cfg.Server.AccountID,
		Region:        cfg.Server.Region,
		IAM:           iam.NewHandler(identities, logger),
		STS:           stsHandler,
		SQS: sqs.New(sqs.Config{
			Queues: queues, Region: cfg.Server.Region, AccountID: cfg.Server.AccountID,
			Authorize: sqsAuthorizer(apiAuthorizer), Logger: logger,
		}),
		Root: identities.Root(),
		Logs: &logReader{js: st.JetStream()},
		Health: func(ctx context.Context) (any, bool) {
			return healthDoc(st.Healthy(ctx), st.Status(), st.Mode(), st.Cluster(), sb.Status(), poolHealth{pl.Stats(), pl.TemplateStats()})
		},
	})
	pl.SetPlatformAPI(handler)
	srv := newAPIServer(handler, limiter, logger)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	closers = append(closers, func(ctx context.Context) error {
		gctx, cancel := context.WithTimeout(ctx, cfg.Server.ShutdownGrace)
		defer cancel()
		return srv.Shutdown(gctx)
	})
	if cfg.Server.DebugListen != "" {
		stopDebug, err := serveDebug(cfg.Server.DebugListen, logger)
		if err != nil {
			return err
		}
		closers = append(closers, stopDebug)
	}
	metricsURL := ""
	if cfg.Server.MetricsEnabled() {
		u, stopMetrics, err := serveMetrics(cfg.Server.MetricsListen, promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}), logger)
		if err != nil {
			return err
		}
		metricsURL = u
		closers = append(closers, stopMetrics)
	}
	_ = os.WriteFile(filepath.Join(cfg.Store.DataDir, "endpoint"), []byte(endpoint+"\n"), 0o600)
	insecure := tlsConfig == nil && !config.IsLoopback(cfg.Server.Listen)
	if insecure {
		logger.Warn("serving plain HTTP beyond loopback (--insecure-http): credentials, code and payloads cross the network in clear", "listen", cfg.Server.Listen)
	}

	status := sb.Status()
	logger.Info("updraft started", "listen", endpoint, "max_connections", maxConns, "metrics", metricsURL, "isolation", string(sb.Level()), "store", st.Mode(), "data_dir", cfg.Store.DataDir)
	printBanner(out, banner{
		Endpoint: endpoint, Isolation: string(sb.Level()), Status: status, IsolationLimits: limits,
		StoreMode: st.Mode(), Join: st.Join(), Cluster: st.Cluster(), DataDir: cfg.Store.DataDir, Auth: cfg.Server.Auth,
		Creds: creds, CredsCreated: created, NodeSDK: rts.NodeSDK(), NodeSDKDir: cfg.Pool.NodeSDKDir,
		CAFile: caFile, OwnCert: cfg.Server.TLSCert != "", Insecure: insecure, MetricsURL: metricsURL,
	})

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
		return nil
	case err := <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("daemon: serve: %w", err)
	}
}

type banner struct {
	Endpoint, Isolation, IsolationLimits, StoreMode, DataDir, Auth string
	// CAFile is the generated CA clients verify the API with, if any.
	CAFile string
	// OwnCert is set when the API serves --tls-cert.
	OwnCert bool
	// Insecure is set for plain HTTP beyond loopback.
	Insecure bool
	// MetricsURL is where /metrics is served, "" when off.
	MetricsURL   string
	Status       sandbox.Status
	Join         store.Join
	Cluster      *store.ClusterStatus
	Creds        auth.Credentials
	CredsCreated bool
	// NodeSDK is the node_modules nodejs functions import the AWS SDK
	// from ("" when none), NodeSDKDir where it was looked for.
	NodeSDK, NodeSDKDir string
}

// printBanner prints the banner. The lines about TLS and metrics come
// before "updraft listening on", which tests (internal/testutil) and the
// benchmarks wait for as the sign that the server is ready.
func printBanner(out io.Writer, b banner) {
	fmt.Fprintf(out, "isolation: %s: %s\n", b.Isolation, b.Status.Describe())
	if b.IsolationLimits != "" {
		fmt.Fprintf(out, "WARNING: %s\n", b.IsolationLimits)
	}
	fmt.Fprintf(out, "store: %s JetStream, data dir %s\n", b.StoreMode, b.DataDir)
	printJoin(out, b.Join)
	if c := b.Cluster; c != nil {
		fmt.Fprintf(out, "cluster: %s, node %s, %d node(s), JetStream leader %s, %d replica(s) (updraft cluster status shows more)\n",
			c.Name, c.Node, c.Size, c.Leader, c.Replicas)
	}
	switch {
	case b.NodeSDK != "":
		fmt.Fprintf(out, "nodejs functions import the AWS SDK from %s\n", b.NodeSDK)
	case b.NodeSDKDir != "":
		fmt.Fprintf(out, "nodejs functions have no AWS SDK to import: make node-sdk installs it in %s\n", b.NodeSDKDir)
	}
	if b.Auth == config.AuthNone {
		fmt.Fprintln(out, "WARNING: --auth none: requests are not authenticated (loopback only)")
	} else {
		if b.CredsCreated {
			fmt.Fprintln(out, "generated credentials (kept in the data dir, mode 0600):")
		} else {
			fmt.Fprintln(out, "clients sign requests with:")
		}
		fmt.Fprint(out, auth.ExportLines(b.Creds))
	}
	if b.MetricsURL != "" {
		fmt.Fprintf(out, "metrics: %s\n", b.MetricsURL)
	} else {
		fmt.Fprintln(out, "metrics: off (--metrics-listen)")
	}
	switch {
	case b.CAFile != "":
		fmt.Fprintf(out, "TLS CA: %s (clients verify the server with it: aws --ca-bundle %s, or export AWS_CA_BUNDLE=%s)\n",
			b.CAFile, shellQuote(b.CAFile), shellQuote(b.CAFile))
	case b.OwnCert:
		fmt.Fprintln(out, "TLS: serving --tls-cert")
	case b.Insecure:
		fmt.Fprintln(out, "WARNING: --insecure-http: plain HTTP beyond loopback; credentials, code and payloads cross the network in clear")
	}
	fmt.Fprintf(out, "updraft listening on %s\n", b.Endpoint)
	fmt.Fprintf(out, "deploy the example:  go run ./cmd/updraft function create hello --runtime provided.al2023 --handler bootstrap --code examples/hello-go --endpoint-url %s\n", b.Endpoint)
	fmt.Fprintf(out, "then invoke it:      go run ./cmd/updraft invoke hello --payload '{\"name\":\"world\"}' --log --endpoint-url %s\n", b.Endpoint)
}

// printJoin prints the command another node joins this one's store
// with, and what the files in it are.
func printJoin(out io.Writer, j store.Join) {
	args := j.Args()
	if len(args) == 0 {
		return
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	fmt.Fprintf(out, "other nodes can join with: updraft server %s\n", strings.Join(quoted, " "))
	if j.CredsFile != "" {
		fmt.Fprintf(out, "  copy %s (the NATS key; keep it mode 0600) to each joining node", shellQuote(j.CredsFile))
		if j.CAFile != "" {
			fmt.Fprintf(out, ", with %s (the CA that verifies this server)", shellQuote(j.CAFile))
		}
		fmt.Fprintln(out)
	}
	if j.OwnCert {
		fmt.Fprintln(out, "  joiners verify --nats-tls-cert with the system roots, or add --nats-ca with the CA that signed it")
	}
}

// shellQuote quotes s for a POSIX shell unless it is made of characters
// that need none.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// serverProcs is the GOMAXPROCS the server sets for itself, 0 for none:
// --procs when given; else nothing when the GOMAXPROCS variable is set
// (Go applied it); else half of Go's default (the CPUs the server may
// use), at least one.
//
// Functions run in processes of their own on every CPU. A Go scheduler
// with one P per CPU wakes an idle P (a thread, and on a VM a cross-CPU
// interrupt) at nearly every goroutine hand-off of the invoke path, and
// those wake-ups cost more than the extra P gives while function
// processes compete for the same CPUs. On the 2-vCPU build machine one P
// instead of two took warm p50 from ~0.45 to ~0.36 ms and the event
// accept rate at concurrency 32 from ~4,900 to ~5,900/s, for ~10% less
// throughput at concurrency 8.
func serverProcs(flag int, envGOMAXPROCS string, goDefault int) int {
	switch {
	case flag > 0:
		return flag
	case envGOMAXPROCS != "":
		return 0
	}
	return max(1, goDefault/2)
}

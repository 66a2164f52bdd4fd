package registry

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

var lastModifiedRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)

// TestFunctionLifecycle walks one function through the control plane:
// create, read, list, update, publish, aliases, concurrency, delete.
func TestFunctionLifecycle(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	ctx := t.Context()
	var changedMu sync.Mutex
	changed := map[string]int{}
	r.Subscribe(func(fn string) {
		changedMu.Lock()
		changed[fn]++
		changedMu.Unlock()
	})
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:hello"

	// Create.
	zip1 := helloZip(t, "one")
	req := createReq(t, "hello")
	req.Code.ZipFile = zip1
	req.Environment = &lambdaapi.Environment{Variables: map[string]string{"GREETING": "hi"}}
	req.Tags = map[string]string{"team": "core"}
	fc, err := r.CreateFunction(ctx, req)
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	sum := sha256.Sum256(zip1)
	want := lambdaapi.FunctionConfiguration{
		FunctionName: "hello", FunctionArn: arn, Runtime: "provided.al2023", Role: testRole, Handler: "bootstrap",
		CodeSize: int64(len(zip1)), Timeout: 3, MemorySize: 128, CodeSha256: base64.StdEncoding.EncodeToString(sum[:]),
		Version: "$LATEST", TracingConfig: lambdaapi.TracingConfig{Mode: "PassThrough"}, State: "Pending",
		StateReason: "The function is being created.", StateReasonCode: "Creating", PackageType: "Zip", Architectures: []string{"x86_64"},
		EphemeralStorage: lambdaapi.EphemeralStorage{Size: 512},
	}
	if fc.FunctionName != want.FunctionName || fc.FunctionArn != want.FunctionArn || fc.Runtime != want.Runtime ||
		fc.Role != want.Role || fc.Handler != want.Handler || fc.CodeSize != want.CodeSize || fc.Timeout != want.Timeout ||
		fc.MemorySize != want.MemorySize || fc.CodeSha256 != want.CodeSha256 || fc.Version != want.Version ||
		fc.TracingConfig != want.TracingConfig || fc.State != want.State || fc.LastUpdateStatus != want.LastUpdateStatus ||
		fc.StateReason != want.StateReason || fc.StateReasonCode != want.StateReasonCode ||
		fc.PackageType != want.PackageType || !slices.Equal(fc.Architectures, want.Architectures) ||
		fc.EphemeralStorage != want.EphemeralStorage {
		t.Fatalf("CreateFunction returned\n%+v\nwant\n%+v", *fc, want)
	}
	if !lastModifiedRE.MatchString(fc.LastModified) {
		t.Fatalf("LastModified %q not in Lambda's format", fc.LastModified)
	}
	if fc.RevisionID == "" || fc.Environment == nil || fc.Environment.Variables["GREETING"] != "hi" {
		t.Fatalf("RevisionId %q, Environment %+v", fc.RevisionID, fc.Environment)
	}
	if fc.LoggingConfig == nil || fc.LoggingConfig.LogGroup != "/aws/lambda/hello" || fc.LoggingConfig.LogFormat != "Text" {
		t.Fatalf("LoggingConfig %+v", fc.LoggingConfig)
	}

	_, err = r.CreateFunction(ctx, createReq(t, "hello"))
	if e := wantType(t, err, lambdaerr.TypeResourceConflict); e.Message != "Function already exist: hello" {
		t.Fatalf("conflict message %q", e.Message)
	}

	// Get, and the code behind Code.Location.
	gf, err := r.GetFunction(ctx, "hello", "")
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	shaHex := hex.EncodeToString(sum[:])
	if gf.Code.RepositoryType != "S3" || gf.Code.Location != "http://127.0.0.1:9321/updraft/v1/code/"+shaHex {
		t.Fatalf("Code = %+v", gf.Code)
	}
	if gf.Tags["team"] != "core" || gf.Concurrency != nil || gf.Configuration.RevisionID != fc.RevisionID {
		t.Fatalf("GetFunction = %+v", gf)
	}
	rc, err := r.CodeZip(ctx, shaHex)
	if err != nil {
		t.Fatalf("CodeZip: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(zip1) {
		t.Fatal("CodeZip returned other bytes")
	}
	_, err = r.CodeZip(ctx, "0000000000000000000000000000000000000000000000000000000000000000")
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	for _, form := range []string{arn, "000000000000:function:hello"} {
		if _, err := r.GetFunctionConfiguration(ctx, form, ""); err != nil {
			t.Fatalf("GetFunctionConfiguration(%s): %v", form, err)
		}
	}

	// List with paging.
	for _, n := range []string{"delta", "alpha", "charlie", "bravo"} {
		mustCreate(t, r, n)
	}
	var names []string
	marker, pages := "", 0
	for {
		page, err := r.ListFunctions(ctx, marker, 2, false)
		if err != nil {
			t.Fatalf("ListFunctions: %v", err)
		}
		pages++
		if len(page.Functions) > 2 {
			t.Fatalf("page of %d with MaxItems 2", len(page.Functions))
		}
		for _, f := range page.Functions {
			names = append(names, f.FunctionName)
		}
		if page.NextMarker == "" {
			break
		}
		marker = page.NextMarker
	}
	if wantNames := []string{"alpha", "bravo", "charlie", "delta", "hello"}; !slices.Equal(names, wantNames) || pages != 3 {
		t.Fatalf("listed %v in %d pages, want %v in 3", names, pages, wantNames)
	}
	_, err = r.ListFunctions(ctx, "!!", 0, false)
	wantType(t, err, lambdaerr.TypeInvalidParameterValue)

	// Update code: a new RevisionId; a stale one is refused.
	zip2 := helloZip(t, "two")
	uc, err := r.UpdateFunctionCode(ctx, "hello", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: zip2, RevisionID: fc.RevisionID})
	if err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if uc.RevisionID == fc.RevisionID || uc.CodeSha256 == fc.CodeSha256 {
		t.Fatalf("code update kept RevisionId or CodeSha256")
	}
	_, err = r.UpdateFunctionCode(ctx, "hello", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: zip1, RevisionID: fc.RevisionID})
	wantType(t, err, lambdaerr.TypePreconditionFailed)
	dry, err := r.UpdateFunctionCode(ctx, "hello", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: zip1, DryRun: true})
	if err != nil || dry.CodeSha256 != fc.CodeSha256 {
		t.Fatalf("DryRun = %+v, %v", dry, err)
	}
	if cur, _ := r.GetFunctionConfiguration(ctx, "hello", ""); cur.RevisionID != uc.RevisionID {
		t.Fatal("DryRun changed the function")
	}

	// Update configuration.
	ucfg, err := r.UpdateFunctionConfiguration(ctx, "hello", &lambdaapi.UpdateFunctionConfigurationRequest{
		Timeout: ptr(10), MemorySize: ptr(256), RevisionID: uc.RevisionID,
		Environment: &lambdaapi.Environment{Variables: map[string]string{"MODE": "fast"}},
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	if ucfg.RevisionID == uc.RevisionID || ucfg.Timeout != 10 || ucfg.MemorySize != 256 || ucfg.Handler != "bootstrap" ||
		ucfg.Environment == nil || len(ucfg.Environment.Variables) != 1 || ucfg.Environment.Variables["MODE"] != "fast" {
		t.Fatalf("after config update: %+v", ucfg)
	}
	_, err = r.UpdateFunctionConfiguration(ctx, "hello", &lambdaapi.UpdateFunctionConfigurationRequest{Timeout: ptr(20), RevisionID: uc.RevisionID})
	wantType(t, err, lambdaerr.TypePreconditionFailed)
	tgt, err := r.Resolve("hello", "")
	if err != nil || tgt.Version.RevisionID != ucfg.RevisionID || tgt.Version.Timeout.Seconds() != 10 || tgt.InvokedARN != arn {
		t.Fatalf("Resolve after update = %+v, %v", tgt, err)
	}

	// Publish: twice without a change gives the same version.
	v1, err := r.PublishVersion(ctx, "hello", &lambdaapi.PublishVersionRequest{Description: "first"})
	if err != nil {
		t.Fatalf("PublishVersion: %v", err)
	}
	if v1.Version != "1" || v1.FunctionArn != arn+":1" || v1.Description != "first" || v1.CodeSha256 != uc.CodeSha256 {
		t.Fatalf("version 1 = %+v", v1)
	}
	again, err := r.PublishVersion(ctx, "hello", nil)
	if err != nil || again.Version != "1" {
		t.Fatalf("second publish without change = %+v, %v", again, err)
	}
	_, err = r.PublishVersion(ctx, "hello", &lambdaapi.PublishVersionRequest{CodeSha256: fc.CodeSha256})
	if e := wantType(t, err, lambdaerr.TypeInvalidParameterValue); e.Message != "CodeSHA256 ("+fc.CodeSha256+") is different from current CodeSHA256 in $LATEST ("+uc.CodeSha256+"). Please try again with the CodeSHA256 in $LATEST." {
		t.Fatalf("PublishVersion with a stale CodeSha256: %q", e.Message)
	}
	if _, err := r.UpdateFunctionConfiguration(ctx, "hello", &lambdaapi.UpdateFunctionConfigurationRequest{Description: ptr("v2")}); err != nil {
		t.Fatal(err)
	}
	v2, err := r.PublishVersion(ctx, "hello", &lambdaapi.PublishVersionRequest{CodeSha256: uc.CodeSha256})
	if err != nil || v2.Version != "2" || v2.Description != "v2" {
		t.Fatalf("version 2 = %+v, %v", v2, err)
	}
	vs, err := r.ListVersionsByFunction(ctx, "hello", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var vnames []string
	for _, v := range vs.Versions {
		vnames = append(vnames, v.Version)
	}
	if !slices.Equal(vnames, []string{"$LATEST", "1", "2"}) || vs.Versions[0].FunctionArn != arn+":$LATEST" {
		t.Fatalf("versions %v", vnames)
	}
	p1, err := r.ListVersionsByFunction(ctx, "hello", "", 2)
	if err != nil || len(p1.Versions) != 2 || p1.NextMarker == "" {
		t.Fatalf("first page %+v, %v", p1, err)
	}
	p2, err := r.ListVersionsByFunction(ctx, "hello", p1.NextMarker, 2)
	if err != nil || len(p2.Versions) != 1 || p2.Versions[0].Version != "2" || p2.NextMarker != "" {
		t.Fatalf("second page %+v, %v", p2, err)
	}
	all, err := r.ListFunctions(ctx, "", 50, true)
	if err != nil || len(all.Functions) != 7 {
		t.Fatalf("ListFunctions ALL gave %d, %v", len(all.Functions), err)
	}
	// Versions are frozen: $LATEST moved on, version 1 did not.
	if c1, _ := r.GetFunctionConfiguration(ctx, "hello", "1"); c1.Description != "first" || c1.Timeout != 10 {
		t.Fatalf("version 1 changed: %+v", c1)
	}

	// Aliases with weights.
	al, err := r.CreateAlias(ctx, "hello", &lambdaapi.CreateAliasRequest{
		Name: "live", FunctionVersion: "1",
		RoutingConfig: &lambdaapi.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.3}},
	})
	if err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	if al.AliasArn != arn+":live" || al.FunctionVersion != "1" || al.RevisionID == "" {
		t.Fatalf("alias = %+v", al)
	}
	_, err = r.CreateAlias(ctx, "hello", &lambdaapi.CreateAliasRequest{Name: "live", FunctionVersion: "2"})
	wantType(t, err, lambdaerr.TypeResourceConflict)
	for _, bad := range []lambdaapi.CreateAliasRequest{
		{Name: "123", FunctionVersion: "1"},
		{Name: "x", FunctionVersion: "9"},
		{Name: "x", FunctionVersion: "abc"},
		{Name: "x", FunctionVersion: "$LATEST", RoutingConfig: &lambdaapi.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"1": 0.5}}},
		{Name: "x", FunctionVersion: "1", RoutingConfig: &lambdaapi.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 1.5}}},
		{Name: "x", FunctionVersion: "1", RoutingConfig: &lambdaapi.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"1": 0.5}}},
	} {
		if _, err := r.CreateAlias(ctx, "hello", &bad); err == nil {
			t.Fatalf("CreateAlias(%+v) succeeded", bad)
		}
	}
	if _, err := r.GetAlias(ctx, "hello", "x"); err == nil {
		t.Fatal("a refused alias exists")
	}
	picks := map[string]int{}
	for range 1000 {
		tg, err := r.Resolve("hello:live", "")
		if err != nil {
			t.Fatalf("Resolve alias: %v", err)
		}
		if tg.InvokedARN != arn+":live" || tg.Alias != "live" {
			t.Fatalf("target %+v", tg)
		}
		picks[tg.Version.Version]++
	}
	if picks["2"] < 220 || picks["2"] > 380 || picks["1"]+picks["2"] != 1000 {
		t.Fatalf("weighted alias picked %v, want about 700/300", picks)
	}
	if c, err := r.GetFunctionConfiguration(ctx, "hello", "live"); err != nil || c.Version != "1" || c.FunctionArn != arn+":live" {
		t.Fatalf("configuration through alias = %+v, %v", c, err)
	}
	aliases, err := r.ListAliases(ctx, "hello", "", "", 0)
	if err != nil || len(aliases.Aliases) != 1 {
		t.Fatalf("ListAliases = %+v, %v", aliases, err)
	}
	if only2, _ := r.ListAliases(ctx, "hello", "2", "", 0); len(only2.Aliases) != 0 {
		t.Fatalf("ListAliases for version 2 = %+v", only2)
	}

	// Deleting versions an alias uses is refused.
	for _, v := range []string{"1", "2"} {
		err := r.DeleteFunction(ctx, "hello", v)
		if e := wantType(t, err, lambdaerr.TypeResourceConflict); e.Message != "Unable to delete version because the following aliases reference it: [live]" {
			t.Fatalf("message %q", e.Message)
		}
	}
	wantType(t, r.DeleteFunction(ctx, "hello", "$LATEST"), lambdaerr.TypeInvalidParameterValue)
	// An unknown version is deleted without complaint, as on Lambda.
	if err := r.DeleteFunction(ctx, "hello", "7"); err != nil {
		t.Fatalf("DeleteFunction of an unknown version: %v", err)
	}
	_, err = r.UpdateAlias(ctx, "hello", "live", &lambdaapi.UpdateAliasRequest{RevisionID: "stale"})
	wantType(t, err, lambdaerr.TypePreconditionFailed)
	ua, err := r.UpdateAlias(ctx, "hello", "live", &lambdaapi.UpdateAliasRequest{
		RevisionID: al.RevisionID, RoutingConfig: &lambdaapi.AliasRoutingConfiguration{},
	})
	if err != nil || ua.RoutingConfig != nil || ua.RevisionID == al.RevisionID {
		t.Fatalf("UpdateAlias = %+v, %v", ua, err)
	}
	if err := r.DeleteFunction(ctx, "hello", "2"); err != nil {
		t.Fatalf("delete version 2: %v", err)
	}
	if _, err := r.Resolve("hello", "2"); err == nil {
		t.Fatal("deleted version still resolves")
	}
	// Numbers are never reused.
	v3, err := r.PublishVersion(ctx, "hello", nil)
	if err != nil || v3.Version != "3" {
		t.Fatalf("publish after deleting 2 = %+v, %v", v3, err)
	}

	// Reserved concurrency.
	if n, err := r.PutFunctionConcurrency(ctx, "hello", 10); err != nil || n != 10 {
		t.Fatalf("PutFunctionConcurrency = %d, %v", n, err)
	}
	if n, err := r.GetFunctionConcurrency(ctx, "hello"); err != nil || n == nil || *n != 10 {
		t.Fatalf("GetFunctionConcurrency = %v, %v", n, err)
	}
	if tg, _ := r.Resolve("hello", ""); tg.ReservedConcurrency == nil || *tg.ReservedConcurrency != 10 {
		t.Fatalf("Resolve reservation %v", tg.ReservedConcurrency)
	}
	if gf, _ := r.GetFunction(ctx, "hello", ""); gf.Concurrency == nil || *gf.Concurrency.ReservedConcurrentExecutions != 10 {
		t.Fatalf("GetFunction concurrency %+v", gf.Concurrency)
	}
	_, err = r.PutFunctionConcurrency(ctx, "alpha", 891)
	wantType(t, err, lambdaerr.TypeInvalidParameterValue)
	_, err = r.PutFunctionConcurrency(ctx, "alpha", -1)
	wantType(t, err, lambdaerr.TypeValidation)
	if err := r.DeleteFunctionConcurrency(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	if n, err := r.GetFunctionConcurrency(ctx, "hello"); err != nil || n != nil {
		t.Fatalf("after delete: %v, %v", n, err)
	}

	// Delete everything.
	if err := r.DeleteFunction(ctx, arn, ""); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	_, err = r.GetFunction(ctx, "hello", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	_, err = r.Resolve("hello:live", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	wantType(t, r.DeleteFunction(ctx, "hello", ""), lambdaerr.TypeResourceNotFound)
	keys, err := r.listKeys(ctx, "*.hello", "*.hello.>")
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys left after delete: %v, %v", keys, err)
	}

	// A new function of the same name starts afresh.
	mustCreate(t, r, "hello")
	if vs, _ := r.ListVersionsByFunction(ctx, "hello", "", 0); len(vs.Versions) != 1 {
		t.Fatalf("recreated function has versions %+v", vs.Versions)
	}
	if v, err := r.PublishVersion(ctx, "hello", nil); err != nil || v.Version != "1" {
		t.Fatalf("first publish of the new function = %+v, %v", v, err)
	}
	changedMu.Lock()
	defer changedMu.Unlock()
	if changed["hello"] == 0 {
		t.Fatal("subscribers were never told about hello")
	}
}

func TestCreateWithPublish(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	req := createReq(t, "pub")
	req.Publish = true
	fc, err := r.CreateFunction(t.Context(), req)
	if err != nil || fc.Version != "1" {
		t.Fatalf("CreateFunction with Publish = %+v, %v", fc, err)
	}
	uc, err := r.UpdateFunctionCode(t.Context(), "pub", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: helloZip(t, "new"), Publish: true})
	if err != nil || uc.Version != "2" {
		t.Fatalf("UpdateFunctionCode with Publish = %+v, %v", uc, err)
	}
}

func TestReopenRebuildsTheView(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	ctx := t.Context()
	mustCreate(t, r, "keep")
	if _, err := r.PublishVersion(ctx, "keep", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateAlias(ctx, "keep", &lambdaapi.CreateAliasRequest{Name: "prod", FunctionVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, r, "gone")
	if err := r.DeleteFunction(ctx, "gone", ""); err != nil {
		t.Fatal(err)
	}
	r.Close()

	r2 := newRegistry(t, st)
	tg, err := r2.Resolve("keep:prod", "")
	if err != nil || tg.Version.Version != "1" {
		t.Fatalf("after reopen Resolve = %+v, %v", tg, err)
	}
	if _, err := r2.Resolve("gone", ""); err == nil {
		t.Fatal("deleted function back after reopen")
	}
}

func TestResolveAllocatesOnlyTheTarget(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "hot")
	if _, err := r.PublishVersion(t.Context(), "hot", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateAlias(t.Context(), "hot", &lambdaapi.CreateAliasRequest{Name: "live", FunctionVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range [][2]string{{"hot", ""}, {"hot", "1"}, {"hot:live", ""}, {"arn:aws:lambda:us-east-1:000000000000:function:hot", "$LATEST"}} {
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := r.Resolve(tc[0], tc[1]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("Resolve(%q, %q) allocates %v times, want 1", tc[0], tc[1], allocs)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	st := newStore(b)
	r := newRegistry(b, st)
	mustCreate(b, r, "hot")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Resolve("hot", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package registry

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

const layerARNPrefix = "arn:aws:lambda:us-east-1:000000000000:layer:"

func publishLayer(t *testing.T, r *Registry, name string, zip []byte, runtimes ...string) *lambdaapi.LayerVersion {
	t.Helper()
	lv, err := r.PublishLayerVersion(t.Context(), name, &lambdaapi.PublishLayerVersionRequest{
		Content:            &lambdaapi.LayerVersionContentInput{ZipFile: zip},
		CompatibleRuntimes: runtimes,
	})
	if err != nil {
		t.Fatalf("PublishLayerVersion(%s): %v", name, err)
	}
	return lv
}

// TestLayerLifecycle publishes, reads, lists and deletes layer versions.
func TestLayerLifecycle(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	ctx := t.Context()

	zip1 := makeZip(t, zentry{name: "python/", mode: fs.ModeDir | 0o755}, zentry{name: "python/mod.py", body: "x = 1\n"})
	lv, err := r.PublishLayerVersion(ctx, "deps", &lambdaapi.PublishLayerVersionRequest{
		Content:                 &lambdaapi.LayerVersionContentInput{ZipFile: zip1},
		Description:             "shared modules",
		CompatibleRuntimes:      []string{"python3.12"},
		CompatibleArchitectures: []string{"x86_64"},
		LicenseInfo:             "MIT",
	})
	if err != nil {
		t.Fatalf("PublishLayerVersion: %v", err)
	}
	sum := sha256.Sum256(zip1)
	if lv.Version != 1 || lv.LayerArn != layerARNPrefix+"deps" || lv.LayerVersionArn != layerARNPrefix+"deps:1" ||
		lv.Description != "shared modules" || lv.LicenseInfo != "MIT" || !slices.Equal(lv.CompatibleRuntimes, []string{"python3.12"}) ||
		lv.Content == nil || lv.Content.CodeSize != int64(len(zip1)) || lv.Content.CodeSha256 != base64.StdEncoding.EncodeToString(sum[:]) ||
		!strings.HasPrefix(lv.Content.Location, "http://127.0.0.1:9321/updraft/v1/code/") || !lastModifiedRE.MatchString(lv.CreatedDate) {
		t.Fatalf("PublishLayerVersion returned %+v (content %+v)", lv, lv.Content)
	}
	rc, err := r.CodeZip(ctx, strings.TrimPrefix(lv.Content.Location, "http://127.0.0.1:9321/updraft/v1/code/"))
	if err != nil {
		t.Fatalf("layer zip behind Location: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(zip1) {
		t.Fatal("Location serves other bytes than the published zip")
	}

	lv2 := publishLayer(t, r, layerARNPrefix+"deps", makeZip(t, zentry{name: "b.txt", body: "b"}), "nodejs20.x")
	if lv2.Version != 2 || lv2.LayerVersionArn != layerARNPrefix+"deps:2" {
		t.Fatalf("second publish (by ARN) = version %d %s", lv2.Version, lv2.LayerVersionArn)
	}
	publishLayer(t, r, "another", makeZip(t, zentry{name: "c.txt", body: "c"}))

	g, err := r.GetLayerVersion(ctx, "deps", 1)
	if err != nil || g.LayerVersionArn != lv.LayerVersionArn || g.Content.CodeSha256 != lv.Content.CodeSha256 {
		t.Fatalf("GetLayerVersion = %+v, %v", g, err)
	}
	g, err = r.GetLayerVersionByArn(ctx, layerARNPrefix+"deps:2")
	if err != nil || g.Version != 2 {
		t.Fatalf("GetLayerVersionByArn = %+v, %v", g, err)
	}
	_, err = r.GetLayerVersion(ctx, "deps", 3)
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "The resource you requested does not exist." {
		t.Fatalf("missing version message %q", e.Message)
	}
	_, err = r.GetLayerVersionByArn(ctx, "arn:aws:lambda:us-east-1:000000000000:layer:deps")
	wantType(t, err, lambdaerr.TypeValidation)
	for _, n := range []int64{0, -1} {
		_, err = r.GetLayerVersion(ctx, "deps", n)
		if e := wantType(t, err, lambdaerr.TypeInvalidParameterValue); e.Message != "Layer Version Cannot be less than 1" {
			t.Fatalf("GetLayerVersion %d: message %q", n, e.Message)
		}
		err = r.DeleteLayerVersion(ctx, "deps", n)
		if e := wantType(t, err, lambdaerr.TypeInvalidParameterValue); e.Message != "Layer Version Cannot be less than 1" {
			t.Fatalf("DeleteLayerVersion %d: message %q", n, e.Message)
		}
	}

	ll, err := r.ListLayers(ctx, "", "", "", 0)
	if err != nil || len(ll.Layers) != 2 || ll.Layers[0].LayerName != "another" || ll.Layers[1].LayerName != "deps" ||
		ll.Layers[1].LatestMatchingVersion.Version != 2 {
		t.Fatalf("ListLayers = %+v, %v", ll, err)
	}
	ll, err = r.ListLayers(ctx, "python3.12", "", "", 0)
	if err != nil || len(ll.Layers) != 1 || ll.Layers[0].LatestMatchingVersion.Version != 1 {
		t.Fatalf("ListLayers(python3.12) = %+v, %v", ll, err)
	}
	page, err := r.ListLayers(ctx, "", "", "", 1)
	if err != nil || len(page.Layers) != 1 || page.NextMarker == "" {
		t.Fatalf("ListLayers page 1 = %+v, %v", page, err)
	}
	page, err = r.ListLayers(ctx, "", "", page.NextMarker, 1)
	if err != nil || len(page.Layers) != 1 || page.Layers[0].LayerName != "deps" || page.NextMarker != "" {
		t.Fatalf("ListLayers page 2 = %+v, %v", page, err)
	}

	lvs, err := r.ListLayerVersions(ctx, "deps", "", "", "", 0)
	if err != nil || len(lvs.LayerVersions) != 2 || lvs.LayerVersions[0].Version != 2 || lvs.LayerVersions[1].Version != 1 {
		t.Fatalf("ListLayerVersions = %+v, %v", lvs, err)
	}
	vpage, err := r.ListLayerVersions(ctx, "deps", "", "", "", 1)
	if err != nil || len(vpage.LayerVersions) != 1 || vpage.NextMarker == "" {
		t.Fatalf("ListLayerVersions page 1 = %+v, %v", vpage, err)
	}
	vpage, err = r.ListLayerVersions(ctx, "deps", "", "", vpage.NextMarker, 1)
	if err != nil || len(vpage.LayerVersions) != 1 || vpage.LayerVersions[0].Version != 1 || vpage.NextMarker != "" {
		t.Fatalf("ListLayerVersions page 2 = %+v, %v", vpage, err)
	}
	lvs, err = r.ListLayerVersions(ctx, "nope", "", "", "", 0)
	if err != nil || len(lvs.LayerVersions) != 0 {
		t.Fatalf("ListLayerVersions of an unknown layer = %+v, %v", lvs, err)
	}

	// Delete: gone from reads, idempotent, and its number is not reused.
	if err := r.DeleteLayerVersion(ctx, "deps", 2); err != nil {
		t.Fatalf("DeleteLayerVersion: %v", err)
	}
	if err := r.DeleteLayerVersion(ctx, "deps", 2); err != nil {
		t.Fatalf("DeleteLayerVersion again: %v", err)
	}
	_, err = r.GetLayerVersion(ctx, "deps", 2)
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	if err := r.DeleteLayerVersion(ctx, "deps", 1); err != nil {
		t.Fatal(err)
	}
	ll, _ = r.ListLayers(ctx, "", "", "", 0)
	if len(ll.Layers) != 1 || ll.Layers[0].LayerName != "another" {
		t.Fatalf("ListLayers after deleting every version of deps = %+v", ll)
	}
	if lv3 := publishLayer(t, r, "deps", zip1); lv3.Version != 3 {
		t.Fatalf("publish after deletes got version %d, want 3", lv3.Version)
	}

	// A second registry on the same store sees it all through the bucket.
	r2 := newRegistry(t, st)
	if g, err := r2.GetLayerVersion(ctx, "deps", 3); err != nil || g.Content.CodeSha256 != lv.Content.CodeSha256 {
		t.Fatalf("second registry GetLayerVersion = %+v, %v", g, err)
	}
}

func TestPublishLayerVersionValidation(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	zip := makeZip(t, zentry{name: "a.txt", body: "a"})
	content := &lambdaapi.LayerVersionContentInput{ZipFile: zip}
	tests := []struct {
		name     string
		layer    string
		req      lambdaapi.PublishLayerVersionRequest
		wantType string
		wantMsg  string
	}{
		{name: "a name with a dot", layer: "a.b", req: lambdaapi.PublishLayerVersionRequest{Content: content}, wantType: lambdaerr.TypeValidation,
			wantMsg: "1 validation error detected: Value 'a.b' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + layerNamePattern},
		{name: "a name of 141 characters", layer: strings.Repeat("n", 141), req: lambdaapi.PublishLayerVersionRequest{Content: content}, wantType: lambdaerr.TypeValidation},
		{name: "an ARN of another account", layer: "arn:aws:lambda:us-east-1:111111111111:layer:x", req: lambdaapi.PublishLayerVersionRequest{Content: content}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "no content", layer: "x", wantType: lambdaerr.TypeValidation,
			wantMsg: "1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be null"},
		{name: "an empty zip file", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: &lambdaapi.LayerVersionContentInput{}}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "content from S3", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: &lambdaapi.LayerVersionContentInput{S3Bucket: "b", S3Key: "k"}}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "content that is not a zip", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: &lambdaapi.LayerVersionContentInput{ZipFile: []byte("nope")}}, wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg: "Could not unzip uploaded file. Please check your file, then try to upload again."},
		{name: "a zip over 50 MB", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: &lambdaapi.LayerVersionContentInput{ZipFile: make([]byte, MaxZipBytes+1)}}, wantType: lambdaerr.TypeRequestTooLarge},
		{name: "a zip with a path leading out", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: &lambdaapi.LayerVersionContentInput{ZipFile: makeZip(t, zentry{name: "../evil", body: "x"})}}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "three architectures", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: content, CompatibleArchitectures: []string{"x86_64", "arm64", "x86_64"}}, wantType: lambdaerr.TypeValidation},
		{name: "an unknown architecture", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: content, CompatibleArchitectures: []string{"mips"}}, wantType: lambdaerr.TypeValidation},
		{name: "sixteen runtimes", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: content, CompatibleRuntimes: slices.Repeat([]string{"python3.12"}, 16)}, wantType: lambdaerr.TypeValidation},
		{name: "a description and a license too long", layer: "x", req: lambdaapi.PublishLayerVersionRequest{Content: content, Description: strings.Repeat("d", 257), LicenseInfo: strings.Repeat("l", 513)}, wantType: lambdaerr.TypeValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.PublishLayerVersion(t.Context(), tc.layer, &tc.req)
			e := wantType(t, err, tc.wantType)
			if tc.wantMsg != "" && e.Message != tc.wantMsg {
				t.Fatalf("message %q, want %q", e.Message, tc.wantMsg)
			}
			keys, err := r.listKeys(t.Context(), ">")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 0 {
				t.Fatalf("a refused publish left keys %v", keys)
			}
		})
	}
}

// TestFunctionLayers covers functions that use layers: existence checks,
// Layers with CodeSize, a deleted version that keeps working, and the
// merged /opt directory.
func TestFunctionLayers(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	ctx := t.Context()
	first := publishLayer(t, r, "first", makeZip(t,
		zentry{name: "bootstrap", body: "#!/bin/sh\n", mode: 0o755},
		zentry{name: "data/", mode: fs.ModeDir | 0o755},
		zentry{name: "data/x.txt", body: "first"},
		zentry{name: "data/only-first.txt", body: "1"},
		zentry{name: "bin/tool", body: "first tool", mode: 0o755},
	))
	second := publishLayer(t, r, "second", makeZip(t,
		zentry{name: "data/x.txt", body: "second"},
		zentry{name: "bin", body: "a file where a directory was"},
		zentry{name: "lib/", mode: fs.ModeDir | 0o755},
		zentry{name: "lib/link", body: "../data/x.txt", mode: fs.ModeSymlink | 0o777},
	))

	// A missing version is refused and changes nothing.
	missing := layerARNPrefix + "second:9"
	req := createReq(t, "fn")
	req.Layers = []string{first.LayerVersionArn, missing}
	_, err := r.CreateFunction(ctx, req)
	if e := wantType(t, err, lambdaerr.TypeInvalidParameterValue); e.Message != "Layer version "+missing+" does not exist." {
		t.Fatalf("message %q", e.Message)
	}
	if _, err := r.GetFunction(ctx, "fn", ""); !lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
		t.Fatalf("a refused create left the function: %v", err)
	}
	for _, tc := range []struct {
		name   string
		layers []string
		msg    string
	}{
		{"another account", []string{"arn:aws:lambda:us-east-1:111111111111:layer:first:1"}, "Layer version arn:aws:lambda:us-east-1:111111111111:layer:first:1 does not exist."},
		{"the same version twice", []string{first.LayerVersionArn, layerARNPrefix + "first:1"},
			"Two different versions of the same layer are not allowed to be referenced in the same function. " + first.LayerVersionArn + " and " + layerARNPrefix + "first:1 are versions of the same layer."},
		{"another region", []string{"arn:aws:lambda:eu-west-1:000000000000:layer:first:1"},
			"Layers are not in the same region as the function. Layers are expected to be in region us-east-1."},
	} {
		req := createReq(t, "fn")
		req.Layers = tc.layers
		_, err := r.CreateFunction(ctx, req)
		e := wantType(t, err, lambdaerr.TypeInvalidParameterValue)
		if tc.msg != "" && e.Message != tc.msg {
			t.Fatalf("%s: message %q, want %q", tc.name, e.Message, tc.msg)
		}
	}

	// Create with both; Layers shows each with its zip size.
	req = createReq(t, "fn")
	req.Layers = []string{first.LayerVersionArn, second.LayerVersionArn}
	fc, err := r.CreateFunction(ctx, req)
	if err != nil {
		t.Fatalf("CreateFunction with layers: %v", err)
	}
	wantLayers := []lambdaapi.Layer{{Arn: first.LayerVersionArn, CodeSize: first.Content.CodeSize}, {Arn: second.LayerVersionArn, CodeSize: second.Content.CodeSize}}
	if !slices.Equal(fc.Layers, wantLayers) {
		t.Fatalf("Layers = %+v, want %+v", fc.Layers, wantLayers)
	}
	if gc, err := r.GetFunctionConfiguration(ctx, "fn", ""); err != nil || !slices.Equal(gc.Layers, wantLayers) {
		t.Fatalf("GetFunctionConfiguration Layers = %+v, %v", gc.Layers, err)
	}

	// The merged directory: later layers win, everything readable.
	tgt, err := r.Resolve("fn", "")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := r.OptDir(ctx, tgt.Version)
	if err != nil {
		t.Fatalf("OptDir: %v", err)
	}
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatalf("read %s: %v", rel, err)
		}
		return string(b)
	}
	if got := read("data/x.txt"); got != "second" {
		t.Fatalf("data/x.txt = %q, want the later layer's", got)
	}
	if got := read("data/only-first.txt"); got != "1" {
		t.Fatalf("data/only-first.txt = %q", got)
	}
	if got := read("bin"); got != "a file where a directory was" {
		t.Fatalf("bin = %q", got)
	}
	if got := read("lib/link"); got != "second" {
		t.Fatalf("lib/link reads %q", got)
	}
	if st, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("bootstrap: %v %v", st, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "data/x.txt")); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("data/x.txt: %v %v", st, err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("opt dir: %v %v", st, err)
	}
	if again, err := r.OptDir(ctx, tgt.Version); err != nil || again != dir {
		t.Fatalf("OptDir again = %q, %v; want the cached %q", again, err, dir)
	}
	if d, err := r.OptDir(ctx, &Version{}); err != nil || d != "" {
		t.Fatalf("OptDir without layers = %q, %v", d, err)
	}

	// A deleted version keeps working for the function that uses it, and
	// for a new node, but cannot be newly referenced.
	if err := r.DeleteLayerVersion(ctx, "first", 1); err != nil {
		t.Fatal(err)
	}
	gf, err := r.GetFunction(ctx, "fn", "")
	if err != nil || !slices.Equal(gf.Configuration.Layers, wantLayers) {
		t.Fatalf("GetFunction after the layer's delete = %+v, %v", gf, err)
	}
	r2, err := New(ctx, st, Config{Region: testRegion, AccountID: testAccount, CodeCacheDir: t.TempDir()}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r2.Close() })
	tgt2, err := r2.Resolve("fn", "")
	if err != nil {
		t.Fatal(err)
	}
	dir2, err := r2.OptDir(ctx, tgt2.Version)
	if err != nil {
		t.Fatalf("OptDir on a new node after the layer's delete: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir2, "bootstrap")); err != nil || string(b) != "#!/bin/sh\n" {
		t.Fatalf("bootstrap from the deleted layer: %q %v", b, err)
	}
	// Changing something else keeps the layers; naming them again is refused.
	if _, err := r.UpdateFunctionConfiguration(ctx, "fn", &lambdaapi.UpdateFunctionConfigurationRequest{Description: ptr("d")}); err != nil {
		t.Fatalf("update without Layers: %v", err)
	}
	_, err = r.UpdateFunctionConfiguration(ctx, "fn", &lambdaapi.UpdateFunctionConfigurationRequest{Layers: []string{first.LayerVersionArn}})
	wantType(t, err, lambdaerr.TypeInvalidParameterValue)

	// Publishing pins the layers into the version.
	pv, err := r.PublishVersion(ctx, "fn", nil)
	if err != nil || !slices.Equal(pv.Layers, wantLayers) {
		t.Fatalf("PublishVersion Layers = %+v, %v", pv, err)
	}

	// Update to one layer, then to none.
	uc, err := r.UpdateFunctionConfiguration(ctx, "fn", &lambdaapi.UpdateFunctionConfigurationRequest{Layers: []string{second.LayerVersionArn}})
	if err != nil || len(uc.Layers) != 1 || uc.Layers[0].CodeSize != second.Content.CodeSize {
		t.Fatalf("update to one layer = %+v, %v", uc, err)
	}
	uc, err = r.UpdateFunctionConfiguration(ctx, "fn", &lambdaapi.UpdateFunctionConfigurationRequest{Layers: []string{}})
	if err != nil || len(uc.Layers) != 0 {
		t.Fatalf("update to no layers = %+v, %v", uc, err)
	}
	tgt, _ = r.ResolveSettled(ctx, "fn", "")
	if d, err := r.OptDir(ctx, tgt.Version); err != nil || d != "" {
		t.Fatalf("OptDir after removing the layers = %q, %v", d, err)
	}
	tgt, _ = r.Resolve("fn", "1")
	if d, err := r.OptDir(ctx, tgt.Version); err != nil || d != dir {
		t.Fatalf("OptDir of version 1 = %q, %v; want %q", d, err, dir)
	}
}

// TestLayersUnzippedLimit checks Lambda's 250 MB quota on code plus
// layers, unzipped.
func TestLayersUnzippedLimit(t *testing.T) {
	layer := func(n int64) layerContent { return layerContent{Sha256Hex: strings.Repeat("a", 64), UnzippedSize: n} }
	tests := []struct {
		name string
		c    configRecord
		ok   bool
	}{
		{name: "no layers, whatever the code", c: configRecord{CodeUnzippedSize: MaxUnzippedBytes + 1}, ok: true},
		{name: "code and layers at the limit", c: configRecord{CodeUnzippedSize: 100, LayerContent: []layerContent{layer(MaxUnzippedBytes - 150), layer(50)}}, ok: true},
		{name: "code and layers one byte over", c: configRecord{CodeUnzippedSize: 101, LayerContent: []layerContent{layer(MaxUnzippedBytes - 150), layer(50)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkUnzippedTotal(&tc.c)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantType(t, err, lambdaerr.TypeInvalidParameterValue)
			if e.Message != "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is 262144001 bytes." {
				t.Fatalf("message %q", e.Message)
			}
		})
	}
}

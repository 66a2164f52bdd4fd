package runtimes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBotocore writes a botocore package whose Session.create_client
// returns the endpoint_url it was given, and whose configprovider says
// whether it reads AWS_ENDPOINT_URL itself (botocore 1.31 and later).
func fakeBotocore(t *testing.T, native bool) string {
	t.Helper()
	dir := t.TempDir()
	pkg := filepath.Join(dir, "botocore")
	variables := "{'region': None}"
	if native {
		variables = "{'region': None, 'ignore_configured_endpoint_urls': None}"
	}
	files := map[string]string{
		"__init__.py":       "",
		"configprovider.py": "BOTOCORE_DEFAUT_SESSION_VARIABLES = " + variables + "\n",
		"session.py": `import botocore.configprovider


class _Model:
    def __init__(self, service_id):
        self.service_id = service_id


class Session:
    IDS = {"dynamodb": "DynamoDB", "stepfunctions": "SFN", "lambda": "Lambda", "cognito-idp": "Cognito Identity Provider"}

    def get_service_model(self, service_name, api_version=None):
        if service_name not in self.IDS:
            raise KeyError(service_name)
        return _Model(self.IDS[service_name])

    def create_client(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None, endpoint_url=None, config=None):
        if service_name not in self.IDS:
            raise ValueError("Unknown service: " + service_name)
        return endpoint_url
`,
	}
	if err := os.Mkdir(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestEndpointHook runs updraft_ric_endpoints against fake botocores:
// the endpoint a client gets by default, per service and overall, and
// that a botocore with native support, an explicit endpoint_url and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS are left alone.
func TestEndpointHook(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	clients, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	script := `import updraft_ric_endpoints as e
e.install()
import botocore.session
s = botocore.session.Session()
out = [s.create_client(n) for n in ("dynamodb", "stepfunctions", "lambda", "cognito-idp")]
out.append(s.create_client("dynamodb", endpoint_url="http://explicit:1"))
try:
    s.create_client("nosuch")
except ValueError as err:
    out.append(str(err))
print(out)
`
	base := []string{"AWS_ENDPOINT_URL=http://all:9", "AWS_ENDPOINT_URL_DYNAMODB=http://ddb:1",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=http://cognito:2"}
	for _, tc := range []struct {
		name   string
		native bool
		env    []string
		want   string
	}{
		{"old botocore", false, base,
			"['http://ddb:1', 'http://all:9', 'http://all:9', 'http://cognito:2', 'http://explicit:1', 'Unknown service: nosuch']"},
		{"old botocore, per-service only", false, []string{"AWS_ENDPOINT_URL_SFN=http://sfn:3"},
			"[None, 'http://sfn:3', None, None, 'http://explicit:1', 'Unknown service: nosuch']"},
		{"old botocore, configured endpoints ignored", false, append(base, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true"),
			"[None, None, None, None, 'http://explicit:1', 'Unknown service: nosuch']"},
		{"botocore that reads AWS_ENDPOINT_URL itself", true, base,
			"[None, None, None, None, 'http://explicit:1', 'Unknown service: nosuch']"},
		{"no endpoint configured", false, nil,
			"[None, None, None, None, 'http://explicit:1', 'Unknown service: nosuch']"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(python, "-c", script)
			cmd.Env = append([]string{"PYTHONPATH=" + clients + ":" + fakeBotocore(t, tc.native), "PYTHONDONTWRITEBYTECODE=1"}, tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("endpoints %s\nwant      %s", got, tc.want)
			}
		})
	}
}

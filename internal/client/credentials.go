package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CredentialsFileName is the file in the server's data directory holding
// the access key pair the server generated at first start, in the shape of
// [StoredCredentials]. The server writes it (mode 0600); the CLI reads it
// so that `updraft server` followed by `updraft invoke` works with nothing
// exported.
const CredentialsFileName = "credentials.json"

// StoredCredentials is the JSON content of [CredentialsFileName] as the
// server's internal/auth writes it: {"AccessKeyId":"...","SecretAccessKey":"..."}.
// Member names match case-insensitively (encoding/json), so the
// "AccessKeyID" spelling reads as well.
type StoredCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// ErrNoCredentials is returned (wrapped, with advice on what to export)
// when neither the environment nor the data directory has credentials.
var ErrNoCredentials = errors.New("no credentials for updraft")

// ResolveCredentials finds the key pair to sign with, first match wins:
// UPDRAFT_ACCESS_KEY_ID and UPDRAFT_SECRET_ACCESS_KEY; AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN if set); the file
// <dataDir>/credentials.json. It also returns where they came from. Half a
// pair in the environment is an error rather than silently skipped, because
// the user plainly meant to set it. getenv nil means os.Getenv.
func ResolveCredentials(dataDir string, getenv func(string) string) (aws.Credentials, string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, prefix := range []string{"UPDRAFT_", "AWS_"} {
		idVar, secretVar := prefix+"ACCESS_KEY_ID", prefix+"SECRET_ACCESS_KEY"
		id, secret := getenv(idVar), getenv(secretVar)
		switch {
		case id != "" && secret != "":
			creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "environment"}
			if prefix == "AWS_" {
				creds.SessionToken = getenv("AWS_SESSION_TOKEN")
			}
			return creds, idVar, nil
		case id != "":
			return aws.Credentials{}, "", fmt.Errorf("client: %s is set but %s is not: export both or neither", idVar, secretVar)
		case secret != "":
			return aws.Credentials{}, "", fmt.Errorf("client: %s is set but %s is not: export both or neither", secretVar, idVar)
		}
	}
	path := filepath.Join(dataDir, CredentialsFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return aws.Credentials{}, "", fmt.Errorf("%w: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "+
			"(the pair the server was started with), or point --data-dir (env UPDRAFT_DATA_DIR) at the server's "+
			"data directory, where it writes %s on first start; %s does not exist", ErrNoCredentials, CredentialsFileName, path)
	}
	if err != nil {
		return aws.Credentials{}, "", fmt.Errorf("client: read credentials: %w", err)
	}
	var stored StoredCredentials
	if err := json.Unmarshal(data, &stored); err != nil {
		return aws.Credentials{}, "", fmt.Errorf("client: credentials file %s: %w", path, err)
	}
	if stored.AccessKeyID == "" || stored.SecretAccessKey == "" {
		return aws.Credentials{}, "", fmt.Errorf("client: credentials file %s: AccessKeyID and SecretAccessKey must both be set", path)
	}
	return aws.Credentials{
		AccessKeyID:     stored.AccessKeyID,
		SecretAccessKey: stored.SecretAccessKey,
		Source:          path,
	}, path, nil
}

// staticCredentials hands the resolved pair to the SDK as a provider.
func staticCredentials(creds aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return creds, nil
	})
}

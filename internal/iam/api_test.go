package iam

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// call posts one IAM action as the root and returns status and body.
func call(t *testing.T, h http.Handler, p Principal, form url.Values) (int, string) {
	t.Helper()
	form.Set("Version", APIVersion)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req = req.WithContext(WithPrincipal(context.Background(), p))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// dates and ids vary; the shapes are compared with them masked.
var volatile = regexp.MustCompile(`<(CreateDate|UpdateDate|RequestId|UserId|RoleId|PolicyId|AccessKeyId|SecretAccessKey|Marker)>[^<]*</`)

func mask(s string) string { return volatile.ReplaceAllString(s, "<$1>X</") }

func TestAPIShapes(t *testing.T) {
	s := openIAM(t, newTestStore(t), nil)
	h := NewHandler(s, testutil.Logger(t, 0))
	root := s.Root()
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"CreateUser", url.Values{"Action": {"CreateUser"}, "UserName": {"ci"}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}}, 200,
			`<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User><Path>/</Path><UserName>ci</UserName><UserId>X</UserId><Arn>arn:aws:iam::000000000000:user/ci</Arn><CreateDate>X</CreateDate><Tags><member><Key>k</Key><Value>v</Value></member></Tags></User></CreateUserResult><ResponseMetadata><RequestId>X</RequestId></ResponseMetadata></CreateUserResponse>`},
		{"CreateUser again", url.Values{"Action": {"CreateUser"}, "UserName": {"ci"}}, 409,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>EntityAlreadyExists</Code><Message>User with name ci already exists.</Message></Error><RequestId>X</RequestId></ErrorResponse>`},
		{"GetUser missing", url.Values{"Action": {"GetUser"}, "UserName": {"nobody"}}, 404,
			`<Code>NoSuchEntity</Code><Message>The user with name nobody cannot be found.</Message>`},
		{"ListUsers", url.Values{"Action": {"ListUsers"}}, 200,
			`<ListUsersResult><Users><member><Path>/</Path><UserName>ci</UserName><UserId>X</UserId><Arn>arn:aws:iam::000000000000:user/ci</Arn><CreateDate>X</CreateDate></member></Users><IsTruncated>false</IsTruncated></ListUsersResult>`},
		{"PutUserPolicy", url.Values{"Action": {"PutUserPolicy"}, "UserName": {"ci"}, "PolicyName": {"p"}, "PolicyDocument": {`{"Statement": []}`}}, 200,
			`<PutUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata>`},
		{"PutUserPolicy malformed", url.Values{"Action": {"PutUserPolicy"}, "UserName": {"ci"}, "PolicyName": {"p"}, "PolicyDocument": {`{`}}, 400,
			`<Code>MalformedPolicyDocument</Code><Message>Syntax errors in policy.</Message>`},
		{"GetUserPolicy is URL-encoded", url.Values{"Action": {"GetUserPolicy"}, "UserName": {"ci"}, "PolicyName": {"p"}}, 200,
			`<GetUserPolicyResult><UserName>ci</UserName><PolicyName>p</PolicyName><PolicyDocument>%7B%22Statement%22%3A%20%5B%5D%7D</PolicyDocument></GetUserPolicyResult>`},
		{"CreateAccessKey", url.Values{"Action": {"CreateAccessKey"}, "UserName": {"ci"}}, 200,
			`<CreateAccessKeyResult><AccessKey><UserName>ci</UserName><AccessKeyId>X</AccessKeyId><Status>Active</Status><SecretAccessKey>X</SecretAccessKey><CreateDate>X</CreateDate></AccessKey></CreateAccessKeyResult>`},
		{"CreateAccessKey as root without a user", url.Values{"Action": {"CreateAccessKey"}}, 400,
			`<Code>ValidationError</Code><Message>1 validation error detected: Must specify userName when calling with non-User credentials</Message>`},
		{"DeleteUser with keys", url.Values{"Action": {"DeleteUser"}, "UserName": {"ci"}}, 409,
			`<Code>DeleteConflict</Code><Message>Cannot delete entity, must delete access keys first.</Message>`},
		{"CreateRole", url.Values{"Action": {"CreateRole"}, "RoleName": {"fn"}, "AssumeRolePolicyDocument": {trustLambda}}, 200,
			`<CreateRoleResult><Role><Path>/</Path><RoleName>fn</RoleName><RoleId>X</RoleId><Arn>arn:aws:iam::000000000000:role/fn</Arn><CreateDate>X</CreateDate><AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22`},
		{"CreateRole bad duration", url.Values{"Action": {"CreateRole"}, "RoleName": {"x"}, "AssumeRolePolicyDocument": {trustLambda}, "MaxSessionDuration": {"60"}}, 400,
			`<Message>1 validation error detected: Value &#39;60&#39; at &#39;maxSessionDuration&#39; failed to satisfy constraint: Member must have value greater than or equal to 3600</Message>`},
		{"AttachRolePolicy AWS managed", url.Values{"Action": {"AttachRolePolicy"}, "RoleName": {"fn"}, "PolicyArn": {lambdaBasic}}, 200, `<AttachRolePolicyResponse`},
		{"ListAttachedRolePolicies", url.Values{"Action": {"ListAttachedRolePolicies"}, "RoleName": {"fn"}}, 200,
			`<AttachedPolicies><member><PolicyName>AWSLambdaBasicExecutionRole</PolicyName><PolicyArn>arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole</PolicyArn></member></AttachedPolicies><IsTruncated>false</IsTruncated>`},
		{"CreatePolicy", url.Values{"Action": {"CreatePolicy"}, "PolicyName": {"rw"}, "PolicyDocument": {allowAll}, "Description": {"d"}}, 200,
			`<CreatePolicyResult><Policy><PolicyName>rw</PolicyName><PolicyId>X</PolicyId><Arn>arn:aws:iam::000000000000:policy/rw</Arn><Path>/</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>0</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>X</CreateDate><UpdateDate>X</UpdateDate></Policy></CreatePolicyResult>`},
		{"CreatePolicyVersion", url.Values{"Action": {"CreatePolicyVersion"}, "PolicyArn": {"arn:aws:iam::000000000000:policy/rw"}, "PolicyDocument": {allowAll}, "SetAsDefault": {"true"}}, 200,
			`<CreatePolicyVersionResult><PolicyVersion><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>X</CreateDate></PolicyVersion></CreatePolicyVersionResult>`},
		{"ListPolicyVersions", url.Values{"Action": {"ListPolicyVersions"}, "PolicyArn": {"arn:aws:iam::000000000000:policy/rw"}, "MaxItems": {"1"}}, 200,
			`<Versions><member><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>X</CreateDate></member></Versions><IsTruncated>true</IsTruncated><Marker>X</Marker>`},
		{"ListPolicies AWS", url.Values{"Action": {"ListPolicies"}, "Scope": {"AWS"}}, 200,
			`<Policies><member><PolicyName>AWSLambdaBasicExecutionRole</PolicyName><PolicyId>X</PolicyId><Arn>arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole</Arn><Path>/service-role/</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>1</AttachmentCount>`},
		{"GetPolicy missing", url.Values{"Action": {"GetPolicy"}, "PolicyArn": {"arn:aws:iam::000000000000:policy/nope"}}, 404,
			`<Message>Policy arn:aws:iam::000000000000:policy/nope was not found.</Message>`},
		{"missing parameter", url.Values{"Action": {"GetRole"}}, 400,
			`<Message>1 validation error detected: Value null at &#39;roleName&#39; failed to satisfy constraint: Member must not be null</Message>`},
		// Found by FuzzQueryAPI: an empty name made the store key "role.",
		// which JetStream refuses, and the answer was a 500.
		{"empty parameter", url.Values{"Action": {"PutRolePolicy"}, "RoleName": {""}, "PolicyName": {"p"}, "PolicyDocument": {"{}"}}, 400,
			`<Message>1 validation error detected: Value &#39;&#39; at &#39;roleName&#39; failed to satisfy constraint: Member must have length greater than or equal to 1</Message>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, h, root, tc.form)
			if status != tc.status || !strings.Contains(mask(body), tc.want) {
				t.Fatalf("status %d (want %d), body\n%s\nwant it to contain\n%s", status, tc.status, mask(body), tc.want)
			}
		})
	}
}

func TestAPIPaging(t *testing.T) {
	s := openIAM(t, newTestStore(t), nil)
	h := NewHandler(s, testutil.Logger(t, 0))
	for _, n := range []string{"a", "b", "c"} {
		if _, err := s.CreateUser(t.Context(), n, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	marker := ""
	for range 5 {
		form := url.Values{"Action": {"ListUsers"}, "MaxItems": {"2"}}
		if marker != "" {
			form.Set("Marker", marker)
		}
		_, body := call(t, h, s.Root(), form)
		for _, m := range regexp.MustCompile(`<UserName>(\w+)</UserName>`).FindAllStringSubmatch(body, -1) {
			names = append(names, m[1])
		}
		m := regexp.MustCompile(`<Marker>([^<]+)</Marker>`).FindStringSubmatch(body)
		if m == nil {
			break
		}
		marker = m[1]
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("paged through %v", names)
	}
	if status, _ := call(t, h, s.Root(), url.Values{"Action": {"ListUsers"}, "Marker": {"garbage"}}); status != 400 {
		t.Fatalf("a bad marker: %d", status)
	}
}

func TestCallerOwnKeys(t *testing.T) {
	s := openIAM(t, newTestStore(t), nil)
	h := NewHandler(s, testutil.Logger(t, 0))
	if _, err := s.CreateUser(t.Context(), "me", "", nil); err != nil {
		t.Fatal(err)
	}
	k, err := s.CreateAccessKey(t.Context(), "me")
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := s.LookupAccessKey(k.AccessKeyID)
	status, body := call(t, h, p, url.Values{"Action": {"CreateAccessKey"}})
	if status != 200 || !strings.Contains(body, "<UserName>me</UserName>") {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := call(t, h, p, url.Values{"Action": {"GetUser"}}); status != 200 || !strings.Contains(body, "<UserName>me</UserName>") {
		t.Fatalf("%d %s", status, body)
	}
}

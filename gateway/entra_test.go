package gateway_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"

	"github.com/breakerd/breakerd/mockllm"
)

// entraUpstream is a mock Azure resource that takes only the Entra ID
// token entraLogin grants, as a bearer token, and records the
// credentials each call carried.
func entraUpstream(t *testing.T) (*mockllm.Server, *httptest.Server, func() []string) {
	t.Helper()
	mock := mockllm.New(mockllm.Options{Name: "azure", APIKey: "eyJ-entra-access-token"})
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s authorization=%q api-key=%q", r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Api-Key")))
		mu.Unlock()
		mock.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return mock, srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// entraLogin is Microsoft Entra ID's token endpoint for one tenant: it
// grants the app app-1 a token for its client secret, and refuses any
// other secret as Entra ID does.
func entraLogin(t *testing.T, grants *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		if r.URL.Path != "/tenant-1/oauth2/v2.0/token" || f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "app-1" ||
			f.Get("scope") != "https://cognitiveservices.azure.com/.default" || f.Get("client_secret") != "entra-client-secret-1" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'app-1'.","error_codes":[7000215]}`))
			return
		}
		grants.Add(1)
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ-entra-access-token"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Azure OpenAI and Claude on Azure AI Foundry with an app's client secret
// (tenant_id, client_id, client_secret), as LiteLLM configs write it:
// chat, whole and streamed, and the Messages API carry the token Entra ID
// granted, once, as a bearer token and no api-key.
func TestAzureWithEntraID(t *testing.T) {
	var grants atomic.Int64
	login := entraLogin(t, &grants)
	azure, upstream, seen := entraUpstream(t)
	e := newEnv(t, `
environment_variables: {AZURE_AUTHORITY_HOST: "`+login.URL+`", ENTRA_SECRET: entra-client-secret-1}
model_list:
  - model_name: gpt
    litellm_params: {model: azure/gpt-4o, api_base: "`+upstream.URL+`", api_version: "2024-10-21",
      tenant_id: tenant-1, client_id: app-1, client_secret: os.environ/ENTRA_SECRET}
  - model_name: claude
    litellm_params: {model: azure/claude-sonnet-4-5, api_base: "`+upstream.URL+`/anthropic", litellm_credential_name: entra}
credential_list:
  - credential_name: entra
    credential_values: {tenant_id: tenant-1, client_id: app-1, client_secret: os.environ/ENTRA_SECRET}
`)
	got, _, err := e.chat("gpt")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from azure") {
		t.Fatalf("chat: %+v %v", got, err)
	}
	if text, err := e.chatStream("gpt"); err != nil || !strings.Contains(text, "Hello from azure") {
		t.Fatalf("stream: %q %v", text, err)
	}
	ac := e.anthropicClient()
	msg, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	if err != nil || len(msg.Content) == 0 || !strings.Contains(msg.Content[0].Text, "Hello from azure") {
		t.Fatalf("messages: %+v %v", msg, err)
	}
	want := []string{
		`/openai/deployments/gpt-4o/chat/completions authorization="Bearer eyJ-entra-access-token" api-key=""`,
		`/openai/deployments/gpt-4o/chat/completions authorization="Bearer eyJ-entra-access-token" api-key=""`,
		`/anthropic/v1/messages authorization="Bearer eyJ-entra-access-token" api-key=""`,
	}
	if s := seen(); strings.Join(s, "\n") != strings.Join(want, "\n") {
		t.Fatalf("upstream saw\n%s\nwant\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
	// One grant per deployment: each keeps its token until it is about to expire.
	if n := grants.Load(); n != 2 || azure.Stats().Requests != 3 {
		t.Fatalf("%d grants and %d calls, want 2 and 3", n, azure.Stats().Requests)
	}
}

// A client secret Entra ID refuses (expired, rotated) is an outage of the
// deployment: it counts on its breaker, the request falls back, Azure is
// not called with no token, and the log says Entra ID's reason without
// the secret.
func TestAzureEntraIDRefusalFallsBack(t *testing.T) {
	var grants atomic.Int64
	login := entraLogin(t, &grants)
	azure, upstream, _ := entraUpstream(t)
	e := newEnv(t, `
environment_variables: {AZURE_AUTHORITY_HOST: "`+login.URL+`"}
model_list:
  - model_name: gpt
    litellm_params: {model: azure/gpt-4o, api_base: "`+upstream.URL+`", tenant_id: tenant-1, client_id: app-1, client_secret: entra-stale-secret-9}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`, "b")
	for range 2 {
		got, _, err := e.chat("gpt")
		if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from b") {
			t.Fatalf("chat: %+v %v", got, err)
		}
	}
	if f := e.breaker("gpt/azure/gpt-4o:chat").Counts().Failures; f != 2 || azure.Stats().Requests != 0 || grants.Load() != 0 {
		t.Fatalf("failures %d, azure calls %d, grants %d: want 2, none, none", f, azure.Stats().Requests, grants.Load())
	}
	logs := e.logs.String()
	if strings.Contains(logs, "entra-stale-secret-9") || !strings.Contains(logs, "AADSTS7000215: Invalid client secret provided") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// A token fetched at run time is scrubbed from what leaves breakerd, as a
// configured key is: an upstream that echoes the request's credentials in
// its error (as proxies and misconfigured servers do) shows the client,
// and the log, [REDACTED].
func TestFetchedTokensAreScrubbed(t *testing.T) {
	var grants atomic.Int64
	login := entraLogin(t, &grants)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":{"message":"bad request with %s","type":"invalid_request_error"}}`, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	e := newEnv(t, `
environment_variables: {AZURE_AUTHORITY_HOST: "`+login.URL+`"}
model_list:
  - model_name: gpt
    litellm_params: {model: azure/gpt-4o, api_base: "`+echo.URL+`", tenant_id: tenant-1, client_id: app-1, client_secret: entra-client-secret-1}
`)
	status, _, body := e.post("/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"hi"}]}`)
	msg := fmt.Sprint(body)
	if status != http.StatusBadRequest || grants.Load() != 1 || !strings.Contains(msg, "bad request with Bearer [REDACTED]") {
		t.Fatalf("%d after %d grants: %s", status, grants.Load(), msg)
	}
	if strings.Contains(e.logs.String(), "eyJ-entra-access-token") {
		t.Fatalf("the log shows the token:\n%s", e.logs.String())
	}
}

// An app's client certificate ($AZURE_CREDENTIAL=CertificateCredential,
// with enable_azure_ad_token_refresh, as Azure's libraries read the
// environment): each token is asked for with a JWT the certificate's key
// signs, naming it by its thumbprint, for the tenant's token endpoint;
// Entra ID checks the signature against the certificate, as here.
func TestAzureWithAClientCertificate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "breakerd-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile := filepath.Join(t.TempDir(), "app.pem")
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.WriteFile(certFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	thumb := sha1.Sum(der)
	var grants atomic.Int64
	var login *httptest.Server
	login = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		parts := strings.Split(f.Get("client_assertion"), ".")
		refuse := func(why string) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS700027: ` + why + `"}`))
		}
		if f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "app-1" || len(parts) != 3 ||
			f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			refuse("not a client assertion")
			return
		}
		var header struct{ Alg, X5t string }
		var claims struct {
			Aud, Iss, Sub string
			Exp           int64
		}
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		c, _ := base64.RawURLEncoding.DecodeString(parts[1])
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		_ = json.Unmarshal(h, &header)
		_ = json.Unmarshal(c, &claims)
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		switch {
		case rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) != nil:
			refuse("the signature does not verify")
		case header.Alg != "RS256" || header.X5t != base64.RawURLEncoding.EncodeToString(thumb[:]):
			refuse("the certificate with thumbprint is not registered")
		case claims.Aud != login.URL+"/tenant-1/oauth2/v2.0/token" || claims.Iss != "app-1" || claims.Sub != "app-1" || claims.Exp < time.Now().Unix():
			refuse("the assertion's claims are wrong")
		default:
			grants.Add(1)
			_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ-entra-access-token"}`))
		}
	}))
	defer login.Close()
	_, upstream, seen := entraUpstream(t)
	e := newEnv(t, `
environment_variables: {AZURE_AUTHORITY_HOST: "`+login.URL+`", AZURE_CREDENTIAL: CertificateCredential, AZURE_TENANT_ID: tenant-1,
  AZURE_CLIENT_ID: app-1, AZURE_CLIENT_CERTIFICATE_PATH: "`+certFile+`"}
litellm_settings: {enable_azure_ad_token_refresh: true}
model_list:
  - model_name: gpt
    litellm_params: {model: azure/gpt-4o, api_base: "`+upstream.URL+`", api_version: "2024-10-21"}
`)
	for range 2 {
		if got, _, err := e.chat("gpt"); err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from azure") {
			t.Fatalf("chat: %+v %v\n%s", got, err, e.logs.String())
		}
	}
	if s := seen(); len(s) != 2 || !strings.Contains(s[0], `authorization="Bearer eyJ-entra-access-token"`) || grants.Load() != 1 {
		t.Fatalf("upstream saw %q after %d grants, want the granted token, granted once", s, grants.Load())
	}
	if strings.Contains(e.logs.String(), "PRIVATE KEY") {
		t.Fatal("the key is in the logs")
	}
}

// The Azure CLI's signed-in user ($AZURE_CREDENTIAL=AzureCliCredential,
// as on a developer's machine after `az login`): the calls carry the
// token `az account get-access-token` gives, asked for once while it is
// fresh; a CLI that is not logged in is the deployment's authentication
// failure, with what it said. A script stands in for the CLI.
func TestAzureWithTheAzureCLI(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	script := `#!/bin/sh
echo "$@" >> ` + calls + `
if [ -f ` + filepath.Join(bin, "logged-out") + ` ]; then
  echo "ERROR: Please run 'az login' to setup account." >&2
  exit 1
fi
echo '{"accessToken":"eyJ-entra-access-token","expires_on":` + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + `,"tokenType":"Bearer"}'
`
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	_, upstream, seen := entraUpstream(t)
	cfg := `
environment_variables: {AZURE_CREDENTIAL: AzureCliCredential, AZURE_TENANT_ID: tenant-1}
litellm_settings: {enable_azure_ad_token_refresh: true}
model_list:
  - model_name: gpt
    litellm_params: {model: azure/gpt-4o, api_base: "` + upstream.URL + `", api_version: "2024-10-21"}
`
	e := newEnv(t, cfg)
	for range 2 {
		if got, _, err := e.chat("gpt"); err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from azure") {
			t.Fatalf("chat: %+v %v\n%s", got, err, e.logs.String())
		}
	}
	asked, _ := os.ReadFile(calls)
	if s := seen(); len(s) != 2 || !strings.Contains(s[1], `authorization="Bearer eyJ-entra-access-token"`) ||
		string(asked) != "account get-access-token --output json --scope https://cognitiveservices.azure.com/.default --tenant tenant-1\n" {
		t.Fatalf("upstream saw %q; the CLI was asked %q", s, asked)
	}
	if err := os.WriteFile(filepath.Join(bin, "logged-out"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, cfg)
	if _, _, err := e.chat("gpt"); err == nil {
		t.Fatal("served with no token")
	}
	if !strings.Contains(e.logs.String(), "the Azure CLI gave no Microsoft Entra ID token (exit status 1): ERROR: Please run 'az login' to setup account.") {
		t.Fatalf("logs:\n%s", e.logs.String())
	}
}

// A federated token asked of GitHub Actions (azure_ad_token:
// oidc/github/<audience>, as LiteLLM reads it) is traded for the app's
// Entra ID token; neither token shows in the logs.
func TestAzureWithGitHubActionsToken(t *testing.T) {
	github := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gh-request-token" || r.URL.Query().Get("audience") != "api://AzureADTokenExchange" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"count":1,"value":"eyJ-github-oidc-token"}`))
	}))
	defer github.Close()
	var grants atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("client_assertion") != "eyJ-github-oidc-token" || r.PostForm.Get("client_id") != "app-1" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found."}`))
			return
		}
		grants.Add(1)
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ-entra-access-token"}`))
	}))
	defer login.Close()
	_, upstream, seen := entraUpstream(t)
	e := newEnv(t, `
environment_variables: {AZURE_AUTHORITY_HOST: "`+login.URL+`", ACTIONS_ID_TOKEN_REQUEST_URL: "`+github.URL+`/token?api-version=2.0",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: gh-request-token}
model_list:
  - model_name: gpt
    litellm_params: {model: azure/gpt-4o, api_base: "`+upstream.URL+`", api_version: "2024-10-21",
      azure_ad_token: oidc/github/api://AzureADTokenExchange, tenant_id: tenant-1, client_id: app-1}
`)
	for range 2 {
		if got, _, err := e.chat("gpt"); err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from azure") {
			t.Fatalf("chat: %+v %v\n%s", got, err, e.logs.String())
		}
	}
	if s := seen(); len(s) != 2 || !strings.Contains(s[1], `authorization="Bearer eyJ-entra-access-token"`) || grants.Load() != 1 {
		t.Fatalf("upstream saw %q after %d grants", s, grants.Load())
	}
	if logs := e.logs.String(); strings.Contains(logs, "eyJ-github-oidc-token") || strings.Contains(logs, "gh-request-token") {
		t.Fatalf("a token in the logs:\n%s", logs)
	}
}

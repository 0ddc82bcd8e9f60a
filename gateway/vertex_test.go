package gateway_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/breakerd/breakerd/mockllm"
)

// googleTokenServer is a Google token endpoint: it checks each signed
// assertion against the service account's public key and its claims,
// and answers a token (or, refusing, invalid_grant).
func googleTokenServer(t *testing.T, pub *rsa.PublicKey, refuse bool, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		parts := strings.Split(r.PostFormValue("assertion"), ".")
		var claims struct{ Iss, Aud, Scope string }
		sig, _ := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(payload, &claims)
		if len(parts) != 3 || rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil || refuse ||
			r.PostFormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || claims.Iss != "breakerd@p.iam.gserviceaccount.com" ||
			claims.Aud != srv.URL+"/token" || claims.Scope != "https://www.googleapis.com/auth/cloud-platform" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serviceAccount writes a service account's key file, whose token_uri is
// a googleTokenServer (refusing, with refuse), and returns its path.
func serviceAccount(t *testing.T, refuse bool, calls *atomic.Int64) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tokens := googleTokenServer(t, &k.PublicKey, refuse, calls)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	key, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "breakerd@p.iam.gserviceaccount.com",
		"private_key_id": "kid1", "token_uri": tokens.URL + "/token", "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile
}

// vertexUpstream is a mock Vertex AI that takes only the token
// googleTokenServer gives.
func vertexUpstream(t *testing.T) (*mockllm.Server, *httptest.Server) {
	t.Helper()
	vertex := mockllm.New(mockllm.Options{Name: "vertex", APIKey: "ya29.test-token"})
	upstream := httptest.NewServer(vertex.Handler())
	t.Cleanup(upstream.Close)
	return vertex, upstream
}

// A Vertex AI deployment's calls carry the token its service account's
// key signs for, traded once and kept; a token endpoint that refuses the
// account is an outage of the deployment (an authentication failure, on
// its breaker), which the request falls back from.
func TestVertexAITokens(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		var calls atomic.Int64
		keyFile := serviceAccount(t, refuse, &calls)
		vertex, upstream := vertexUpstream(t)
		e := newEnv(t, `
model_list:
  - model_name: gemini
    litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: p, api_base: "`+upstream.URL+`/v1", vertex_credentials: "`+keyFile+`"}
  - model_name: gemini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:
  routing_strategy: ordered
  num_retries: 0
`, "b")
		for range 2 {
			got, h, err := e.chat("gemini")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{false: "Hello from vertex", true: "Hello from b"}[refuse]; !strings.Contains(got.Choices[0].Message.Content, want) {
				t.Fatalf("refused %v: %q (%v)", refuse, got.Choices[0].Message.Content, h)
			}
		}
		if !refuse {
			if n := calls.Load(); n != 1 || !strings.Contains(vertex.LastBody(), `"model":"google/gemini-2.5-flash"`) {
				t.Fatalf("%d token trades, want 1; vertex got %s", n, vertex.LastBody())
			}
			continue
		}
		if f := e.breaker("gemini/vertex_ai/google/gemini-2.5-flash:chat").Counts().Failures; f != 2 || vertex.Stats().Requests != 0 {
			t.Fatalf("failures %d, vertex calls %d: want 2 and none", f, vertex.Stats().Requests)
		}
		if strings.Contains(e.logs.String(), "PRIVATE KEY") || !strings.Contains(e.logs.String(), "got no Vertex AI token: 400 Bad Request invalid_grant") {
			t.Fatalf("logs:\n%s", e.logs.String())
		}
	}
}

// Claude on Vertex AI takes Anthropic's API there: chat completions
// (translated, whole and streamed) and the Messages API reach the model's
// rawPredict and streamRawPredict with the service account's token, the
// model in the URL and anthropic_version in the body.
func TestClaudeOnVertexAI(t *testing.T) {
	var calls atomic.Int64
	keyFile := serviceAccount(t, false, &calls)
	vertex, upstream := vertexUpstream(t)
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: vertex_ai/claude-sonnet-4@20250514, vertex_project: p, vertex_location: us-east5, vertex_credentials: "`+keyFile+`",
      api_base: "`+upstream.URL+`/v1/projects/p/locations/us-east5/publishers/anthropic/models"}
`)
	got, _, err := e.chat("claude")
	if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from vertex") || got.Model != "claude-sonnet-4@20250514" {
		t.Fatalf("chat: %+v %v", got, err)
	}
	if text, err := e.chatStream("claude"); err != nil || !strings.Contains(text, "Hello from vertex") {
		t.Fatalf("stream: %q %v", text, err)
	}
	status, _, body := e.post("/v1/messages", `{"model":"claude","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`)
	if content, _ := body["content"].([]any); status != 200 || len(content) == 0 {
		t.Fatalf("messages: %d %v", status, body)
	}
	status, h, body := e.post("/v1/messages/count_tokens", `{"model":"claude","messages":[{"role":"user","content":"hi there"}]}`)
	if status != 200 || body["input_tokens"] == nil || h.Get("X-Breakerd-Estimate") != "" {
		t.Fatalf("count_tokens: %d %v %v", status, h, body)
	}
	if n := calls.Load(); n != 1 || vertex.Stats().Messages != 4 {
		t.Fatalf("%d token trades, %d calls: want 1 and 4", n, vertex.Stats().Messages)
	}
}

// A user's credentials (gcloud's application default credentials, from
// vertex_credentials or where gcloud writes them): the refresh token is
// traded at the token endpoint for the calls' token, once, and the calls
// bill the credentials' quota project; a refresh token Google no longer
// takes says to log in again, and never shows the token.
func TestVertexAIWithAUsersCredentials(t *testing.T) {
	var trades atomic.Int64
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trades.Add(1)
		f := r.PostFormValue
		if f("grant_type") != "refresh_token" || f("client_id") != "adc.apps.googleusercontent.com" || f("client_secret") != "adc-client-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"The OAuth client was not found."}`))
			return
		}
		if f("refresh_token") != "1//adc-refresh-token" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`))
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"ya29.test-token","expires_in":3599,"scope":"https://www.googleapis.com/auth/cloud-platform","token_type":"Bearer"}`))
	}))
	defer tokens.Close()
	var billed atomic.Value
	vertex := mockllm.New(mockllm.Options{Name: "vertex", APIKey: "ya29.test-token"})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		billed.Store(r.Header.Get("X-Goog-User-Project"))
		vertex.Handler().ServeHTTP(w, r)
	}))
	defer upstream.Close()
	for _, refresh := range []string{"1//adc-refresh-token", "1//revoked-refresh-token"} {
		trades.Store(0)
		e := geminiWith(t, upstream.URL, map[string]any{"type": "authorized_user", "client_id": "adc.apps.googleusercontent.com", "client_secret": "adc-client-secret",
			"refresh_token": refresh, "quota_project_id": "billed-proj", "token_uri": tokens.URL + "/token"})
		for range 2 {
			got, _, err := e.chat("gemini")
			if refresh == "1//adc-refresh-token" && (err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from vertex")) {
				t.Fatalf("chat: %+v %v", got, err)
			}
		}
		if refresh == "1//adc-refresh-token" {
			if n := trades.Load(); n != 1 || billed.Load() != "billed-proj" {
				t.Fatalf("%d trades, billed %v: want 1 and billed-proj", n, billed.Load())
			}
			continue
		}
		logs := e.logs.String()
		if strings.Contains(logs, refresh) || !strings.Contains(logs, "the user of gcloud's credentials got no Vertex AI token: 400 Bad Request invalid_grant Token has been expired or revoked. (run `gcloud auth application-default") {
			t.Fatalf("logs:\n%s", logs)
		}
	}
}

// Workload identity federation (an external_account credential): the
// other provider's token, from a file (as Kubernetes projects it) or a
// URL's JSON, is traded at Google's STS, and STS's token for the
// impersonated service account's, which the calls carry; the token is
// renewed only when it is about to expire. A token the STS refuses is the
// deployment's failure, and no token shows in the logs.
func TestVertexAIWithWorkloadIdentityFederation(t *testing.T) {
	const subject, stsToken, saToken = "eyJ.k8s-projected.token", "ya29.sts-federated", "ya29.impersonated-sa"
	var trades, impersonations atomic.Int64
	google := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/token": // STS
			trades.Add(1)
			f := r.PostFormValue
			if f("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" || f("subject_token") != subject ||
				f("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt" || f("scope") != "https://www.googleapis.com/auth/cloud-platform" ||
				f("audience") != "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/k8s" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"The audience or subject token is invalid."}`))
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"` + stsToken + `","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3599}`))
		case "/v1/projects/-/serviceAccounts/vertex@p.iam.gserviceaccount.com:generateAccessToken":
			impersonations.Add(1)
			if r.Header.Get("Authorization") != "Bearer "+stsToken {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied"}}`))
				return
			}
			_, _ = w.Write([]byte(`{"accessToken":"` + saToken + `","expireTime":"2099-01-01T00:00:00Z"}`))
		case "/subject":
			if r.Header.Get("Metadata") != "True" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"` + subject + `"}`))
		}
	}))
	defer google.Close()
	vertex := mockllm.New(mockllm.Options{Name: "vertex", APIKey: saToken})
	upstream := httptest.NewServer(vertex.Handler())
	defer upstream.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(subject+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		source map[string]any
		works  bool
	}{
		{"a file's token", map[string]any{"file": tokenFile}, true},
		{"a URL's JSON", map[string]any{"url": google.URL + "/subject", "headers": map[string]string{"Metadata": "True"},
			"format": map[string]string{"type": "json", "subject_token_field_name": "access_token"}}, true},
		{"a token the STS refuses", map[string]any{"url": google.URL + "/subject", "headers": map[string]string{"Metadata": "True"}}, false},
	} {
		trades.Store(0)
		e := geminiWith(t, upstream.URL, map[string]any{"type": "external_account",
			"audience":           "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/k8s",
			"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": google.URL + "/v1/token",
			"service_account_impersonation_url": google.URL + "/v1/projects/-/serviceAccounts/vertex@p.iam.gserviceaccount.com:generateAccessToken",
			"credential_source":                 tc.source})
		for range 2 {
			got, _, err := e.chat("gemini")
			if tc.works && (err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from vertex")) {
				t.Fatalf("%s: %+v %v", tc.name, got, err)
			}
			if !tc.works && err == nil {
				t.Fatalf("%s: served", tc.name)
			}
		}
		logs := e.logs.String()
		for _, secret := range []string{subject, stsToken, saToken} {
			if strings.Contains(logs, secret) {
				t.Fatalf("%s: the logs show a token:\n%s", tc.name, logs)
			}
		}
		if tc.works && trades.Load() != 1 {
			t.Fatalf("%s: %d trades, want 1", tc.name, trades.Load())
		}
		if !tc.works && !strings.Contains(logs, "Google's STS traded no token for workload identity federation") {
			t.Fatalf("%s: logs:\n%s", tc.name, logs)
		}
	}
	if impersonations.Load() != 2 {
		t.Fatalf("%d impersonations, want one per working credential", impersonations.Load())
	}
}

// geminiWith is an env whose group gemini is Vertex AI at upstream (its
// /v1), with key, a Google credential, as its vertex_credentials file.
func geminiWith(t *testing.T, upstream string, key map[string]any) *env {
	t.Helper()
	data, _ := json.Marshal(key)
	keyFile := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return newEnv(t, `
model_list:
  - model_name: gemini
    litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: p, api_base: "`+upstream+`/v1", vertex_credentials: "`+keyFile+`"}
`)
}

// claudeCodeBetas are anthropic-beta values Claude Code sends, some of
// which only Anthropic's own API takes.
const claudeCodeBetas = "claude-code-20250219,interleaved-thinking-2025-05-14,advanced-tool-use-2025-11-20,prompt-caching-scope-2026-01-05"

// Claude Code's betas reach Claude on Vertex AI and on Bedrock as each
// takes them, not as the 400 each answers a beta it does not know with
// (the mocks, as Google and AWS, refuse Anthropic's own), and Bedrock
// gets no server-side fallback it does not offer.
func TestClaudeCodeBetasOnVertexAIAndBedrock(t *testing.T) {
	keyFile := serviceAccount(t, false, new(atomic.Int64))
	_, vertex := vertexUpstream(t)
	creds := aws.Credentials{AccessKeyID: "AKIDBEDROCKTEST", SecretAccessKey: "bedrock-secret-access-key"}
	_, bedrock := awsUpstream(t, "bedrock", creds, new(atomic.Int64))
	e := newEnv(t, `
model_list:
  - model_name: vertex
    litellm_params: {model: vertex_ai/claude-sonnet-4-5@20250929, vertex_project: p, vertex_location: us-east5, vertex_credentials: "`+keyFile+`",
      api_base: "`+vertex.URL+`/v1/projects/p/locations/us-east5/publishers/anthropic/models"}
  - model_name: bedrock
    litellm_params: {model: bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0, aws_access_key_id: `+creds.AccessKeyID+`,
      aws_secret_access_key: `+creds.SecretAccessKey+`, aws_bedrock_runtime_endpoint: "`+bedrock.URL+`"}
`)
	client := e.anthropicClient()
	for _, model := range []string{"vertex", "bedrock"} {
		msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 64,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}, aoption.WithHeader("anthropic-beta", claudeCodeBetas))
		if err != nil || len(msg.Content) == 0 {
			t.Fatalf("%s: %v", model, err)
		}
	}
	// Anthropic's server-side fallback, which Bedrock does not offer (nor
	// take the key of), is left out there.
	msg, err := client.Beta.Messages.New(context.Background(), anthropic.BetaMessageNewParams{Model: "bedrock", MaxTokens: 64,
		Betas:     []anthropic.AnthropicBeta{anthropic.AnthropicBetaServerSideFallback2026_06_01},
		Fallbacks: anthropic.BetaFallbacksParamUnion{OfBetaFallbackArray: []anthropic.BetaFallbackParam{{Model: "claude-opus-4-8"}}},
		Messages:  []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("hi"))}})
	if err != nil || len(msg.Content) == 0 {
		t.Fatalf("server-side fallback at Bedrock: %v", err)
	}
}

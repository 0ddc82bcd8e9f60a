package config

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// serviceAccountKey returns a service account's key file's JSON, with a
// new RSA key, and the key's type set to typ.
func serviceAccountKey(t *testing.T, typ string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	b, _ := json.Marshal(map[string]string{"type": typ, "client_email": "breakerd@p.iam.gserviceaccount.com", "private_key_id": "kid1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return string(b)
}

// Vertex AI deployments, as LiteLLM configs write them: the model on
// Vertex's OpenAI-compatible API, its address from vertex_project and
// vertex_location (or their variables), and a service account's key
// from vertex_credentials (a file beside the config, the key's JSON, a
// variable) or $GOOGLE_APPLICATION_CREDENTIALS; Claude through
// Anthropic's API there; what breakerd cannot call is left out with a
// warning, and a key that is no key is an error at its line.
func TestVertexAI(t *testing.T) {
	dir := t.TempDir()
	key := serviceAccountKey(t, "service_account")
	if err := os.WriteFile(filepath.Join(dir, "sa.json"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	user := `{"type":"authorized_user","client_id":"x.apps.googleusercontent.com","client_secret":"user-client-secret","refresh_token":"1//user-refresh-token"}`
	if err := os.WriteFile(filepath.Join(dir, "user.json"), []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}
	gcloud := filepath.Join(dir, "home", ".config", "gcloud")
	if err := os.MkdirAll(gcloud, 0o700); err != nil {
		t.Fatal(err)
	}
	adc := `{"type":"authorized_user","client_id":"adc.apps.googleusercontent.com","client_secret":"adc-secret","refresh_token":"1//adc-refresh","quota_project_id":"billed-proj"}`
	if err := os.WriteFile(filepath.Join(gcloud, "application_default_credentials.json"), []byte(adc), 0o600); err != nil {
		t.Fatal(err)
	}
	external := `{"type":"external_account","audience":"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",` +
		`"subject_token_type":"urn:ietf:params:aws:token-type:aws4_request","credential_source":{"environment_id":"aws1","region_url":"http://169.254.169.254/latest/meta-data/placement/availability-zone"}}`
	if err := os.WriteFile(filepath.Join(dir, "external.json"), []byte(external), 0o600); err != nil {
		t.Fatal(err)
	}
	const account = "the service account breakerd@p.iam.gserviceaccount.com"
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o}\n  - model_name: g\n    litellm_params:\n"
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		base       string // the deployment's address; "" when it is left out
		model      string
		says       string // a warning or, with base "error", the error
		who        string // whose key it is (GoogleKey.Who), account unless set
		billed     string // the X-Goog-User-Project the calls carry
	}{
		{name: "a key file beside the config", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: my-proj\n      vertex_location: europe-west4\n      vertex_credentials: sa.json\n",
			base: "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/endpoints/openapi", model: "google/gemini-2.0-flash"},
		{name: "the variables LiteLLM reads", yaml: "      model: vertex_ai/gemini-2.5-pro\n",
			env:  map[string]string{"VERTEXAI_PROJECT": "p2", "GOOGLE_APPLICATION_CREDENTIALS": filepath.Join(dir, "sa.json")},
			base: "https://us-central1-aiplatform.googleapis.com/v1/projects/p2/locations/us-central1/endpoints/openapi", model: "google/gemini-2.5-pro"},
		{name: "the global location, a key in a variable", yaml: "      model: vertex_ai/meta/llama-4\n      vertex_project: p\n      vertex_location: global\n      vertex_credentials: os.environ/SA_JSON\n",
			env: map[string]string{"SA_JSON": key}, base: "https://aiplatform.googleapis.com/v1/projects/p/locations/global/endpoints/openapi", model: "meta/llama-4"},
		{name: "no project", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_credentials: sa.json\n",
			says: "Vertex AI needs a project: vertex_project is not set, nor $VERTEXAI_PROJECT: this deployment is left out of routing"},
		{name: "no key, and the metadata server off", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n", env: map[string]string{"NO_GCE_CHECK": "True"},
			says: "Vertex AI gets no credentials: vertex_credentials is not set, nor $GOOGLE_APPLICATION_CREDENTIALS, nor gcloud's application default credentials, and the metadata server is off ($NO_GCE_CHECK): this deployment is left out of routing"},
		{name: "an unset variable", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n      vertex_credentials: os.environ/NOPE\n",
			says: "vertex_credentials: environment variable NOPE is not set: this deployment is left out of routing"},
		{name: "Claude on Vertex: Anthropic's API there", yaml: "      model: vertex_ai/claude-sonnet-4@20250514\n      vertex_project: p\n      vertex_location: us-east5\n      vertex_credentials: sa.json\n",
			base: "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models", model: "claude-sonnet-4@20250514"},
		{name: "a user's credentials", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n      vertex_credentials: user.json\n",
			base: "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi", model: "google/gemini-2.0-flash",
			who: "the user of gcloud's credentials (OAuth client x.apps.googleusercontent.com)"},
		{name: "gcloud's application default credentials, billing their quota project", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n",
			env:  map[string]string{"HOME": filepath.Join(dir, "home")},
			base: "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi", model: "google/gemini-2.0-flash",
			who: "the user of gcloud's credentials (OAuth client adc.apps.googleusercontent.com)", billed: "billed-proj"},
		{name: "workload identity federation from AWS", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n      vertex_credentials: external.json\n",
			says: `t.yaml:8:7: model_list[1].litellm_params.vertex_credentials: is a workload identity federation credential whose token comes from AWS or a program; breakerd reads one only from a file or a URL (credential_source.file or .url): this deployment is left out of routing`},
		{name: "workload identity federation from a file", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n      vertex_credentials: " +
			"'{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/x\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\",\"credential_source\":{\"file\":\"/var/run/token\"},\"quota_project_id\":\"billed-proj\"}'\n",
			base: "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi", model: "google/gemini-2.0-flash",
			who: "workload identity federation (//iam.googleapis.com/x)", billed: "billed-proj"},
		{name: "a key that is no key", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n      vertex_credentials: '{\"type\":\"service_account\",\"client_email\":\"x@y\",\"private_key\":\"nope\"}'\n",
			base: "error", says: "t.yaml:8:7: model_list[1].litellm_params.vertex_credentials: has a private_key that is not PEM"},
		{name: "a missing file", yaml: "      model: vertex_ai/gemini-2.0-flash\n      vertex_project: p\n      vertex_credentials: nope.json\n",
			base: "error", says: "vertex_credentials: cannot read the service account's key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(dir, "t.yaml"), []byte(head+tc.yaml), env(tc.env))
			if tc.base == "error" {
				if err == nil || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("error %v, want one saying %q", err, tc.says)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Fatal("the error shows the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.base == "" {
				if len(cfg.Deployments) != 1 || !strings.Contains(strings.Join(cfg.Warnings, "\n"), tc.says) {
					t.Fatalf("deployments %d, warnings %v; want g left out saying %q", len(cfg.Deployments), cfg.Warnings, tc.says)
				}
				return
			}
			d := cfg.Deployments[1]
			wantDialect := map[bool]Dialect{false: DialectOpenAI, true: DialectAnthropic}[strings.HasPrefix(tc.model, "claude")]
			if d.APIBase != tc.base || d.Model != tc.model || d.Provider != "vertex_ai" || d.APIKey != "" || d.Dialect != wantDialect {
				t.Fatalf("deployment %s at %s (key %q), want %s at %s", d.Model, d.APIBase, d.APIKey, tc.model, tc.base)
			}
			k, err := ParseGoogleKey(d.GoogleCredentials)
			if err != nil || k.Who() != cmp.Or(tc.who, account) {
				t.Fatalf("key of %q (%v), want %q", k.Who(), err, cmp.Or(tc.who, account))
			}
			if sa := k.Account; sa != nil && (sa.TokenURI != "https://oauth2.googleapis.com/token" || sa.KeyID != "kid1") {
				t.Fatalf("service account %+v", sa)
			}
			if got := d.Headers["X-Goog-User-Project"].Value(); got != tc.billed {
				t.Fatalf("X-Goog-User-Project %q, want %q", got, tc.billed)
			}
			if strings.Contains(d.GoogleCredentials.String(), "PRIVATE") {
				t.Fatal("the key prints")
			}
		})
	}
}

// With no key, a Vertex AI deployment's calls carry the tokens of the
// machine's service account, from its metadata server (GCE, GKE's workload
// identity, Cloud Run), as Google's libraries do, with a warning.
func TestVertexAIMetadataServer(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://metadata.google.internal"},
		{map[string]string{"GCE_METADATA_HOST": "169.254.169.254"}, "http://169.254.169.254"},
	} {
		cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: g\n    litellm_params: {model: vertex_ai/gemini-2.5-pro, vertex_project: p}\n"), env(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		d := cfg.Deployments[0]
		if d.GoogleMetadata != tc.want || d.GoogleCredentials != "" ||
			!strings.Contains(strings.Join(cfg.Warnings, "\n"), "its calls carry the tokens of the machine's service account, from the metadata server ("+tc.want+")") {
			t.Fatalf("metadata %q, warnings %q", d.GoogleMetadata, cfg.Warnings)
		}
	}
}

// Gemini on Vertex AI (named google/<model> by Vertex's OpenAI-compatible
// API) has Google's list price, as through the Gemini API: least-cost
// weighs it and budgets are charged for it without configured prices.
func TestGeminiOnVertexIsPriced(t *testing.T) {
	for _, model := range []string{"gemini-2.5-pro", "gemini-2.5-flash", "gemini-3.1-pro-preview"} {
		cfg, err := Parse("t.yaml", []byte("model_list:\n  - model_name: v\n    litellm_params: {model: vertex_ai/"+model+", vertex_project: p, vertex_location: us-central1}\n"+
			"  - model_name: g\n    litellm_params: {model: gemini/"+model+", api_key: g-0123456789}\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		v, g := cfg.Deployments[0], cfg.Deployments[1]
		if !v.Priced || v.InputCostPerToken == 0 || v.InputCostPerToken != g.InputCostPerToken || v.OutputCostPerToken != g.OutputCostPerToken ||
			v.CacheReadCostPerToken != g.CacheReadCostPerToken || !reflect.DeepEqual(v.LongContext, g.LongContext) {
			t.Fatalf("%s: vertex priced %v at %+v; gemini %v at %+v", model, v.Priced, v, g.Priced, g)
		}
	}
}

package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
)

// entraTokenServer is a tenant's token endpoint (/<tenant>/oauth2/v2.0/token),
// as Microsoft's identity platform documents it: it checks each grant's
// form with check, and answers a token (access-N for the Nth) or Entra
// ID's error.
func entraTokenServer(t *testing.T, check func(form url.Values) string, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/tenant-1/oauth2/v2.0/token" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_ = r.ParseForm()
		if r.PostForm.Get("scope") != config.EntraScope {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' is not valid."}`))
			return
		}
		if why := check(r.PostForm); why != "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"` + why + `","error_codes":[7000215]}`))
			return
		}
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"access-` + string(rune('0'+n)) + `"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Each of Entra ID's grants sends what Microsoft's identity platform
// documents for it (client credentials with a secret or a federated
// token's assertion, a user's password); a refusal is the deployment's
// authentication failure, and says Entra ID's reason without the secret.
func TestEntraIDGrants(t *testing.T) {
	fed := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(fed, []byte("eyJ-federated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		entra config.Entra
		want  url.Values
	}{
		{name: "a client secret", entra: config.Entra{ClientID: "app-1", ClientSecret: "secret-value-1"},
			want: url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-1"}, "client_secret": {"secret-value-1"}}},
		{name: "a federated token", entra: config.Entra{ClientID: "app-2", AssertionFile: fed},
			want: url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-2"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"eyJ-federated"}}},
		{name: "a federated token given", entra: config.Entra{ClientID: "app-2", Assertion: "eyJ-given"},
			want: url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-2"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"eyJ-given"}}},
		{name: "a user's password", entra: config.Entra{ClientID: "app-3", Username: "bot@example.com", Password: "user-password-1"},
			want: url.Values{"grant_type": {"password"}, "client_id": {"app-3"}, "username": {"bot@example.com"}, "password": {"user-password-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, refuse := range []bool{false, true} {
				var calls atomic.Int64
				srv := entraTokenServer(t, func(form url.Values) string {
					for k := range tc.want {
						if form.Get(k) != tc.want.Get(k) {
							return "AADSTS7000215: Invalid client secret provided (" + k + ")."
						}
					}
					if len(form) != len(tc.want)+1 { // and scope
						return "AADSTS900144: unexpected fields"
					}
					if refuse {
						return "AADSTS7000222: The provided client secret keys for app are expired."
					}
					return ""
				}, &calls)
				e := tc.entra
				e.TokenURL, e.Scope, e.How = srv.URL+"/tenant-1/oauth2/v2.0/token", config.EntraScope, "test"
				tokens := newEntraTokens(config.Deployment{Entra: &e}, http.DefaultTransport, &learned{secrets: []string{e.ClientSecret.Value(), e.Password.Value()}})
				tok, err := tokens.Token(context.Background())
				if refuse {
					var pe *Error
					if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || pe.Code != "invalid_client" ||
						!strings.Contains(pe.Message, "Microsoft Entra ID gave no token (test): 401 invalid_client: AADSTS7000222: The provided client secret keys for app are expired.") {
						t.Fatalf("refused: %v", err)
					}
					continue
				}
				if err != nil || tok != "access-1" {
					t.Fatalf("token %q, %v", tok, err)
				}
			}
		})
	}
}

// A granted token is kept until five minutes before it expires; then a
// new one is granted, for the federated token the file holds by then
// (workload identity's tokens rotate).
func TestEntraIDTokensAreRenewedBeforeTheyExpire(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	fed := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(fed, []byte("eyJ-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	var last atomic.Value
	srv := entraTokenServer(t, func(form url.Values) string { last.Store(form.Get("client_assertion")); return "" }, &calls)
	now := t0
	scrub := &learned{}
	tokens := newEntraTokens(config.Deployment{Entra: &config.Entra{TokenURL: srv.URL + "/tenant-1/oauth2/v2.0/token", ClientID: "app",
		AssertionFile: fed, Scope: config.EntraScope}}, http.DefaultTransport, scrub)
	tokens.now = func() time.Time { return now }
	for _, step := range []struct {
		at     time.Duration
		rotate string
		want   string
	}{
		{0, "", "access-1"},
		{54 * time.Minute, "", "access-1"},      // kept: expires at 59:59
		{55 * time.Minute, "eyJ-2", "access-2"}, // within five minutes: granted again, for the rotated token
	} {
		now = t0.Add(step.at)
		if step.rotate != "" {
			if err := os.WriteFile(fed, []byte(step.rotate), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if tok, err := tokens.Token(context.Background()); err != nil || tok != step.want {
			t.Fatalf("at %v: %q, %v; want %s", step.at, tok, err, step.want)
		}
	}
	if last.Load() != "eyJ-2" {
		t.Errorf("the last grant was for %q, want the rotated token", last.Load())
	}
	// Each token granted is scrubbed from what leaves breakerd.
	if told := scrub.toldOf(); !slices.Equal(told, []string{"access-1", "access-2"}) {
		t.Errorf("the scrubber was told %q, want each token", told)
	}
}

// The machine's managed identity: the instance metadata service (with
// Metadata: true, its token's lifetime a string) and App Service's
// endpoint (with its header, and expires_on), each asked for Azure AI
// services' resource, and for a user-assigned identity's client_id when
// set. Off Azure the call is bounded, and fails as a connection does.
func TestManagedIdentityTokens(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("resource") != "https://cognitiveservices.azure.com" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal was not found."}`))
			return
		}
		switch {
		case r.URL.Path == "/metadata/identity/oauth2/token" && r.Header.Get("Metadata") == "true" && q.Get("api-version") == "2018-02-01":
			if q.Get("client_id") != "" && q.Get("client_id") != "mi-1" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Identity not found"}`))
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"imds-token","expires_in":"86399","expires_on":"1796383599","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}`))
		case r.URL.Path == "/msi/token" && r.Header.Get("X-Identity-Header") == "identity-header-1" && q.Get("api-version") == "2019-08-01":
			_, _ = w.Write([]byte(`{"access_token":"app-service-token","expires_on":"1796385600","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"no header"}`))
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name  string
		entra config.Entra
		want  string
		err   string
	}{
		{name: "the instance metadata service", entra: config.Entra{ManagedIdentity: srv.URL + "/metadata/identity/oauth2/token"}, want: "imds-token"},
		{name: "a user-assigned identity", entra: config.Entra{ManagedIdentity: srv.URL + "/metadata/identity/oauth2/token", ClientID: "mi-1"}, want: "imds-token"},
		{name: "an identity not assigned", entra: config.Entra{ManagedIdentity: srv.URL + "/metadata/identity/oauth2/token", ClientID: "mi-2"},
			err: "the managed identity gave no token: 400 invalid_request Identity not found"},
		{name: "App Service's endpoint", entra: config.Entra{ManagedIdentity: srv.URL + "/msi/token", IdentityHeader: "identity-header-1"}, want: "app-service-token"},
		{name: "App Service's endpoint, with a wrong header", entra: config.Entra{ManagedIdentity: srv.URL + "/msi/token", IdentityHeader: "stale"},
			err: "the managed identity gave no token: 401  no header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.entra
			e.Scope = config.EntraScope
			tokens := newEntraTokens(config.Deployment{Entra: &e}, http.DefaultTransport, &learned{})
			tokens.now = func() time.Time { return t0 }
			tok, err := tokens.Token(context.Background())
			if tc.err != "" {
				var pe *Error
				if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || !strings.Contains(pe.Message, tc.err) {
					t.Fatalf("got %q, %v; want an error saying %q", tok, err, tc.err)
				}
				return
			}
			if err != nil || tok != tc.want {
				t.Fatalf("got %q, %v; want %s", tok, err, tc.want)
			}
			// Kept for its lifetime, whichever way it was given.
			if !tokens.token.expiry.After(t0.Add(23 * time.Hour)) {
				t.Errorf("expires at %v, want a day from %v", tokens.token.expiry, t0)
			}
		})
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	tokens := newEntraTokens(config.Deployment{Entra: &config.Entra{ManagedIdentity: hang.URL, Scope: config.EntraScope}}, http.DefaultTransport, &learned{})
	tokens.wait = time.Millisecond // not a second of the test's
	var pe *Error
	if _, err := tokens.Token(context.Background()); !errors.As(err, &pe) || pe.Status == http.StatusUnauthorized {
		t.Errorf("off Azure: %v, want a connection error", err)
	}
}

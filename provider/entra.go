package provider

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/breakerd/breakerd/config"
)

// bearerTokens gives each call's Authorization: Bearer token, where a
// deployment's calls carry a token that expires in place of a key
// (Vertex AI's, Microsoft Entra ID's).
type bearerTokens interface {
	Token(ctx context.Context) (string, error)
}

// entraTokens gets a deployment's Microsoft Entra ID tokens, as Azure's
// identity libraries do: from the tenant's token endpoint (for a client's
// secret, a federated token or a user's password) or the machine's
// managed identity, kept until five minutes before they expire.
type entraTokens struct {
	e      *config.Entra
	rt     http.RoundTripper
	redact func(string) string
	now    func() time.Time
	token  *renewed[string]
	// wait bounds a call to the managed identity's endpoint
	// (managedIdentityTimeout).
	wait time.Duration
	// learn is told a fetched federated token, to scrub it too.
	learn func(string)
}

// managedIdentityTimeout bounds a call to the managed identity's
// endpoint: off Azure, the instance metadata service's address answers
// nothing.
const managedIdentityTimeout = 3 * time.Second

// newEntraTokens returns the token source of a deployment that
// authenticates with Microsoft Entra ID; nil for another.
func newEntraTokens(d config.Deployment, rt http.RoundTripper, s Scrubber) *entraTokens {
	if d.Entra == nil {
		return nil
	}
	return &entraTokens{e: d.Entra, rt: rt, redact: s.Redact, now: time.Now, token: newRenewed(learnToken(s)), wait: managedIdentityTimeout,
		learn: learnToken(s)}
}

// Token returns an access token: the one given, or one fetched when there
// is none or it expires within five minutes. A refused fetch is an *Error
// with status 401 (the credential or its rights are wrong: an outage of
// this deployment, as a revoked key is); a failed one, a connection
// error.
func (t *entraTokens) Token(ctx context.Context) (string, error) {
	if t.e.Token != "" {
		return t.e.Token.Value(), nil
	}
	return t.token.get(ctx, t.now(), 5*time.Minute, "a Microsoft Entra ID token", t.redact, t.fetch)
}

// entraAnswer is a token endpoint's answer, or a managed identity
// endpoint's: those give expires_in (the instance metadata service) or
// expires_on (App Service) as strings of seconds.
type entraAnswer struct {
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	ExpiresOn   json.RawMessage `json:"expires_on"`
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
	Message     string          `json:"message"` // App Service's
}

// expiry is when the answer's token expires: expires_in from now, else
// expires_on, else in an hour (as Entra ID's tokens do at the least).
func (a entraAnswer) expiry(now time.Time) time.Time {
	seconds := func(raw json.RawMessage) int64 {
		n, _ := strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 64)
		return n
	}
	if n := seconds(a.ExpiresIn); n > 0 {
		return now.Add(time.Duration(n) * time.Second)
	}
	if n := seconds(a.ExpiresOn); n > 0 {
		return time.Unix(n, 0)
	}
	return now.Add(time.Hour)
}

func (t *entraTokens) fetch(ctx context.Context, now time.Time) (string, time.Time, error) {
	if t.e.ManagedIdentity != "" {
		return t.managedIdentity(ctx, now)
	}
	if t.e.AzureCLI != "" {
		return t.azureCLI(ctx, now)
	}
	form := url.Values{"client_id": {t.e.ClientID}, "scope": {t.e.Scope}}
	switch {
	case t.e.ClientSecret != "":
		form.Set("grant_type", "client_credentials")
		form.Set("client_secret", t.e.ClientSecret.Value())
	case t.e.Password != "":
		form.Set("grant_type", "password")
		form.Set("username", t.e.Username)
		form.Set("password", t.e.Password.Value())
	default:
		assertion := t.e.Assertion.Value()
		if c := t.e.Certificate; c != nil {
			signed, err := certificateAssertion(c, t.e.ClientID, t.e.TokenURL, now)
			if err != nil {
				return "", time.Time{}, &Error{Err: err, Message: "sign the client certificate's assertion: " + err.Error()}
			}
			assertion = signed
		}
		if u := t.e.AssertionURL; u != nil {
			tok, err := fetchToken(ctx, t.rt, u)
			if err != nil {
				return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
					Message: t.redact("get the federated token: " + err.Error())}
			}
			t.learn(tok)
			assertion = tok
		}
		if t.e.AssertionFile != "" {
			b, err := os.ReadFile(t.e.AssertionFile) // read each time: it rotates
			if err != nil {
				return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
					Message: "read the federated token: " + err.Error()}
			}
			assertion = strings.TrimSpace(string(b))
		}
		form.Set("grant_type", "client_credentials")
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.e.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, &Error{Err: err, Message: "build the token request: " + t.redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Entra ID's description (AADSTS7000215: Invalid client secret
	// provided...) says what is wrong, and never echoes the secret.
	return t.answer(ctx, req, now, "get a Microsoft Entra ID token", func(a entraAnswer, status int) string {
		return fmt.Sprintf("Microsoft Entra ID gave no token (%s): %d %s: %s", t.e.How, status, a.Error, a.Description)
	})
}

// answer sends a token request and reads its answer: the token and when
// it expires, or, refused, an *Error with status 401 and refusal's
// message.
func (t *entraTokens) answer(ctx context.Context, req *http.Request, now time.Time, what string,
	refusal func(a entraAnswer, status int) string) (string, time.Time, error) {
	data, status, err := credentialExchange(ctx, t.rt, t.redact, req, what)
	if err != nil {
		return "", time.Time{}, err
	}
	var a entraAnswer
	_ = json.Unmarshal(data, &a)
	if status >= 300 || a.AccessToken == "" {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error", Code: a.Error,
			Message: t.redact(refusal(a, status))}
	}
	return a.AccessToken, a.expiry(now), nil
}

// managedIdentity asks the machine's managed identity for a token: the
// instance metadata service (Metadata: true), or App Service's endpoint
// (its X-IDENTITY-HEADER).
func (t *entraTokens) managedIdentity(ctx context.Context, now time.Time) (string, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, t.wait)
	defer cancel()
	q := url.Values{"resource": {strings.TrimSuffix(t.e.Scope, "/.default")}, "api-version": {"2018-02-01"}}
	if t.e.IdentityHeader != "" {
		q.Set("api-version", "2019-08-01")
	}
	if t.e.ClientID != "" {
		q.Set("client_id", t.e.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.e.ManagedIdentity+"?"+q.Encode(), nil)
	if err != nil {
		return "", time.Time{}, &Error{Err: err, Message: "build the managed identity request: " + t.redact(err.Error())}
	}
	if t.e.IdentityHeader != "" {
		req.Header.Set("X-IDENTITY-HEADER", t.e.IdentityHeader.Value())
	} else {
		req.Header.Set("Metadata", "true")
	}
	return t.answer(ctx, req, now, "get a token of the managed identity", func(a entraAnswer, status int) string {
		return fmt.Sprintf("the managed identity gave no token: %d %s %s%s (is an identity assigned to the machine, with access to the resource?)",
			status, a.Error, a.Description, a.Message)
	})
}

// certificateAssertion is the JWT an app's client certificate signs to ask
// for a token, as Microsoft's libraries make it: for the token endpoint
// (aud), from and about the app (iss, sub), valid for ten minutes, and
// naming the certificate by its thumbprint (x5t).
func certificateAssertion(c *config.EntraCertificate, clientID, tokenURL string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(c.Thumbprint)})
	claims, _ := json.Marshal(map[string]any{"aud": tokenURL, "iss": clientID, "sub": clientID, "jti": hex.EncodeToString(jti[:]),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// azureCLITimeout bounds a call to the Azure CLI, which can take seconds
// to start and to refresh its own token.
const azureCLITimeout = 30 * time.Second

// azureCLI asks the Azure CLI for its signed-in user's token, as Azure's
// AzureCliCredential does. Its own error (not logged in, no access) is
// the deployment's authentication failure, with what it said.
func (t *entraTokens) azureCLI(ctx context.Context, now time.Time) (string, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, azureCLITimeout)
	defer cancel()
	args := []string{"account", "get-access-token", "--output", "json", "--scope", t.e.Scope}
	if t.e.Tenant != "" {
		args = append(args, "--tenant", t.e.Tenant)
	}
	cmd := exec.CommandContext(ctx, t.e.AzureCLI, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		said := strings.TrimSpace(stderr.String())
		if len(said) > 500 {
			said = said[:500]
		}
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: t.redact(fmt.Sprintf("the Azure CLI gave no Microsoft Entra ID token (%v): %s", err, cmp.Or(said, "it said nothing")))}
	}
	var a struct {
		AccessToken string `json:"accessToken"`
		ExpiresOn   int64  `json:"expires_on"` // newer versions: Unix time
		ExpiresAt   string `json:"expiresOn"`  // older ones: local time
	}
	if json.Unmarshal(out, &a) != nil || a.AccessToken == "" {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: "the Azure CLI's answer holds no token"}
	}
	expires := now.Add(time.Hour)
	if a.ExpiresOn > 0 {
		expires = time.Unix(a.ExpiresOn, 0)
	} else if at, err := time.ParseInLocation("2006-01-02 15:04:05.999999", a.ExpiresAt, time.Local); err == nil {
		expires = at
	}
	return a.AccessToken, expires, nil
}

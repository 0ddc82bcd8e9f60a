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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/breakerd/breakerd/config"
)

// googleTokens gets a service account's OAuth tokens, for Vertex AI's
// calls, as Google's client libraries do: a JWT the account's key signs
// (RS256), traded at the key's token_uri for an access token, which is
// kept until a minute before it expires (renewed).
type googleTokens struct {
	sa *config.ServiceAccount
	// user, when set, is a user's credentials (gcloud's), whose refresh
	// token is traded for access tokens.
	user *config.GoogleUser
	// ext, when set, is workload identity federation's: another identity
	// provider's token traded at Google's STS (federated).
	ext *config.GoogleExternal
	// learn is told the tokens met on the way to an access token (the
	// subject token, STS's), to scrub them too.
	learn func(string)
	// metadata, when sa and user are nil, is the metadata server that
	// gives the machine's service account's tokens.
	metadata string
	rt       http.RoundTripper
	redact   func(string) string
	token    *renewed[string]
	// wait bounds a call to the metadata server (metadataTimeout).
	wait time.Duration
}

// metadataTimeout bounds a call to the metadata server, as Google's
// libraries bound theirs: off Google Cloud its name resolves to nothing,
// or to an address that answers nothing.
const metadataTimeout = 3 * time.Second

// cloudPlatformScope is the scope Vertex AI's calls need.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// newGoogleTokens returns the token source of a deployment's service
// account's key or metadata server, nil (and no error) for a deployment
// with neither.
func newGoogleTokens(d config.Deployment, rt http.RoundTripper, s Scrubber) (*googleTokens, error) {
	creds := d.GoogleCredentials
	if creds == "" {
		if d.GoogleMetadata == "" {
			return nil, nil
		}
		return &googleTokens{metadata: d.GoogleMetadata, rt: rt, redact: s.Redact, token: newRenewed(learnToken(s)), wait: metadataTimeout}, nil
	}
	k, err := config.ParseGoogleKey(creds)
	if err != nil {
		return nil, fmt.Errorf("vertex_credentials %w", err)
	}
	return &googleTokens{sa: k.Account, user: k.User, ext: k.External, learn: learnToken(s), rt: rt, redact: s.Redact,
		token: newRenewed(learnToken(s))}, nil
}

// learnToken tells s each token fetched.
func learnToken(s Scrubber) func(string) { return func(token string) { s.Add(token) } }

// Token returns an access token, trading a new assertion for one when
// there is none or it is about to expire. A refused trade is an *Error
// with status 401 (the account's key or rights are wrong: an outage of
// this deployment, as a revoked API key is); a failed one, a connection
// error.
func (g *googleTokens) Token(ctx context.Context) (string, error) {
	return g.token.get(ctx, time.Now(), time.Minute, "a Vertex AI token", g.redact, g.trade)
}

// trade trades a new assertion, or the user's refresh token, for a
// token, or asks the metadata server for one.
func (g *googleTokens) trade(ctx context.Context, now time.Time) (string, time.Time, error) {
	var form url.Values
	tokenURI, who := "", ""
	switch {
	case g.user != nil:
		form = url.Values{"grant_type": {"refresh_token"}, "client_id": {g.user.ClientID}, "client_secret": {g.user.ClientSecret.Value()},
			"refresh_token": {g.user.RefreshToken.Value()}}
		tokenURI, who = g.user.TokenURI, "the user of gcloud's credentials"
	case g.ext != nil:
		return g.federated(ctx, now)
	case g.sa != nil:
		assertion, err := g.assertion(now)
		if err != nil {
			return "", time.Time{}, &Error{Err: err, Message: "sign the service account's token request: " + err.Error()}
		}
		form = url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
		tokenURI, who = g.sa.TokenURI, "the service account "+g.sa.Email
	default:
		return g.fromMetadata(ctx, now)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, &Error{Err: err, Message: "build the token request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := g.rt.RoundTrip(req)
	if err != nil {
		e := transportError(ctx, err, g.redact)
		e.Message = "get a Vertex AI token: " + e.Message
		return "", time.Time{}, e
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &tok)
	switch {
	case resp.StatusCode >= 500:
		return "", time.Time{}, &Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("get a Vertex AI token: the token endpoint answered %s", resp.Status)}
	case resp.StatusCode >= 300 || tok.AccessToken == "":
		msg := fmt.Sprintf("%s got no Vertex AI token: %s %s %s", who, resp.Status, tok.Error, tok.Description)
		if g.user != nil && tok.Error == "invalid_grant" {
			msg += " (run `gcloud auth application-default login` again)"
		}
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error", Message: g.redact(msg)}
	}
	return tok.AccessToken, now.Add(time.Duration(max(tok.ExpiresIn, 60)) * time.Second), nil
}

// assertion is the signed JWT that asks for a token for the account.
func (g *googleTokens) assertion(now time.Time) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": g.sa.KeyID})
	claims, _ := json.Marshal(map[string]any{"iss": g.sa.Email, "scope": cloudPlatformScope, "aud": g.sa.TokenURI,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, g.sa.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// fromMetadata asks the metadata server for a token of the machine's
// default service account.
func (g *googleTokens) fromMetadata(ctx context.Context, now time.Time) (string, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.metadata+"/computeMetadata/v1/instance/service-accounts/default/token", nil)
	if err != nil {
		return "", time.Time{}, &Error{Err: err, Message: "build the metadata request: " + err.Error()}
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := g.rt.RoundTrip(req)
	if err != nil {
		e := transportError(ctx, err, g.redact)
		e.Message = "get a Vertex AI token from the metadata server: " + e.Message
		return "", time.Time{}, e
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 || json.Unmarshal(data, &tok) != nil || tok.AccessToken == "" {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: fmt.Sprintf("the metadata server gave no Vertex AI token: %s (is a service account attached to the machine?)", resp.Status)}
	}
	return tok.AccessToken, now.Add(time.Duration(max(tok.ExpiresIn, 60)) * time.Second), nil
}

// federated gets a token by workload identity federation, as Google's
// libraries do: the subject token (a file's, or a URL's) traded at the
// STS for an access token, and that, with an impersonation URL, for the
// service account's.
func (g *googleTokens) federated(ctx context.Context, now time.Time) (string, time.Time, error) {
	e := g.ext
	subject, err := g.subjectToken(ctx)
	if err != nil {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: g.redact("workload identity federation has no token to trade: " + err.Error())}
	}
	g.learn(subject)
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "audience": {e.Audience},
		"scope": {cloudPlatformScope}, "requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token_type": {e.SubjectTokenType}, "subject_token": {subject}}
	var sts struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := g.post(ctx, e.TokenURL, "application/x-www-form-urlencoded", "", []byte(form.Encode()), &sts); err != nil {
		return "", time.Time{}, err
	}
	if sts.AccessToken == "" {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: g.redact(fmt.Sprintf("Google's STS traded no token for workload identity federation (%s): %s %s", e.Audience, sts.Error, sts.Description))}
	}
	expires := now.Add(time.Duration(max(sts.ExpiresIn, 60)) * time.Second)
	if e.ImpersonationURL == "" {
		return sts.AccessToken, expires, nil
	}
	g.learn(sts.AccessToken)
	body, _ := json.Marshal(map[string]any{"scope": []string{cloudPlatformScope}, "lifetime": "3600s"})
	var sa struct {
		AccessToken string    `json:"accessToken"`
		ExpireTime  time.Time `json:"expireTime"`
		Error       struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := g.post(ctx, e.ImpersonationURL, "application/json", sts.AccessToken, body, &sa); err != nil {
		return "", time.Time{}, err
	}
	if sa.AccessToken == "" {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: g.redact("the federated identity may not impersonate the service account: " + sa.Error.Message)}
	}
	return sa.AccessToken, cmp.Or(sa.ExpireTime, now.Add(time.Hour)), nil
}

// subjectToken reads the other identity provider's token: a file's, or
// a URL's answer (fetchToken).
func (g *googleTokens) subjectToken(ctx context.Context) (string, error) {
	if g.ext.URL != nil {
		return fetchToken(ctx, g.rt, g.ext.URL)
	}
	data, err := os.ReadFile(g.ext.File)
	if err != nil {
		return "", err
	}
	if t := strings.TrimSpace(string(data)); t != "" {
		return t, nil
	}
	return "", errors.New("it is empty")
}

// post sends body to u (with bearer as its Authorization, when set) and
// reads the JSON answer into out. An answer of 5xx is the deployment's
// 502; of 4xx, out holds what it said.
func (g *googleTokens) post(ctx context.Context, u, ctype, bearer string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &Error{Err: err, Message: "build the token request: " + err.Error()}
	}
	req.Header.Set("Content-Type", ctype)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := g.rt.RoundTrip(req)
	if err != nil {
		e := transportError(ctx, err, g.redact)
		e.Message = "get a Vertex AI token: " + e.Message
		return e
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("get a Vertex AI token: %s answered %s", req.URL.Host, resp.Status)}
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(data, out)
	return nil
}

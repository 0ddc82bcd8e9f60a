package provider

import (
	"context"
	"encoding/json"
	"encoding/xml"
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

// awsKeys gives the AWS key a deployment's calls to AWS are signed with:
// its own, or one assumed from a role (AWS STS) or served by its
// container (ECS, EKS Pod Identity) or its EC2 instance's metadata
// service, kept until five minutes before it expires, as AWS's SDKs keep
// theirs.
type awsKeys struct {
	a      *config.AWSAuth
	rt     http.RoundTripper
	redact func(string) string
	now    func() time.Time
	key    *renewed[config.AWSKey]
	// imds bounds each call to the instance metadata service (imdsTimeout).
	imds time.Duration
	// learn is told a fetched web identity token, to scrub it too.
	learn func(string)
}

// newAWSKeys returns the key source of a deployment whose calls to AWS
// are signed (Bedrock's, SageMaker's); nil for one that calls with a
// Bedrock API key, or not AWS.
func newAWSKeys(d config.Deployment, rt http.RoundTripper, s Scrubber) *awsKeys {
	a := d.AWSAuth()
	if a == nil || d.APIKey != "" {
		return nil
	}
	learn := func(k config.AWSKey) { s.Add(k.ID.Value(), k.Secret.Value(), k.SessionToken.Value()) }
	return &awsKeys{a: a, rt: rt, redact: s.Redact, now: time.Now, key: newRenewed(learn), imds: imdsTimeout, learn: learnToken(s)}
}

// Key returns the key to sign a call with. A refused fetch is an *Error
// with status 401: the deployment's authentication failure, on its
// breaker.
func (k *awsKeys) Key(ctx context.Context) (config.AWSKey, error) {
	if k.a.Role == nil && k.a.Container == nil && k.a.Instance == "" {
		return k.a.Key, nil
	}
	return k.key.get(ctx, k.now(), 5*time.Minute, "AWS credentials", k.redact, k.fetch)
}

func (k *awsKeys) fetch(ctx context.Context, now time.Time) (config.AWSKey, time.Time, error) {
	switch {
	case k.a.Container != nil:
		return k.container(ctx)
	case k.a.Instance != "":
		return k.instance(ctx)
	}
	return k.assume(ctx, now)
}

// imdsTimeout bounds each call to the instance metadata service, as AWS's
// SDKs bound theirs: off EC2 its address answers nothing, and a
// deployment's calls should fail fast there, not wait out a connection.
const imdsTimeout = time.Second

// instance asks the EC2 instance metadata service (IMDSv2) for the keys
// of the instance's role: a session token (PUT), the role's name, then
// its keys.
func (k *awsKeys) instance(ctx context.Context) (config.AWSKey, time.Time, error) {
	get := func(method, path string, header http.Header) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, k.imds)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, k.a.Instance+path, nil)
		if err != nil {
			return nil, &Error{Err: err, Message: "build the instance metadata request: " + err.Error()}
		}
		req.Header = header
		data, status, err := credentialExchange(ctx, k.rt, k.redact, req, "ask the instance metadata service for the instance's role")
		if err == nil && status >= 300 {
			err = &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
				Message: fmt.Sprintf("the instance metadata service answered %d to %s %s: is an IAM role attached to the instance?", status, method, path)}
		}
		return data, err
	}
	token, err := get(http.MethodPut, "/latest/api/token", http.Header{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": {"21600"}})
	if err != nil {
		return config.AWSKey{}, time.Time{}, err
	}
	auth := http.Header{"X-Aws-Ec2-Metadata-Token": {string(token)}}
	role, err := get(http.MethodGet, "/latest/meta-data/iam/security-credentials/", auth)
	if err != nil {
		return config.AWSKey{}, time.Time{}, err
	}
	name, _, _ := strings.Cut(strings.TrimSpace(string(role)), "\n")
	data, err := get(http.MethodGet, "/latest/meta-data/iam/security-credentials/"+url.PathEscape(name), auth)
	if err != nil {
		return config.AWSKey{}, time.Time{}, err
	}
	var out struct {
		Code            string    `json:"Code"`
		AccessKeyID     string    `json:"AccessKeyId"`
		SecretAccessKey string    `json:"SecretAccessKey"`
		Token           string    `json:"Token"`
		Expiration      time.Time `json:"Expiration"`
	}
	if json.Unmarshal(data, &out) != nil || out.AccessKeyID == "" {
		return config.AWSKey{}, time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: k.redact(fmt.Sprintf("the instance metadata service gave no key for the role %s (%s)", name, out.Code))}
	}
	return config.AWSKey{ID: config.Secret(out.AccessKeyID), Secret: config.Secret(out.SecretAccessKey), SessionToken: config.Secret(out.Token)},
		out.Expiration, nil
}

// assume asks STS for the role's keys: AssumeRole signed with the
// deployment's key, or AssumeRoleWithWebIdentity with the token.
func (k *awsKeys) assume(ctx context.Context, now time.Time) (config.AWSKey, time.Time, error) {
	r := k.a.Role
	form := url.Values{"Version": {"2011-06-15"}, "RoleArn": {r.ARN}, "RoleSessionName": {r.SessionName}}
	action := "AssumeRoleWithWebIdentity"
	switch {
	case r.WebIdentityToken != "":
		form.Set("WebIdentityToken", r.WebIdentityToken.Value())
	case r.WebIdentityURL != nil:
		tok, err := fetchToken(ctx, k.rt, r.WebIdentityURL)
		if err != nil {
			return config.AWSKey{}, time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
				Message: k.redact("get the web identity token: " + err.Error())}
		}
		k.learn(tok)
		form.Set("WebIdentityToken", tok)
	case r.WebIdentityTokenFile != "":
		tok, err := os.ReadFile(r.WebIdentityTokenFile) // read each time: it rotates
		if err != nil {
			return config.AWSKey{}, time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
				Message: "read the web identity token: " + err.Error()}
		}
		form.Set("WebIdentityToken", strings.TrimSpace(string(tok)))
	default:
		action = "AssumeRole"
	}
	form.Set("Action", action)
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.STSEndpoint+"/", strings.NewReader(string(body)))
	if err != nil {
		return config.AWSKey{}, time.Time{}, &Error{Err: err, Message: "build the STS request: " + k.redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if action == "AssumeRole" {
		awsSigner{key: k.a.Key, region: k.a.Region, service: "sts"}.sign(req, body, now)
	}
	data, status, err := credentialExchange(ctx, k.rt, k.redact, req, "assume "+r.ARN)
	if err != nil {
		return config.AWSKey{}, time.Time{}, err
	}
	var out struct {
		Creds  stsCredentials `xml:"AssumeRoleResult>Credentials"`
		WebID  stsCredentials `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
		Errors struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	}
	_ = xml.Unmarshal(data, &out)
	c := out.Creds
	if action != "AssumeRole" {
		c = out.WebID
	}
	if status >= 300 || c.AccessKeyID == "" {
		return config.AWSKey{}, time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error", Code: out.Errors.Code,
			Message: k.redact(fmt.Sprintf("AWS STS did not let breakerd assume %s: %d %s: %s", r.ARN, status, out.Errors.Code, out.Errors.Message))}
	}
	return config.AWSKey{ID: config.Secret(c.AccessKeyID), Secret: config.Secret(c.SecretAccessKey), SessionToken: config.Secret(c.SessionToken)},
		c.Expiration, nil
}

// stsCredentials are the keys in an STS answer.
type stsCredentials struct {
	AccessKeyID     string    `xml:"AccessKeyId"`
	SecretAccessKey string    `xml:"SecretAccessKey"`
	SessionToken    string    `xml:"SessionToken"`
	Expiration      time.Time `xml:"Expiration"`
}

// container asks the container's endpoint for its keys, with its token.
func (k *awsKeys) container(ctx context.Context) (config.AWSKey, time.Time, error) {
	c := k.a.Container
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URI, nil)
	if err != nil {
		return config.AWSKey{}, time.Time{}, &Error{Err: err, Message: "build the container credentials request: " + k.redact(err.Error())}
	}
	token := c.Token.Value()
	if c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile) // read each time: it rotates
		if err != nil {
			return config.AWSKey{}, time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
				Message: "read the container credentials token: " + err.Error()}
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	data, status, err := credentialExchange(ctx, k.rt, k.redact, req, "get the container's credentials")
	if err != nil {
		return config.AWSKey{}, time.Time{}, err
	}
	var out struct {
		AccessKeyID     string    `json:"AccessKeyId"`
		SecretAccessKey string    `json:"SecretAccessKey"`
		Token           string    `json:"Token"`
		Expiration      time.Time `json:"Expiration"`
		Message         string    `json:"message"`
	}
	_ = json.Unmarshal(data, &out)
	if status >= 300 || out.AccessKeyID == "" {
		return config.AWSKey{}, time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error",
			Message: k.redact(fmt.Sprintf("the container's credentials endpoint gave no key: %d %s", status, out.Message))}
	}
	return config.AWSKey{ID: config.Secret(out.AccessKeyID), Secret: config.Secret(out.SecretAccessKey), SessionToken: config.Secret(out.Token)},
		out.Expiration, nil
}

// fetchToken asks u for a federated token (an OIDC ID token, as GitHub
// Actions and Google's metadata server give them): its answer, whole, or
// the field of its JSON u names.
func fetchToken(ctx context.Context, rt http.RoundTripper, u *config.TokenURL) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL, nil)
	if err != nil {
		return "", err
	}
	for k, v := range u.Headers {
		req.Header.Set(k, v.Value())
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("its URL: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("its URL answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if u.JSONField == "" {
		if t := strings.TrimSpace(string(data)); t != "" {
			return t, nil
		}
		return "", errors.New("its URL answered nothing")
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		return "", errors.New("its URL's answer is not JSON")
	}
	if t, ok := fields[u.JSONField].(string); ok && t != "" {
		return t, nil
	}
	return "", fmt.Errorf("its URL's JSON has no %q", u.JSONField)
}

// credentialExchange sends a credentials request and reads its answer; a failure
// to reach the endpoint, or its 5xx, is a connection error of the
// deployment, as an upstream's is.
func credentialExchange(ctx context.Context, rt http.RoundTripper, redact func(string) string, req *http.Request, what string) ([]byte, int, error) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		e := transportError(ctx, err, redact)
		e.Message = what + ": " + e.Message
		return nil, 0, e
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 500 {
		return nil, 0, &Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("%s: the endpoint answered %s", what, resp.Status)}
	}
	return data, resp.StatusCode, nil
}

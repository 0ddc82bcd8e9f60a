package config

import (
	"cmp"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// GoogleKey is a Google credential file's key, as Google's client
// libraries read it: a service account's (Account), a user's from
// gcloud's application default credentials (User), or workload identity
// federation's (External). Exactly one is set.
type GoogleKey struct {
	Account  *ServiceAccount
	User     *GoogleUser
	External *GoogleExternal
}

// GoogleExternal is a workload identity federation credential (type
// external_account): a token of another identity provider, read from a
// file (as Kubernetes projects a service account's) or a URL, traded at
// Google's security token service (TokenURL) for an access token, and
// that, with ImpersonationURL, for one of the service account it names.
type GoogleExternal struct {
	Audience, SubjectTokenType, TokenURL string
	ImpersonationURL                     string
	// File or URL is where the subject token is: a file's text, or a
	// URL's answer (whole, or a field of its JSON).
	File string
	URL  *TokenURL
	// QuotaProject is the project billed (quota_project_id).
	QuotaProject string
}

// googleSTS is Google's security token service, where workload identity
// federation trades tokens when the credential names no token_url.
const googleSTS = "https://sts.googleapis.com/v1/token"

// ServiceAccount is a Google service account's key: what signs the
// tokens of Vertex AI's calls.
type ServiceAccount struct {
	Email    string
	KeyID    string
	TokenURI string
	Key      *rsa.PrivateKey
}

// GoogleUser is a user's credentials (type authorized_user, which
// `gcloud auth application-default login` writes): a refresh token that
// the OAuth client trades at TokenURI for access tokens. QuotaProject is
// the project billed for the user's calls (quota_project_id).
type GoogleUser struct {
	ClientID     string
	ClientSecret Secret
	RefreshToken Secret
	TokenURI     string
	QuotaProject string
}

// Who says whose the key is, for check-config and errors; never a secret.
func (k *GoogleKey) Who() string {
	if e := k.External; e != nil {
		who := "workload identity federation (" + e.Audience + ")"
		if e.ImpersonationURL != "" {
			who += ", as the service account it impersonates"
		}
		return who
	}
	if k.User != nil {
		return "the user of gcloud's credentials (OAuth client " + k.User.ClientID + ")"
	}
	return "the service account " + k.Account.Email
}

// Secrets are the key's secrets, for scrubbing.
func (k *GoogleKey) Secrets() []Secret {
	if e := k.External; e != nil {
		return e.URL.secrets() // the subject token URL's headers, which may hold one
	}
	if k.User != nil {
		return []Secret{k.User.ClientSecret, k.User.RefreshToken}
	}
	return nil
}

// googleTokenURI is where a service account's signed assertion, or a
// user's refresh token, is traded for a token when the key names no
// token_uri.
const googleTokenURI = "https://oauth2.googleapis.com/token"

// ParseGoogleKey reads a Google credential's JSON: a service account's
// key or a user's (gcloud's) credentials. Another kind (external_account,
// impersonated_service_account) is an error that names its type.
func ParseGoogleKey(key Secret) (*GoogleKey, error) {
	var raw struct {
		Type         string `json:"type"`
		ClientEmail  string `json:"client_email"`
		PrivateKey   string `json:"private_key"`
		PrivateKeyID string `json:"private_key_id"`
		TokenURI     string `json:"token_uri"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		RefreshToken string `json:"refresh_token"`
		QuotaProject string `json:"quota_project_id"`
		// external_account's
		Audience         string `json:"audience"`
		SubjectTokenType string `json:"subject_token_type"`
		TokenURL         string `json:"token_url"`
		Impersonation    string `json:"service_account_impersonation_url"`
		Source           struct {
			File          string            `json:"file"`
			URL           string            `json:"url"`
			Headers       map[string]string `json:"headers"`
			EnvironmentID string            `json:"environment_id"`
			Executable    json.RawMessage   `json:"executable"`
			Format        struct {
				Type  string `json:"type"`
				Field string `json:"subject_token_field_name"`
			} `json:"format"`
		} `json:"credential_source"`
	}
	if err := json.Unmarshal([]byte(key.Value()), &raw); err != nil {
		return nil, errors.New("is not a Google credential: not JSON")
	}
	switch raw.Type {
	case "external_account":
		src := raw.Source
		switch {
		case src.EnvironmentID != "" || len(src.Executable) > 0:
			return nil, errors.New("is a workload identity federation credential whose token comes from AWS or a program; breakerd reads one only from a file or a URL (credential_source.file or .url)")
		case raw.Audience == "" || raw.SubjectTokenType == "" || (src.File == "") == (src.URL == ""):
			return nil, errors.New("is a workload identity federation credential without its audience, subject_token_type, or one credential_source (file or url)")
		case src.Format.Type == "json" && src.Format.Field == "":
			return nil, errors.New("is a workload identity federation credential whose JSON token format names no subject_token_field_name")
		}
		e := &GoogleExternal{Audience: raw.Audience, SubjectTokenType: raw.SubjectTokenType, TokenURL: cmp.Or(raw.TokenURL, googleSTS),
			ImpersonationURL: raw.Impersonation, File: src.File, QuotaProject: raw.QuotaProject}
		if src.URL != "" {
			e.URL = &TokenURL{URL: src.URL, Headers: map[string]Secret{}}
			for k, v := range src.Headers {
				e.URL.Headers[k] = Secret(v)
			}
			if src.Format.Type == "json" {
				e.URL.JSONField = src.Format.Field
			}
		}
		return &GoogleKey{External: e}, nil
	case "authorized_user":
		if raw.ClientID == "" || raw.RefreshToken == "" {
			return nil, errors.New("is a user's credentials without its client_id or refresh_token")
		}
		return &GoogleKey{User: &GoogleUser{ClientID: raw.ClientID, ClientSecret: Secret(raw.ClientSecret), RefreshToken: Secret(raw.RefreshToken),
			TokenURI: cmp.Or(raw.TokenURI, googleTokenURI), QuotaProject: raw.QuotaProject}}, nil
	case "service_account":
	default:
		return nil, fmt.Errorf("is a %q credential; breakerd gets Vertex AI's tokens with a service account's key (type service_account), a user's credentials (authorized_user) or workload identity federation (external_account)", raw.Type)
	}
	if raw.ClientEmail == "" || raw.PrivateKey == "" {
		return nil, errors.New("is a service account's key without its client_email or private_key")
	}
	block, _ := pem.Decode([]byte(raw.PrivateKey))
	if block == nil {
		return nil, errors.New("has a private_key that is not PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, errors.New("has a private_key that is not an RSA key")
		}
	}
	rk, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("has a private_key that is not an RSA key")
	}
	return &GoogleKey{Account: &ServiceAccount{Email: raw.ClientEmail, KeyID: raw.PrivateKeyID, TokenURI: cmp.Or(raw.TokenURI, googleTokenURI), Key: rk}}, nil
}

// vertex reads a Vertex AI deployment: its model, its address (api_base,
// else built from vertex_project and vertex_location, or the variables
// LiteLLM reads them from), and its service account's key
// (vertex_credentials, else $GOOGLE_APPLICATION_CREDENTIALS). Claude
// takes Anthropic's API there (the anthropic dialect, at its publisher's
// models); other models Vertex's OpenAI-compatible API, which names them
// publisher/model (google/ for a bare name). A deployment without a
// project or a key is left out, as one whose key is unset is.
func (c *converter) vertex(d Deployment, pp, prov, model string, rd rawDeployment, defTimeout, defStreamTimeout time.Duration) (Deployment, bool) {
	d.Provider, d.Dialect, d.Model = prov, DialectOpenAI, model
	endpoint := "endpoints/openapi"
	switch {
	case strings.HasPrefix(model, "claude"):
		d.Dialect, endpoint = DialectAnthropic, "publishers/anthropic/models"
	case !strings.Contains(model, "/"):
		d.Model = "google/" + model
	}
	project := c.resolve(pp+".vertex_project", rd.Params.VertexProject)
	location := c.resolve(pp+".vertex_location", rd.Params.VertexLocation)
	for _, v := range []struct {
		dst   *string
		names []string
	}{{&project, []string{"VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"}}, {&location, []string{"VERTEXAI_LOCATION", "VERTEX_LOCATION"}}} {
		for _, n := range v.names {
			if s, ok := c.env(n); ok && *v.dst == "" {
				*v.dst = s
			}
		}
	}
	location = cmp.Or(location, "us-central1")
	d.Region = regionOf(location) // region_name, when set, wins (deploymentRest)
	d.APIBase = strings.TrimRight(c.resolve(pp+".api_base", rd.Params.APIBase), "/")
	switch {
	case d.APIBase != "":
		c.checkAPIBase(pp+".api_base", d.APIBase)
	case project == "":
		c.leaveOut(d, pp+".model", "Vertex AI needs a project: vertex_project is not set, nor $VERTEXAI_PROJECT", "set either to call this deployment")
		return d, false
	default:
		host := location + "-aiplatform.googleapis.com"
		if location == "global" {
			host = "aiplatform.googleapis.com"
		}
		d.APIBase = fmt.Sprintf("https://%s/v1/projects/%s/locations/%s/%s", host, url.PathEscape(project), url.PathEscape(location), endpoint)
	}
	creds, ok := c.vertexCredentials(d, pp, rd.Params.VertexCredentials)
	if !ok {
		return d, false
	}
	d.GoogleCredentials = creds
	if creds == "" {
		// As Google's client libraries do last: the service account of
		// the machine breakerd runs on.
		none := "Vertex AI gets no credentials: vertex_credentials is not set, nor $GOOGLE_APPLICATION_CREDENTIALS, nor gcloud's application default credentials"
		if v, _ := c.env("NO_GCE_CHECK"); strings.EqualFold(v, "true") {
			c.leaveOut(d, pp+".model", none+", and the metadata server is off ($NO_GCE_CHECK)", "set either to call this deployment")
			return d, false
		}
		host, _ := c.env("GCE_METADATA_HOST")
		d.GoogleMetadata = "http://" + cmp.Or(host, "metadata.google.internal")
		c.warnf(pp+".model", "%s: its calls carry the tokens of the machine's service account, from the metadata server (%s), as Google's libraries do; "+
			"off Google Cloud they fail (set $NO_GCE_CHECK=true to leave this deployment out instead)", none, d.GoogleMetadata)
	}
	d = c.deploymentRest(d, pp, rd, defTimeout, defStreamTimeout)
	if quota := quotaProject(creds); quota != "" {
		// As Google's libraries do: a user's (or a federated identity's)
		// calls bill the project the credentials name, unless the
		// config's headers say otherwise.
		if _, set := d.Headers["X-Goog-User-Project"]; !set {
			d.Headers = maps.Clone(d.Headers)
			if d.Headers == nil {
				d.Headers = map[string]Secret{}
			}
			d.Headers["X-Goog-User-Project"] = Secret(quota)
		}
	}
	return d, true
}

// quotaProject is the project a credential's calls bill (quota_project_id),
// "" for a service account's key or none.
func quotaProject(creds Secret) string {
	k, _ := ParseGoogleKey(creds)
	switch {
	case k == nil:
		return ""
	case k.User != nil:
		return k.User.QuotaProject
	case k.External != nil:
		return k.External.QuotaProject
	}
	return ""
}

// vertexCredentials reads a Google key (a service account's, or a user's)
// from vertex_credentials (a file's path, the key's JSON, or the key as a
// mapping), else from the file $GOOGLE_APPLICATION_CREDENTIALS names,
// else from gcloud's application default credentials; with none, it
// returns "" (the metadata server's tokens). ok is false when the deployment is
// left out or the key is in error.
func (c *converter) vertexCredentials(d Deployment, pp string, v any) (Secret, bool) {
	at := pp + ".vertex_credentials"
	var raw []byte
	switch v := v.(type) {
	case nil:
		path, ok := c.env("GOOGLE_APPLICATION_CREDENTIALS")
		if !ok || path == "" {
			// As Google's libraries do next: gcloud's application
			// default credentials, where `gcloud auth
			// application-default login` writes them.
			if adc := c.gcloudCredentials(); adc != "" {
				if data, err := c.read(adc); err == nil {
					raw = data
					break
				}
			}
			return "", true // the metadata server's (vertex)
		}
		data, err := c.read(path)
		if err != nil {
			c.leaveOut(d, pp+".model", fmt.Sprintf("cannot read $GOOGLE_APPLICATION_CREDENTIALS: %v", err), "set it to a service account's key file")
			return "", false
		}
		raw, at = data, pp+".model"
	case string:
		if name := c.unsetVar(v); name != "" {
			c.leaveOut(d, at, fmt.Sprintf("environment variable %s is not set", name), "set it to call this deployment")
			return "", false
		}
		s := strings.TrimSpace(c.resolve(at, v))
		if strings.HasPrefix(s, "{") {
			raw = []byte(s)
			break
		}
		data, err := c.read(s)
		if err != nil {
			c.errf(at, "cannot read the service account's key: %v", err)
			return "", false
		}
		raw = data
	case map[string]any:
		raw, _ = json.Marshal(v)
	default:
		c.errf(at, "must be a file name, the key's JSON, or the key as a mapping")
		return "", false
	}
	var kind struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &kind)
	key := Secret(raw)
	_, err := ParseGoogleKey(key)
	switch {
	case err != nil && kind.Type != "" && kind.Type != "service_account" && kind.Type != "authorized_user":
		// Another kind, or a form of one, that LiteLLM's Google libraries
		// take: its deployment is left out, not the config.
		c.leaveOut(d, at, err.Error(), "use a service account's key file")
		return "", false
	case err != nil:
		c.errf(at, "%v", err)
		return "", false
	}
	return key, true
}

// gcloudCredentials is where gcloud writes a user's application default
// credentials: in $CLOUDSDK_CONFIG, else %APPDATA%\gcloud on Windows or
// ~/.config/gcloud; "" with no home.
func (c *converter) gcloudCredentials() string {
	const name = "application_default_credentials.json"
	if dir, _ := c.env("CLOUDSDK_CONFIG"); dir != "" {
		return filepath.Join(dir, name)
	}
	if dir, _ := c.env("APPDATA"); dir != "" && runtime.GOOS == "windows" {
		return filepath.Join(dir, "gcloud", name)
	}
	if home, _ := c.env("HOME"); home != "" {
		return filepath.Join(home, ".config", "gcloud", name)
	}
	return ""
}

// path is the path of a file the config names, relative to the config's
// own directory.
func (c *converter) path(name string) string {
	if !filepath.IsAbs(name) {
		return filepath.Join(c.dir, name)
	}
	return name
}

// read reads a file the config names, relative to the config's own
// directory.
func (c *converter) read(name string) ([]byte, error) {
	name = c.path(name)
	if c.readFile == nil {
		return os.ReadFile(name)
	}
	return c.readFile(name)
}

package config

import (
	"cmp"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Microsoft's sign-in and managed identity endpoints, where the
// environment names none (azidentity's defaults).
const (
	entraAuthority  = "https://login.microsoftonline.com"
	imdsIdentityURL = "http://169.254.169.254/metadata/identity/oauth2/token"
)

// entra sets how an Azure deployment's calls get Microsoft Entra ID
// tokens, in LiteLLM's order: azure_ad_token (a token, or oidc/... for a
// federated token traded for one), a user's azure_username and
// azure_password, a client's tenant_id, client_id and client_secret,
// $AZURE_AD_TOKEN; then, with litellm_settings.enable_azure_ad_token_refresh,
// the environment's credential ($AZURE_CREDENTIAL's kind, as LiteLLM reads
// it). A key (api_key, $AZURE_API_KEY) is used instead where the
// deployment sets none of its own Entra ID keys. It reports false when
// the deployment is left out or in error.
func (c *converter) entra(d *Deployment, p rawParams, at func(string) string) bool {
	v := map[string]string{}
	for _, k := range []struct{ key, value string }{{"azure_ad_token", p.AzureADToken}, {"tenant_id", p.TenantID},
		{"client_id", p.ClientID}, {"client_secret", p.ClientSecret}, {"azure_username", p.AzureUsername}, {"azure_password", p.AzurePassword}} {
		if name := c.unsetVar(k.value); name != "" {
			c.leaveOut(*d, at(k.key), fmt.Sprintf("environment variable %s is not set", name), "set it to call this deployment")
			return false
		}
		v[k.key] = c.resolve(at(k.key), k.value)
	}
	own := v["azure_ad_token"] != "" || v["client_secret"] != "" || v["azure_password"] != ""
	if p.APIKey != "" && own {
		c.warnf(at("api_key"), "is set, so this deployment's calls carry it, and its Microsoft Entra ID credential (azure_ad_token, client_secret or azure_password) is not used")
		return true
	}
	if d.APIKey != "" && !own {
		return true // a key: Azure's own way
	}
	env := func(name string) string { s, _ := c.env(name); return s }
	authority := strings.TrimRight(cmp.Or(env("AZURE_AUTHORITY_HOST"), entraAuthority), "/")
	tokenURL := func(tenant string) string { return authority + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token" }
	e := &Entra{Scope: cmp.Or(env("AZURE_SCOPE"), EntraScope)}
	tenant, client := cmp.Or(v["tenant_id"], env("AZURE_TENANT_ID")), cmp.Or(v["client_id"], env("AZURE_CLIENT_ID"))
	switch tok := v["azure_ad_token"]; {
	case strings.HasPrefix(tok, "oidc/"):
		if tenant == "" || client == "" {
			c.leaveOut(*d, at("azure_ad_token"), "trading a federated token (oidc/...) for an Entra ID token needs the app's tenant and client: tenant_id and client_id are not set, nor $AZURE_TENANT_ID and $AZURE_CLIENT_ID",
				"set them to call this deployment")
			return false
		}
		token, file, u, ok := c.oidc(*d, at("azure_ad_token"), tok)
		if !ok {
			return false
		}
		e.TokenURL, e.ClientID, e.Assertion, e.AssertionFile, e.AssertionURL = tokenURL(tenant), client, token, file, u
		e.How = fmt.Sprintf("Entra ID tokens for the app %s, traded for the federated token %s", client, tok)
	case tok != "":
		e.Token, e.How = Secret(tok), "the Entra ID token in azure_ad_token"
	case v["azure_username"] != "" || v["azure_password"] != "":
		if v["azure_username"] == "" || v["azure_password"] == "" || client == "" {
			c.errf(at(cmp.Or(map[bool]string{true: "azure_password"}[v["azure_username"] != ""], "azure_username")),
				"signing in as a user needs azure_username, azure_password and client_id (or $AZURE_CLIENT_ID) together")
			return false
		}
		e.TokenURL, e.ClientID, e.Username, e.Password = tokenURL(cmp.Or(tenant, "organizations")), client, v["azure_username"], Secret(v["azure_password"])
		e.How = fmt.Sprintf("Entra ID tokens of the user %s (app %s)", e.Username, client)
	case v["client_secret"] != "":
		if tenant == "" || client == "" {
			c.errf(at("client_secret"), "a Microsoft Entra ID app's client secret needs its tenant_id and client_id (or $AZURE_TENANT_ID and $AZURE_CLIENT_ID): %s not set",
				map[bool]string{true: "tenant_id", false: "client_id"}[tenant == ""])
			return false
		}
		e.TokenURL, e.ClientID, e.ClientSecret = tokenURL(tenant), client, Secret(v["client_secret"])
		e.How = fmt.Sprintf("Entra ID tokens for the app %s, by its client secret", e.ClientID)
	case env("AZURE_AD_TOKEN") != "":
		e.Token, e.How = Secret(env("AZURE_AD_TOKEN")), "the Entra ID token in $AZURE_AD_TOKEN"
	case c.azureADRefresh:
		if !c.entraFromEnv(d, e, tenant, client, tokenURL) {
			return false
		}
	default:
		c.warnf(at("api_key"), "this Azure deployment has no key and no Microsoft Entra ID credential, so its calls go without one and Azure will refuse them: "+
			"set api_key (or $%s), or azure_ad_token, or tenant_id, client_id and client_secret, or litellm_settings.enable_azure_ad_token_refresh: true to take the environment's",
			map[bool]string{true: "AZURE_AI_API_KEY", false: "AZURE_API_KEY"}[d.Provider == "azure_ai"])
		return true
	}
	d.Entra, d.APIKey = e, ""
	return true
}

// entraFromEnv sets e from the environment's credential, as LiteLLM's
// enable_azure_ad_token_refresh reads it: $AZURE_CREDENTIAL names its
// kind (ClientSecretCredential unless set), and DefaultAzureCredential
// takes the first the environment has of a client's secret, a workload
// identity's federated token ($AZURE_FEDERATED_TOKEN_FILE, as AKS
// mounts it) and the machine's managed identity.
func (c *converter) entraFromEnv(d *Deployment, e *Entra, tenant, client string, tokenURL func(string) string) bool {
	env := func(name string) string { s, _ := c.env(name); return s }
	at := "litellm_settings.enable_azure_ad_token_refresh"
	kind := cmp.Or(env("AZURE_CREDENTIAL"), "ClientSecretCredential")
	secret, file, certPath := env("AZURE_CLIENT_SECRET"), env("AZURE_FEDERATED_TOKEN_FILE"), env("AZURE_CLIENT_CERTIFICATE_PATH")
	// need reports whether the environment gives what a kind of
	// credential needs (tenant and client may come from the config).
	need := func(what string, values map[string]string) bool {
		var names, missing []string
		for _, n := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PATH"} {
			if v, ok := values[n]; ok {
				names = append(names, "$"+n)
				if v == "" {
					missing = append(missing, "$"+n)
				}
			}
		}
		if missing != nil {
			c.leaveOut(*d, at, fmt.Sprintf("the environment's %s needs %s: %s not set", what, strings.Join(names, ", "), strings.Join(missing, " and ")),
				"set them to call this deployment")
		}
		return missing == nil
	}
	switch {
	case kind == "ClientSecretCredential", kind == "DefaultAzureCredential" && tenant != "" && client != "" && secret != "":
		if !need("client secret", map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client, "AZURE_CLIENT_SECRET": secret}) {
			return false
		}
		e.TokenURL, e.ClientID, e.ClientSecret = tokenURL(tenant), client, Secret(secret)
		e.How = fmt.Sprintf("Entra ID tokens for the app %s, by its client secret ($AZURE_CLIENT_SECRET)", client)
	case kind == "CertificateCredential", kind == "DefaultAzureCredential" && tenant != "" && client != "" && certPath != "":
		if !need("client certificate", map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client, "AZURE_CLIENT_CERTIFICATE_PATH": certPath}) {
			return false
		}
		cert, err := c.entraCertificate(certPath)
		if err != nil {
			c.leaveOut(*d, at, fmt.Sprintf("the environment's client certificate ($AZURE_CLIENT_CERTIFICATE_PATH) %v", err), "give a PEM file with the certificate and its private key")
			return false
		}
		e.TokenURL, e.ClientID, e.Certificate = tokenURL(tenant), client, cert
		e.How = fmt.Sprintf("Entra ID tokens for the app %s, by its client certificate ($AZURE_CLIENT_CERTIFICATE_PATH)", client)
	case kind == "WorkloadIdentityCredential", kind == "DefaultAzureCredential" && tenant != "" && client != "" && file != "":
		if !need("workload identity", map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client, "AZURE_FEDERATED_TOKEN_FILE": file}) {
			return false
		}
		e.TokenURL, e.ClientID, e.AssertionFile = tokenURL(tenant), client, file
		e.How = fmt.Sprintf("Entra ID tokens for the app %s, traded for the workload identity's token ($AZURE_FEDERATED_TOKEN_FILE)", client)
	case kind == "AzureCliCredential":
		e.AzureCLI, e.Tenant = "az", tenant
		e.How = "the Azure CLI's signed-in user's Entra ID tokens (az account get-access-token; run `az login` first)"
	case kind == "ManagedIdentityCredential", kind == "DefaultAzureCredential":
		e.ClientID = client // a user-assigned identity's, when set
		if ep, h := env("IDENTITY_ENDPOINT"), env("IDENTITY_HEADER"); ep != "" && h != "" {
			e.ManagedIdentity, e.IdentityHeader = ep, Secret(h)
			e.How = "the managed identity's Entra ID tokens, from $IDENTITY_ENDPOINT (App Service, Container Apps)"
			break
		}
		e.ManagedIdentity = imdsIdentityURL
		if host := env("AZURE_POD_IDENTITY_AUTHORITY_HOST"); host != "" {
			e.ManagedIdentity = strings.TrimRight(host, "/") + "/metadata/identity/oauth2/token"
		}
		e.How = "the managed identity's Entra ID tokens, from the instance metadata service (" + e.ManagedIdentity + ")"
		if kind == "DefaultAzureCredential" {
			c.warnf(at, "the environment has no client secret or workload identity for the Azure deployment at model_list[%d], so its calls take the machine's managed identity's tokens, from %s, as DefaultAzureCredential does; off Azure they fail ($AZURE_CREDENTIAL=AzureCliCredential takes `az login`'s)",
				d.Index, e.ManagedIdentity)
		}
	default:
		c.leaveOut(*d, at, fmt.Sprintf("breakerd does not take $AZURE_CREDENTIAL=%s", kind),
			"set it to ClientSecretCredential, CertificateCredential, WorkloadIdentityCredential, ManagedIdentityCredential, AzureCliCredential or DefaultAzureCredential")
		return false
	}
	return true
}

// oidc reads a federated token that LiteLLM names oidc/<source>/<name>: a
// file's path (file/, relative to the config's directory; azure/ for $AZURE_FEDERATED_TOKEN_FILE, env_path/
// for the path a variable holds), which is read at each renewal, as such
// tokens rotate; or a variable's value (env/, circleci/, circleci_v2/).
// A source breakerd does not read (google/, github/: tokens fetched from
// elsewhere) leaves the deployment out.
func (c *converter) oidc(d Deployment, at, ref string) (token Secret, file string, u *TokenURL, ok bool) {
	source, name, _ := strings.Cut(strings.TrimPrefix(ref, "oidc/"), "/")
	switch source {
	case "google":
		// The machine's service account's ID token for the audience, from
		// Google's metadata server.
		host, _ := c.env("GCE_METADATA_HOST")
		return "", "", &TokenURL{URL: "http://" + cmp.Or(host, "metadata.google.internal") +
			"/computeMetadata/v1/instance/service-accounts/default/identity?audience=" + url.QueryEscape(name),
			Headers: map[string]Secret{"Metadata-Flavor": "Google"}}, true
	case "github":
		// GitHub Actions' ID token for the audience (permissions:
		// id-token: write).
		reqURL, _ := c.env("ACTIONS_ID_TOKEN_REQUEST_URL")
		reqToken, _ := c.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
		if reqURL == "" || reqToken == "" {
			c.leaveOut(d, at, ref+" needs $ACTIONS_ID_TOKEN_REQUEST_URL and $ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub Actions sets for a job with permissions: id-token: write",
				"run it there, or give the token another way")
			return "", "", nil, false
		}
		return "", "", &TokenURL{URL: reqURL + "&audience=" + url.QueryEscape(name),
			Headers: map[string]Secret{"Authorization": Secret("Bearer " + reqToken)}, JSONField: "value"}, true
	}
	variable := map[string]string{"circleci": "CIRCLE_OIDC_TOKEN", "circleci_v2": "CIRCLE_OIDC_TOKEN_V2", "env": name, "env_path": name,
		"azure": "AZURE_FEDERATED_TOKEN_FILE"}[source]
	value, set := "", false
	if variable != "" {
		value, set = c.env(variable)
	}
	switch {
	case source == "file" && name != "":
		return "", c.path(name), nil, true
	case variable == "":
		c.leaveOut(d, at, fmt.Sprintf("breakerd does not fetch OIDC tokens from %q (it reads oidc/file/, oidc/env/, oidc/env_path/, oidc/azure/, oidc/circleci/, oidc/google/ and oidc/github/)", "oidc/"+source+"/"),
			"give the token's file as oidc/file/<path>")
		return "", "", nil, false
	case !set || value == "":
		c.leaveOut(d, at, fmt.Sprintf("environment variable %s, which %s reads, is not set", variable, ref), "set it to call this deployment")
		return "", "", nil, false
	case source == "env_path" || source == "azure":
		return "", value, nil, true
	}
	return Secret(value), "", nil, true
}

// entraCertificate reads an app's client certificate: a PEM file with the
// certificate and its RSA private key (PKCS #8 or #1), as Azure's
// libraries take one. A PKCS #12 (.pfx) file is not read.
func (c *converter) entraCertificate(path string) (*EntraCertificate, error) {
	data, err := c.read(path)
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			if cert == nil {
				cert, _ = x509.ParseCertificate(block.Bytes)
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
			}
			if rk, ok := k.(*rsa.PrivateKey); ok && err == nil {
				key = rk
			}
		}
	}
	switch {
	case cert == nil && key == nil:
		return nil, errors.New("is not PEM (a PKCS #12 .pfx file is not read: convert it with `openssl pkcs12 -nodes`)")
	case cert == nil:
		return nil, errors.New("has no certificate")
	case key == nil:
		return nil, errors.New("has no RSA private key")
	}
	sum := sha1.Sum(cert.Raw)
	return &EntraCertificate{Key: key, Thumbprint: sum[:]}, nil
}

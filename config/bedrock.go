package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// awsDefaultRegion is the region LiteLLM calls AWS in when neither the
// deployment nor the environment names one.
const awsDefaultRegion = "us-west-2"

// bedrock reads an Amazon Bedrock deployment. breakerd calls Claude there
// through the model's InvokeModel API, which takes Anthropic's Messages,
// and any other model (Llama, Nova, Mistral), or one written
// bedrock/converse/ or bedrock_converse/, through Bedrock's Converse API,
// as LiteLLM does; invoke/ with another model than Claude (that model's
// own InvokeModel format) is left out. The call goes to
// model_id (else the model) in aws_region_name (else the region of a
// model's ARN, else $AWS_REGION_NAME, $AWS_REGION, $AWS_DEFAULT_REGION,
// else us-west-2, as in LiteLLM), at aws_bedrock_runtime_endpoint or
// api_base when either is set. Its credentials, in LiteLLM's order: an
// access key in the deployment (aws_access_key_id and
// aws_secret_access_key, with aws_session_token for a temporary one),
// which signs each call, a role, a Bedrock API key, or the environment's
// (awsCredentials). A profile is left out: breakerd reads no ~/.aws
// files.
func (c *converter) bedrock(d Deployment, pp, prov, model string, rd rawDeployment, at func(string) string, defTimeout, defStreamTimeout time.Duration) (Deployment, bool) {
	p := rd.Params
	d.Provider, d.Dialect, d.Model = prov, DialectAnthropic, model
	v, ok := c.awsParams(d, rd.Params, at)
	if !ok {
		return d, false
	}
	b := &Bedrock{ModelID: cmp.Or(v["model_id"], model)}
	if d.Wildcard {
		c.leaveOut(d, pp+".model", "a Bedrock model is called through a deployment of its own, with its AWS key and region, not a wildcard",
			"list each model as bedrock/<model>")
		return d, false
	}
	claude := strings.Contains(b.ModelID, "anthropic.") || strings.Contains(model, "anthropic.")
	_, route, _ := strings.Cut(d.ModelRef, "/")
	switch {
	case d.Mode == "embedding" || strings.Contains(strings.ToLower(b.ModelID+" "+model), "embed"):
		// Titan's and Cohere's embeddings, at InvokeModel.
		d.Embeddings, d.Mode = true, "embedding"
	case prov == "bedrock_converse" || strings.HasPrefix(route, "converse/") || !claude && !strings.HasPrefix(route, "invoke/"):
		b.Converse = true
	case !claude:
		c.leaveOut(d, pp+".model", fmt.Sprintf("invoke/ calls %q with its own InvokeModel format, which breakerd does not speak", model),
			"write bedrock/"+model+" to call it through the Converse API")
		return d, false
	}
	b.Region = c.awsRegion(v["aws_region_name"], b.ModelID)
	if BedrockProfileOnly(b.ModelID) {
		c.warnf(pp+".model", "Bedrock serves %s only through an inference profile and refuses it by its model ID (\"with on-demand throughput isn't supported\"): "+
			"write bedrock/%s%s (us., eu., apac. or global.: the profile of the regions it may run in)", b.ModelID, profilePrefix(b.Region), b.ModelID)
	}
	if g := p.GuardrailConfig; g != nil {
		at := pp + ".guardrailConfig"
		b.Guardrail = &Guardrail{ID: c.resolve(at+".guardrailIdentifier", g.Identifier),
			Version: c.resolve(at+".guardrailVersion", g.Version), Trace: strings.ToLower(g.Trace)}
		switch {
		case b.Guardrail.ID == "" || b.Guardrail.Version == "":
			c.errf(at, "needs guardrailIdentifier and guardrailVersion (a number, or DRAFT)")
			return d, false
		case !slices.Contains([]string{"", "enabled", "disabled", "enabled_full"}, b.Guardrail.Trace):
			c.errf(at+".trace", "must be enabled, disabled or enabled_full, got %q", g.Trace)
			return d, false
		case d.Embeddings:
			c.warnf(at, "an embedding model is not checked by a guardrail; ignored")
			b.Guardrail = nil
		}
	}

	d.APIKey = Secret(c.resolve(at("api_key"), p.APIKey))
	if !c.awsCredentials(&d, &b.AWSAuth, pp, v, at, "Bedrock") {
		return d, false
	}

	baseAt := at("aws_bedrock_runtime_endpoint")
	d.APIBase = strings.TrimRight(v["aws_bedrock_runtime_endpoint"], "/")
	if d.APIBase == "" {
		baseAt = at("api_base")
		d.APIBase = strings.TrimRight(c.resolve(baseAt, p.APIBase), "/")
	}
	if d.APIBase == "" {
		if e, ok := c.env("AWS_BEDROCK_RUNTIME_ENDPOINT"); ok {
			d.APIBase = strings.TrimRight(e, "/")
		}
	}
	if d.APIBase != "" {
		c.checkAPIBase(baseAt, d.APIBase)
	} else {
		d.APIBase = "https://bedrock-runtime." + b.Region + ".amazonaws.com"
	}
	d.Bedrock = b
	return c.deploymentRest(d, pp, rd, defTimeout, defStreamTimeout), true
}

// awsParams resolves a deployment's AWS keys (model_id and the aws_*
// ones). ok is false when it is left out: a variable it names is not
// set, or it names a profile (breakerd reads no ~/.aws files).
func (c *converter) awsParams(d Deployment, p rawParams, at func(string) string) (v map[string]string, ok bool) {
	if p.AWSProfileName != "" {
		c.leaveOut(d, at("aws_profile_name"), "breakerd does not read AWS profiles (~/.aws)",
			"give the key in aws_access_key_id and aws_secret_access_key, or a role in aws_role_name")
		return nil, false
	}
	refs := []struct{ key, value string }{{"model_id", p.ModelID}, {"aws_access_key_id", p.AWSAccessKeyID},
		{"aws_secret_access_key", p.AWSSecretAccessKey}, {"aws_session_token", p.AWSSessionToken},
		{"aws_region_name", p.AWSRegionName}, {"aws_bedrock_runtime_endpoint", p.AWSRuntimeEndpoint},
		{"aws_role_name", p.AWSRoleName}, {"aws_session_name", p.AWSSessionName}, {"aws_web_identity_token", p.AWSWebIdentityToken},
		{"aws_sts_endpoint", p.AWSSTSEndpoint}}
	v = map[string]string{}
	for _, r := range refs {
		if name := c.unsetVar(r.value); name != "" {
			c.leaveOut(d, at(r.key), fmt.Sprintf("environment variable %s is not set", name), "set it to call this deployment")
			return nil, false
		}
		v[r.key] = c.resolve(at(r.key), r.value)
	}
	return v, true
}

// awsRegion is the region a deployment calls AWS in: aws_region_name
// (given), else the region of the ARN it calls (id), else
// $AWS_REGION_NAME, $AWS_REGION, $AWS_DEFAULT_REGION, else us-west-2, as
// in LiteLLM.
func (c *converter) awsRegion(given, id string) string {
	if arn := strings.Split(id, ":"); given == "" && len(arn) > 3 && arn[0] == "arn" {
		given = arn[3]
	}
	for _, name := range []string{"AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if e, ok := c.env(name); ok && given == "" {
			given = e
		}
	}
	return cmp.Or(given, awsDefaultRegion)
}

// awsCredentials sets how a Bedrock deployment's calls are authorized,
// in LiteLLM's (boto3's) order: a role to assume (aws_role_name), by the
// key given, a web identity's token (aws_web_identity_token), or
// $AWS_WEB_IDENTITY_TOKEN_FILE; the access key given; a Bedrock API key
// (api_key, d.APIKey already, else $AWS_BEARER_TOKEN_BEDROCK); the access
// key in $AWS_ACCESS_KEY_ID; the role and token file of EKS's IAM roles
// for service accounts ($AWS_ROLE_ARN, $AWS_WEB_IDENTITY_TOKEN_FILE); the
// container's keys ($AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI,
// as on ECS and with EKS Pod Identity); the EC2 instance's role, from its
// metadata service, with a warning (unless $AWS_EC2_METADATA_DISABLED,
// which leaves the deployment out). v holds the deployment's resolved
// aws_* values. It reports false when the deployment is left out or in
// error.
func (c *converter) awsCredentials(d *Deployment, b *AWSAuth, pp string, v map[string]string, at func(string) string, service string) bool {
	bearer := service == "Bedrock" // SageMaker takes no API key
	env := func(name string) string { s, _ := c.env(name); return s }
	given := AWSKey{ID: Secret(v["aws_access_key_id"]), Secret: Secret(v["aws_secret_access_key"]), SessionToken: Secret(v["aws_session_token"])}
	envKey := AWSKey{ID: Secret(env("AWS_ACCESS_KEY_ID")), Secret: Secret(env("AWS_SECRET_ACCESS_KEY")), SessionToken: Secret(env("AWS_SESSION_TOKEN"))}
	role := func(arn, session string) *AWSRole {
		return &AWSRole{ARN: arn, SessionName: cmp.Or(session, "breakerd"),
			STSEndpoint: strings.TrimRight(cmp.Or(v["aws_sts_endpoint"], env("AWS_ENDPOINT_URL_STS"), "https://sts."+b.Region+".amazonaws.com"), "/")}
	}
	keyAt := pp + ".model"
	switch {
	case v["aws_role_name"] != "":
		b.Role = role(v["aws_role_name"], v["aws_session_name"])
		switch tok := v["aws_web_identity_token"]; {
		case strings.HasPrefix(tok, "oidc/"):
			token, file, u, ok := c.oidc(*d, at("aws_web_identity_token"), tok)
			if !ok {
				return false
			}
			b.Role.WebIdentityToken, b.Role.WebIdentityTokenFile, b.Role.WebIdentityURL = token, file, u
		case tok != "":
			b.Role.WebIdentityToken = Secret(tok)
		case given.ID != "" || given.Secret != "":
			b.Key, keyAt = given, at("aws_access_key_id")
		case envKey.ID != "":
			b.Key = envKey
		case env("AWS_WEB_IDENTITY_TOKEN_FILE") != "":
			b.Role.WebIdentityTokenFile = env("AWS_WEB_IDENTITY_TOKEN_FILE")
		default:
			c.leaveOut(*d, at("aws_role_name"), "assuming the role needs a key or a web identity's token: aws_access_key_id is not set, nor aws_web_identity_token, nor $AWS_ACCESS_KEY_ID or $AWS_WEB_IDENTITY_TOKEN_FILE",
				"set one to call this deployment")
			return false
		}
		d.APIKey = ""
	case given.ID != "" || given.Secret != "":
		b.Key, keyAt, d.APIKey = given, at("aws_access_key_id"), ""
	case bearer && d.APIKey != "":
	case bearer && env("AWS_BEARER_TOKEN_BEDROCK") != "":
		d.APIKey = Secret(env("AWS_BEARER_TOKEN_BEDROCK"))
	case envKey.ID != "":
		b.Key = envKey
	case env("AWS_ROLE_ARN") != "" && env("AWS_WEB_IDENTITY_TOKEN_FILE") != "":
		b.Role = role(env("AWS_ROLE_ARN"), env("AWS_ROLE_SESSION_NAME"))
		b.Role.WebIdentityTokenFile = env("AWS_WEB_IDENTITY_TOKEN_FILE")
	case env("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "" || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "":
		uri := env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
		if uri == "" {
			uri = "http://169.254.170.2" + env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
		}
		b.Container = &AWSContainer{URI: uri, Token: Secret(env("AWS_CONTAINER_AUTHORIZATION_TOKEN")), TokenFile: env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")}
	default:
		apiKeys := ""
		if bearer {
			apiKeys = "api_key, nor $AWS_BEARER_TOKEN_BEDROCK, "
		}
		none := service + " gets no credentials from the config or the environment: aws_access_key_id is not set, nor aws_role_name, nor " + apiKeys +
			"$AWS_ACCESS_KEY_ID, $AWS_ROLE_ARN with $AWS_WEB_IDENTITY_TOKEN_FILE, or a container's credentials"
		if strings.EqualFold(env("AWS_EC2_METADATA_DISABLED"), "true") {
			c.leaveOut(*d, pp+".model", none+", and the instance metadata service is off ($AWS_EC2_METADATA_DISABLED)",
				"set one to call this deployment")
			return false
		}
		// As AWS's SDKs (and so LiteLLM) do last: the EC2 instance's role.
		b.Instance = strings.TrimRight(cmp.Or(env("AWS_EC2_METADATA_SERVICE_ENDPOINT"), "http://169.254.169.254"), "/")
		c.warnf(pp+".model", "%s: its calls take the EC2 instance's role, from the instance metadata service (%s), as AWS's SDKs do; "+
			"off EC2 they fail (set $AWS_EC2_METADATA_DISABLED=true to leave this deployment out instead)", none, b.Instance)
	}
	if k := b.Key; d.APIKey == "" && (k.ID != "" || k.Secret != "") && (k.ID == "" || k.Secret == "") {
		missing := "aws_secret_access_key"
		if k.ID == "" {
			missing = "aws_access_key_id"
		}
		c.errf(keyAt, "an AWS access key needs both aws_access_key_id and aws_secret_access_key (or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY): %s is missing", missing)
		return false
	}
	return true
}

// profileOnlyClaude are the Claude models Bedrock serves only through an
// inference profile (us.anthropic.claude-..., not anthropic.claude-...):
// Claude 3.7 Sonnet and every later model.
var profileOnlyClaude = []string{"claude-3-7", "claude-sonnet-4", "claude-opus-4", "claude-haiku-4", "claude-sonnet-5", "claude-opus-5",
	"claude-haiku-5", "claude-fable", "claude-mythos"}

// BedrockProfileOnly reports whether modelID (a Bedrock model ID, such as
// anthropic.claude-sonnet-4-6) names a model Bedrock serves only through
// an inference profile (us.anthropic.claude-sonnet-4-6), refusing calls
// by the model's own ID.
func BedrockProfileOnly(modelID string) bool {
	id, ok := strings.CutPrefix(modelID, "anthropic.")
	return ok && slices.ContainsFunc(profileOnlyClaude, func(p string) bool { return strings.HasPrefix(id, p) })
}

// profilePrefix is the inference profile prefix of a Bedrock region's
// geography: us-east-1's "us.", eu-west-1's "eu.", ap-*'s "apac.", else
// "global.".
func profilePrefix(region string) string {
	for _, p := range []struct{ region, prefix string }{{"us-", "us."}, {"eu-", "eu."}, {"ap-", "apac."}} {
		if strings.HasPrefix(region, p.region) {
			return p.prefix
		}
	}
	return "global."
}

package config

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// bedrockDefaultRegion is the region LiteLLM calls Bedrock in when
// neither the deployment nor the environment names one.
const bedrockDefaultRegion = "us-west-2"

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
// which signs each call; else a Bedrock API key (api_key, else
// $AWS_BEARER_TOKEN_BEDROCK), sent as a bearer token; else the access key
// in $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN. A
// profile or a role to assume is left out: breakerd reads no ~/.aws files
// and calls no STS.
func (c *converter) bedrock(d Deployment, pp, prov, model string, rd rawDeployment, at func(string) string, defTimeout, defStreamTimeout time.Duration) (Deployment, bool) {
	p := rd.Params
	d.Provider, d.Dialect, d.Model = prov, DialectAnthropic, model
	refs := []struct{ key, value string }{{"model_id", p.ModelID}, {"aws_access_key_id", p.AWSAccessKeyID},
		{"aws_secret_access_key", p.AWSSecretAccessKey}, {"aws_session_token", p.AWSSessionToken},
		{"aws_region_name", p.AWSRegionName}, {"aws_bedrock_runtime_endpoint", p.AWSRuntimeEndpoint}}
	v := map[string]string{}
	for _, r := range refs {
		if name := c.unsetVar(r.value); name != "" {
			c.leaveOut(d, at(r.key), fmt.Sprintf("environment variable %s is not set", name), "set it to call this deployment")
			return d, false
		}
		v[r.key] = c.resolve(at(r.key), r.value)
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
	case prov == "bedrock_converse" || strings.HasPrefix(route, "converse/") || !claude && !strings.HasPrefix(route, "invoke/"):
		b.Converse = true
	case !claude:
		c.leaveOut(d, pp+".model", fmt.Sprintf("invoke/ calls %q with its own InvokeModel format, which breakerd does not speak", model),
			"write bedrock/"+model+" to call it through the Converse API")
		return d, false
	}
	switch {
	case p.AWSProfileName != "":
		c.leaveOut(d, at("aws_profile_name"), "breakerd does not read AWS profiles (~/.aws)",
			"give the key in aws_access_key_id and aws_secret_access_key, or a Bedrock API key in api_key")
		return d, false
	case p.AWSRoleName != "" || p.AWSWebIdentityToken != "":
		where := "aws_role_name"
		if p.AWSRoleName == "" {
			where = "aws_web_identity_token"
		}
		c.leaveOut(d, at(where), "breakerd does not assume AWS roles (STS)",
			"give the role's temporary key in aws_access_key_id, aws_secret_access_key and aws_session_token, or a Bedrock API key in api_key")
		return d, false
	}
	region := v["aws_region_name"]
	if arn := strings.Split(b.ModelID, ":"); region == "" && len(arn) > 3 && arn[0] == "arn" {
		region = arn[3]
	}
	for _, name := range []string{"AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if e, ok := c.env(name); ok && region == "" {
			region = e
		}
	}
	b.Region = cmp.Or(region, bedrockDefaultRegion)

	d.APIKey = Secret(c.resolve(at("api_key"), p.APIKey))
	envKey := func(name string) Secret { s, _ := c.env(name); return Secret(s) }
	switch {
	case v["aws_access_key_id"] != "" || v["aws_secret_access_key"] != "":
		b.Key = AWSKey{ID: Secret(v["aws_access_key_id"]), Secret: Secret(v["aws_secret_access_key"]), SessionToken: Secret(v["aws_session_token"])}
		d.APIKey = ""
	case d.APIKey != "":
	case envKey("AWS_BEARER_TOKEN_BEDROCK") != "":
		d.APIKey = envKey("AWS_BEARER_TOKEN_BEDROCK")
	case envKey("AWS_ACCESS_KEY_ID") != "":
		b.Key = AWSKey{ID: envKey("AWS_ACCESS_KEY_ID"), Secret: envKey("AWS_SECRET_ACCESS_KEY"), SessionToken: envKey("AWS_SESSION_TOKEN")}
	default:
		c.leaveOut(d, pp+".model", "Bedrock needs credentials: aws_access_key_id is not set, nor api_key, nor $AWS_BEARER_TOKEN_BEDROCK or $AWS_ACCESS_KEY_ID",
			"set one to call this deployment")
		return d, false
	}
	if d.APIKey == "" && (b.Key.ID == "" || b.Key.Secret == "") {
		missing := "aws_secret_access_key"
		if b.Key.ID == "" {
			missing = "aws_access_key_id"
		}
		c.errf(pp+".model", "an AWS access key needs both aws_access_key_id and aws_secret_access_key (or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY): %s is missing", missing)
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

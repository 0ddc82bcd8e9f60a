package config

import (
	"cmp"
	"strings"
	"time"
)

// Watsonx is how an IBM watsonx.ai deployment is called: watsonx.ai's
// chat API (Deployment.APIBase's /ml/v1/text/chat, with the API version
// as ?version=), the model and its project or space in each request's
// body. Its calls carry IBM Cloud IAM tokens that its API key
// (Deployment.APIKey) is traded for at IAMURL, unless Token or ZenAPIKey
// is set.
type Watsonx struct {
	// ProjectID or SpaceID is where the model runs; a deployment
	// (DeploymentID) names neither.
	ProjectID, SpaceID string
	// DeploymentID, when set, is a deployment of a model in a space
	// (model watsonx/deployment/<id>), called at its own address.
	DeploymentID string
	// IAMURL is IBM Cloud's IAM token endpoint.
	IAMURL string
	// Token is a bearer token given as it is (token, $WATSONX_TOKEN):
	// never renewed. ZenAPIKey is Cloud Pak for Data's key (zen_api_key,
	// $WATSONX_ZENAPIKEY), sent as Authorization: ZenApiKey.
	Token, ZenAPIKey Secret
}

// WatsonxDefaultAPIVersion is the watsonx.ai API version a deployment
// without api_version calls, LiteLLM's.
const WatsonxDefaultAPIVersion = "2024-03-13"

// watsonxIAMURL is IBM Cloud's IAM token endpoint.
const watsonxIAMURL = "https://iam.cloud.ibm.com/identity/token"

// watsonx reads an IBM watsonx.ai deployment (watsonx/<model>, or
// watsonx/deployment/<id>), from its keys or the variables LiteLLM reads
// them from: the address (api_base, else $WATSONX_API_BASE, $WATSONX_URL,
// $WX_URL, $WML_URL), the credential (api_key, else $WATSONX_APIKEY,
// $WATSONX_API_KEY, $WX_API_KEY; or token, else $WATSONX_TOKEN; or
// zen_api_key, else $WATSONX_ZENAPIKEY), and the project (project_id or
// watsonx_project, else $WATSONX_PROJECT_ID, $WX_PROJECT_ID, $PROJECT_ID)
// or space (space_id, else $WATSONX_DEPLOYMENT_SPACE_ID,
// $WATSONX_SPACE_ID, $WX_SPACE_ID, $SPACE_ID). A deployment missing any
// of these is left out, as one whose key is unset is.
func (c *converter) watsonx(d Deployment, pp, prov, model string, rd rawDeployment, at func(string) string, defTimeout, defStreamTimeout time.Duration) (Deployment, bool) {
	p := rd.Params
	d.Provider, d.Dialect, d.Model, d.ParamRenames = prov, DialectOpenAI, model, maxTokens
	if d.Wildcard {
		c.leaveOut(d, pp+".model", "a watsonx.ai model is called through a deployment of its own, with its project, not a wildcard",
			"list each model as watsonx/<model>")
		return d, false
	}
	// fromEnv is the first of the variables set, for a key the config
	// does not set.
	fromEnv := func(given string, names ...string) string {
		for _, n := range names {
			if v, ok := c.env(n); ok && given == "" {
				given = v
			}
		}
		return given
	}
	w := &Watsonx{IAMURL: cmp.Or(fromEnv("", "WATSONX_IAM_URL"), watsonxIAMURL)}
	d.APIKey = Secret(fromEnv(c.resolve(at("api_key"), p.APIKey), "WATSONX_APIKEY", "WATSONX_API_KEY", "WX_API_KEY"))
	w.Token = Secret(fromEnv(c.resolve(at("token"), p.Token), "WATSONX_TOKEN"))
	w.ZenAPIKey = Secret(fromEnv(c.resolve(at("zen_api_key"), p.ZenAPIKey), "WATSONX_ZENAPIKEY"))
	if d.APIKey == "" && w.Token == "" && w.ZenAPIKey == "" {
		c.leaveOut(d, pp+".model", "watsonx.ai needs a credential: api_key is not set, nor $WATSONX_APIKEY (or token, zen_api_key)",
			"set one to call this deployment")
		return d, false
	}
	d.APIBase = strings.TrimRight(fromEnv(c.resolve(at("api_base"), p.APIBase), "WATSONX_API_BASE", "WATSONX_URL", "WX_URL", "WML_URL"), "/")
	if d.APIBase == "" {
		c.leaveOut(d, pp+".model", "watsonx.ai needs its region's address: api_base is not set, nor $WATSONX_URL",
			"set either (https://us-south.ml.cloud.ibm.com, say) to call this deployment")
		return d, false
	}
	c.checkAPIBase(at("api_base"), d.APIBase)
	if id, ok := strings.CutPrefix(model, "deployment/"); ok && id != "" {
		w.DeploymentID = id
	} else {
		w.ProjectID = fromEnv(cmp.Or(c.resolve(at("project_id"), p.ProjectID), c.resolve(at("watsonx_project"), p.WatsonxProject)),
			"WATSONX_PROJECT_ID", "WX_PROJECT_ID", "PROJECT_ID")
		if w.ProjectID == "" {
			w.SpaceID = fromEnv(c.resolve(at("space_id"), p.SpaceID), "WATSONX_DEPLOYMENT_SPACE_ID", "WATSONX_SPACE_ID", "WX_SPACE_ID", "SPACE_ID")
		}
		if w.ProjectID == "" && w.SpaceID == "" {
			c.leaveOut(d, pp+".model", "watsonx.ai needs the project or space the model runs in: project_id is not set, nor space_id, nor $WATSONX_PROJECT_ID",
				"set one to call this deployment")
			return d, false
		}
	}
	// Its embeddings too, at watsonx.ai's own API (the provider
	// translates); a deployment in a space serves what it was made for.
	d.Embeddings = w.DeploymentID == ""
	d.APIVersion = cmp.Or(c.resolve(at("api_version"), p.APIVersion), WatsonxDefaultAPIVersion)
	d.Watsonx = w
	return c.deploymentRest(d, pp, rd, defTimeout, defStreamTimeout), true
}

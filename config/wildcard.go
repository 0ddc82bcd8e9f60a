package config

import (
	"fmt"
	"maps"
	"strings"
)

// MatchGroup reports whether a requested model matches a model_name
// pattern with one "*" (LiteLLM's wildcard routing: "openai/*", "*",
// "claude-*"), and the text the "*" stands for. A name without "*" never
// matches: exact names are looked up directly.
func MatchGroup(pattern, model string) (star string, ok bool) {
	before, after, found := strings.Cut(pattern, "*")
	if !found || len(model) < len(before)+len(after) || !strings.HasPrefix(model, before) || !strings.HasSuffix(model, after) {
		return "", false
	}
	return model[len(before) : len(model)-len(after)], true
}

// Resolve turns a wildcard deployment into the deployment that serves one
// requested model: the "*" of litellm_params.model takes the text the
// "*" of model_name matched (star), or the whole requested name for a
// catch-all ("*"), whose provider the name then gives, as in LiteLLM.
// keys are Config.ProviderKeys, for a catch-all with no api_key. It
// reports false, with the reason, when the name does not give a provider
// breakerd can call.
func (d Deployment) Resolve(requested, star string, keys map[string]Secret) (Deployment, error) {
	ref := d.ModelRef
	if strings.Contains(ref, "*") {
		if ref == "*" {
			star = requested
		}
		ref = strings.Replace(ref, "*", star, 1)
	}
	prov, model, ok := strings.Cut(ref, "/")
	if !ok {
		prov, model = inferProvider(ref), ref
	}
	info, known := LookupProvider(prov)
	switch {
	case prov == "":
		return d, fmt.Errorf("cannot tell the provider of %q: ask for provider/model", ref)
	case !known || info.Unsupported != "":
		return d, fmt.Errorf("provider %q is not one breakerd can call", prov)
	case info.Vertex:
		// Its address and token come from a deployment's own settings.
		return d, fmt.Errorf("provider %q is called through a deployment of its own (vertex_ai/<model> with vertex_project and vertex_credentials), not a wildcard", prov)
	case info.Bedrock:
		return d, fmt.Errorf("provider %q is called through a deployment of its own (bedrock/<model> with its AWS key and region), not a wildcard", prov)
	case info.Watsonx || info.SageMaker:
		return d, fmt.Errorf("provider %q is called through a deployment of its own (with its project and credentials), not a wildcard", prov)
	case model == "" || strings.Contains(model, "*"):
		return d, fmt.Errorf("%q names no model", ref)
	}
	out := d
	out.Wildcard, out.Resolved, out.ModelRef = false, true, ref
	out.Model, out.Dialect, out.Embeddings, out.ParamRenames = model, info.Dialect, info.Embeddings, info.ParamRenames
	out.FlattenContent = info.FlattenContent
	if d.Mode == "" {
		out.Mode = modeOfModel(model)
		if api, ok := unservedModes[out.Mode]; ok {
			return d, fmt.Errorf("%q is a model for %s (%s), which breakerd does not serve", model, api, out.Mode)
		}
		if m, ok := modeAPIs[out.Mode]; ok && info.Vertex {
			return d, fmt.Errorf("%q needs OpenAI's %s API, which Vertex AI's OpenAI-compatible endpoint does not serve", model, m.api)
		}
	}
	if d.Provider != prov { // a catch-all: the provider's own base and key
		out.Provider = prov
		if d.APIBase == "" {
			out.APIBase = info.BaseURL
			if info.PathSuffix != "" && out.APIBase != "" {
				out.APIBase += info.PathSuffix
			}
		}
		if d.APIKey == "" {
			out.APIKey = keys[prov]
		}
	}
	keyHeaders(&out, info)
	if out.APIBase == "" {
		return d, fmt.Errorf("provider %q needs an api_base", prov)
	}
	if info.Dialect == DialectAzure && out.APIVersion == "" {
		out.APIVersion = AzureDefaultAPIVersion
	}
	azureRenames(&out)
	out.Group = requested
	out.Name = requested + "/" + prov + "/" + model
	m, priced := knownModel(model)
	out.InputCostPerToken, out.OutputCostPerToken, out.MaxInputTokens, out.Priced = m.in, m.out, m.window, priced
	out.CacheReadCostPerToken, out.CacheWriteCostPerToken, out.LongContext = m.read, m.write, m.long
	out.CacheWriteHourCostPerToken = m.hourPrice(m.in, m.write)
	return out, nil
}

// keyHeaders sends d's key in the provider's KeyHeaders too, unless the
// config sets them.
func keyHeaders(d *Deployment, info ProviderInfo) {
	for _, h := range info.KeyHeaders {
		if _, set := d.Headers[h]; !set && d.APIKey != "" {
			d.Headers = maps.Clone(d.Headers)
			if d.Headers == nil {
				d.Headers = map[string]Secret{}
			}
			d.Headers[h] = d.APIKey
		}
	}
}

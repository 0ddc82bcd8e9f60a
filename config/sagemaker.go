package config

import (
	"strings"
	"time"
)

// sagemaker reads a deployment of a SageMaker endpoint whose container
// serves OpenAI's chat API at its invocations (LiteLLM's sagemaker_chat/:
// Hugging Face's TGI, AWS's LMI): the model names the endpoint, called in
// aws_region_name (awsRegion) at api_base, else the region's SageMaker
// runtime, with calls signed as Bedrock's are (awsCredentials, without
// Bedrock's API keys).
func (c *converter) sagemaker(d Deployment, pp, prov, model string, rd rawDeployment, at func(string) string, defTimeout, defStreamTimeout time.Duration) (Deployment, bool) {
	d.Provider, d.Dialect, d.Model = prov, DialectOpenAI, model
	if d.Wildcard {
		c.leaveOut(d, pp+".model", "a SageMaker endpoint is called through a deployment of its own, with its AWS key and region, not a wildcard",
			"list each endpoint as sagemaker_chat/<endpoint name>")
		return d, false
	}
	v, ok := c.awsParams(d, rd.Params, at)
	if !ok {
		return d, false
	}
	if rd.Params.APIKey != "" {
		c.warnf(at("api_key"), "SageMaker takes no API key: its calls are signed with an AWS key; ignored")
	}
	s := &SageMaker{Endpoint: model}
	s.Region = c.awsRegion(v["aws_region_name"], model)
	if !c.awsCredentials(&d, &s.AWSAuth, pp, v, at, "SageMaker") {
		return d, false
	}
	d.APIKey = ""
	d.APIBase = strings.TrimRight(c.resolve(at("api_base"), rd.Params.APIBase), "/")
	if d.APIBase != "" {
		c.checkAPIBase(at("api_base"), d.APIBase)
	} else {
		d.APIBase = "https://runtime.sagemaker." + s.Region + ".amazonaws.com"
	}
	d.SageMaker = s
	return c.deploymentRest(d, pp, rd, defTimeout, defStreamTimeout), true
}

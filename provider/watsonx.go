package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/breakerd/breakerd/config"
)

// ibmTokens gets a watsonx.ai deployment's IBM Cloud IAM tokens, as IBM's
// SDKs do: its API key traded at IAM's token endpoint, each token kept
// until five minutes before it expires (IAM's last an hour).
type ibmTokens struct {
	key, url string
	rt       http.RoundTripper
	redact   func(string) string
	now      func() time.Time
	token    *renewed[string]
}

// newIBMTokens returns the token source of a watsonx.ai deployment that
// trades its API key for tokens; nil for another, or one given a token or
// a ZenApiKey.
func newIBMTokens(d config.Deployment, rt http.RoundTripper, s Scrubber) *ibmTokens {
	w := d.Watsonx
	if w == nil || w.Token != "" || w.ZenAPIKey != "" {
		return nil
	}
	return &ibmTokens{key: d.APIKey.Value(), url: w.IAMURL, rt: rt, redact: s.Redact, now: time.Now, token: newRenewed(learnToken(s))}
}

// Token returns an IAM access token, fetched when there is none or it
// expires within five minutes. A refused fetch is an *Error with status
// 401: a wrong or revoked key, an outage of this deployment.
func (t *ibmTokens) Token(ctx context.Context) (string, error) {
	return t.token.get(ctx, t.now(), 5*time.Minute, "an IBM Cloud IAM token", t.redact, t.fetch)
}

func (t *ibmTokens) fetch(ctx context.Context, now time.Time) (string, time.Time, error) {
	form := url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {t.key}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, &Error{Err: err, Message: "build the IAM token request: " + t.redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	data, status, err := credentialExchange(ctx, t.rt, t.redact, req, "get an IBM Cloud IAM token")
	if err != nil {
		return "", time.Time{}, err
	}
	var a struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		// IAM's refusal ("BXNIM0415E", "Provided API key could not be
		// found."), which never echoes the key.
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(data, &a)
	if status >= 300 || a.AccessToken == "" {
		return "", time.Time{}, &Error{Status: http.StatusUnauthorized, Type: "authentication_error", Code: a.ErrorCode,
			Message: t.redact(fmt.Sprintf("IBM Cloud IAM gave no token for the API key: %d %s: %s", status, a.ErrorCode, a.ErrorMessage))}
	}
	expiry := now.Add(time.Hour)
	if a.ExpiresIn > 0 {
		expiry = now.Add(time.Duration(a.ExpiresIn) * time.Second)
	}
	return a.AccessToken, expiry, nil
}

// watsonxURLs are a watsonx.ai deployment's URLs: chat's, whole and
// streamed (watsonx.ai streams at its own address), and its embeddings'.
func watsonxURLs(d config.Deployment) (chat, stream, embeddings string) {
	base := d.APIBase + "/ml/v1"
	q := "?version=" + url.QueryEscape(d.APIVersion)
	embeddings = base + "/text/embeddings" + q
	if id := d.Watsonx.DeploymentID; id != "" {
		base += "/deployments/" + url.PathEscape(id)
	}
	return base + "/text/chat" + q, base + "/text/chat_stream" + q, embeddings
}

// watsonxBody is a chat request's body as watsonx.ai takes it: the model
// as model_id with its project_id or space_id (neither for a deployment,
// whose address names them), and tool_choice's "auto", "none" or
// "required" as tool_choice_option, as LiteLLM sends them.
func watsonxBody(body []byte, w *config.Watsonx) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body // the upstream will say what is wrong
	}
	model := m["model"]
	delete(m, "model")
	if w.DeploymentID == "" {
		m["model_id"] = model
		if w.ProjectID != "" {
			m["project_id"], _ = json.Marshal(w.ProjectID)
		} else {
			m["space_id"], _ = json.Marshal(w.SpaceID)
		}
	}
	var choice string
	if json.Unmarshal(m["tool_choice"], &choice) == nil {
		m["tool_choice_option"] = m["tool_choice"]
		delete(m, "tool_choice")
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// watsonxEmbeddings answers an OpenAI embeddings request at watsonx.ai's
// /ml/v1/text/embeddings: its texts as inputs, the model as model_id with
// its project or space, and the vectors and input_token_count back in
// OpenAI's shape.
func (p *openAI) watsonxEmbeddings(ctx context.Context, req *Request) (*Response, error) {
	_, inputs, format, err := embeddingInputs(req, "watsonx.ai's")
	if err != nil {
		return nil, err
	}
	w := p.d.Watsonx
	body := map[string]any{"inputs": inputs, "model_id": p.d.Model}
	if w.ProjectID != "" {
		body["project_id"] = w.ProjectID
	} else {
		body["space_id"] = w.SpaceID
	}
	buf, _ := json.Marshal(body)
	data, err := p.call(ctx, p.url[urlEmbeddings], buf)
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"results"`
		Tokens int `json:"input_token_count"`
	}
	if json.Unmarshal(data, &out) != nil || len(out.Results) != len(inputs) {
		return nil, &Error{Status: http.StatusBadGateway, Message: "upstream sent invalid JSON"}
	}
	vectors := make([][]float64, len(out.Results))
	for i, r := range out.Results {
		vectors[i] = r.Embedding
	}
	return embeddingsResponse(vectors, format, p.d.Model, out.Tokens), nil
}

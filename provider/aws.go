package provider

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breakerd/breakerd/config"
)

// What Bedrock and SageMaker share, as AWS services: Signature Version 4,
// and the shape of their error answers.

// awsErrors maps Bedrock's and SageMaker's error types (x-amzn-ErrorType,
// and a stream's exceptions, named with a lower-case first letter) to
// Anthropic's, and to the status breakerd answers with where AWS's own
// would mislead: a model that failed (424) is the upstream's failure.
var awsErrors = map[string]struct {
	typ    string
	status int
}{
	"ValidationException":                 {"invalid_request_error", 0},
	"AccessDeniedException":               {"permission_error", 0},
	"UnrecognizedClientException":         {"authentication_error", 0},
	"ResourceNotFoundException":           {"not_found_error", 0},
	"ThrottlingException":                 {"rate_limit_error", 0},
	"ServiceQuotaExceededException":       {"rate_limit_error", http.StatusTooManyRequests},
	"ModelNotReadyException":              {"overloaded_error", 0},
	"ModelTimeoutException":               {"api_error", http.StatusGatewayTimeout},
	"ModelErrorException":                 {"api_error", http.StatusBadGateway},
	"ModelStreamErrorException":           {"api_error", http.StatusBadGateway},
	"InternalServerException":             {"api_error", 0},
	"ServiceUnavailableException":         {"overloaded_error", 0},
	"ServiceUnavailable":                  {"overloaded_error", 0},
	"InvalidSignatureException":           {"authentication_error", 0},
	"IncompleteSignatureException":        {"authentication_error", 0},
	"MissingAuthenticationTokenException": {"authentication_error", 0},
	// SageMaker's runtime's.
	"ValidationError":       {"invalid_request_error", 0},
	"ModelError":            {"api_error", http.StatusBadGateway},
	"InternalFailure":       {"api_error", 0},
	"ModelStreamError":      {"api_error", http.StatusBadGateway},
	"InternalStreamFailure": {"api_error", http.StatusBadGateway},
}

// awsErrorType is what awsErrors holds for name, matched
// without regard to its first letter's case.
func awsErrorType(name string) (typ string, status int) {
	if name == "" {
		return "", 0
	}
	v := awsErrors[strings.ToUpper(name[:1])+name[1:]]
	return v.typ, v.status
}

// awsError reads an AWS service's error answer (Bedrock's, SageMaker's):
// {"message": ...} (or "Message"), its type in x-amzn-ErrorType
// ("ThrottlingException:http://..."), read as Anthropic's types
// (awsErrors).
func awsError(resp *http.Response, now time.Time, redact func(string) string) *Error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header, now)}
	var body struct {
		Message  string `json:"message"`
		MessageC string `json:"Message"`
		// A SageMaker container's own error (ModelError, 424): its
		// status and answer.
		OriginalStatus  int    `json:"OriginalStatusCode"`
		OriginalMessage string `json:"OriginalMessage"`
	}
	_ = json.Unmarshal(data, &body)
	e.Message = strings.TrimSpace(cmp.Or(body.Message, body.MessageC, string(data), http.StatusText(resp.StatusCode)))
	name, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	typ, status := awsErrorType(name)
	if status != 0 {
		e.Status = status
	}
	if body.OriginalStatus >= 400 && body.OriginalStatus < 500 {
		// The model refused the request (a prompt too long, a bad
		// parameter): its own 4xx, as it said it.
		e.Status, typ = body.OriginalStatus, ""
		e.Message = cmp.Or(containerMessage(body.OriginalMessage), e.Message)
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "..."
	}
	e.Code = name
	e.Type = anthropicErrorTypes[typ]
	if e.Type == "" {
		e.Type = "server_error"
		if e.Status < 500 {
			e.Type = "invalid_request_error"
		}
	}
	e.Message, e.Code = redact(e.Message), redact(e.Code)
	return e
}

// awsSigner signs calls with AWS Signature Version 4, as AWS's SDKs do:
// the host and every header set (but those a proxy may change) signed,
// with the hash of the body.
type awsSigner struct {
	key             config.AWSKey
	region, service string
}

// unsignedHeaders are the headers AWS's SDKs leave out of a signature.
var unsignedHeaders = []string{"authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding"}

// sign sets req's X-Amz-Date (and X-Amz-Security-Token for a temporary
// key) and Authorization, for body sent at now. req's headers must not
// change after, but for ones added that are left unsigned.
func (s awsSigner) sign(req *http.Request, body []byte, now time.Time) {
	amzDate := now.UTC().Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	if tok := s.key.SessionToken.Value(); tok != "" {
		req.Header.Set("X-Amz-Security-Token", tok)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if h, port, ok := strings.Cut(host, ":"); ok && (port == "443" && req.URL.Scheme == "https" || port == "80" && req.URL.Scheme == "http") {
		host = h
	}
	values := map[string]string{"host": host}
	if req.ContentLength > 0 {
		values["content-length"] = strconv.FormatInt(req.ContentLength, 10)
	}
	for k, vs := range req.Header {
		k = strings.ToLower(k)
		if slices.Contains(unsignedHeaders, k) {
			continue
		}
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		values[k] = strings.Join(trimmed, ",")
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	var canonical strings.Builder
	payload := sha256.Sum256(body)
	var query [][2]string
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			query = append(query, [2]string{awsEscape(k, true), awsEscape(v, true)})
		}
	}
	slices.SortFunc(query, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	canonical.WriteString(req.Method + "\n" + awsEscape(req.URL.EscapedPath(), false) + "\n")
	for i, kv := range query {
		if i > 0 {
			canonical.WriteByte('&')
		}
		canonical.WriteString(kv[0] + "=" + kv[1])
	}
	canonical.WriteString("\n")
	for _, k := range names {
		canonical.WriteString(k + ":" + values[k] + "\n")
	}
	signed := strings.Join(names, ";")
	canonical.WriteString("\n" + signed + "\n" + hex.EncodeToString(payload[:]))
	scope := day + "/" + s.region + "/" + s.service + "/aws4_request"
	hashed := sha256.Sum256([]byte(canonical.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(hashed[:])
	key := []byte("AWS4" + s.key.Secret.Value())
	for _, part := range []string{day, s.region, s.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.key.ID.Value()+"/"+scope+
		", SignedHeaders="+signed+", Signature="+hex.EncodeToString(hmacSHA256(key, toSign)))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// awsEscape percent-encodes s as AWS's URIs are: all but the unreserved
// characters (and '/', unless slash), in upper-case hex.
func awsEscape(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !slash {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

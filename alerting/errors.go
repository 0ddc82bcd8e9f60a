package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/breakerd/breakerd/config"
)

// SendError is a failed delivery. Its message never holds the target URL
// or a token: both are secrets.
type SendError struct {
	Notifier string
	// Status is the HTTP status, 0 for transport failures.
	Status int
	Msg    string
	retry  bool
}

// Error describes the failure without the target's URL or token.
func (e *SendError) Error() string {
	if e.Status > 0 {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Notifier, e.Status, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Notifier, e.Msg)
}

// Retryable reports whether a failed delivery is worth retrying: server
// errors, 429, timeouts and connection failures are; other 4xx are not.
func Retryable(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.retry
	}
	return false
}

// httpStatusError classifies an HTTP answer.
func httpStatusError(notifier string, status int, body string) *SendError {
	return &SendError{Notifier: notifier, Status: status, Msg: body, retry: status >= 500 || status == 429}
}

// transportError describes a failed round trip without its URL.
func transportError(notifier string, err error) *SendError {
	msg := "request failed"
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error's text holds the full URL: leave it out
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timed out"
	case err != nil:
		msg = "request failed: " + err.Error()
	}
	return &SendError{Notifier: notifier, Msg: msg, retry: true}
}

// receiverBody returns what of a receiver's answer may go into an error: at
// most 200 bytes, with the request's URL, its parts and the given secrets
// removed first. Receivers echo the path (Express's 404 does), and a
// webhook URL's path or query is its secret.
func receiverBody(body string, u *url.URL, secrets ...string) string {
	if u != nil {
		secrets = append(secrets, u.String(), u.Path, u.EscapedPath(), u.RawQuery)
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
		secrets = append(secrets, strings.Split(u.Path, "/")...)
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
	}
	// Longest first, so that a whole URL goes before the parts inside it.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, s := range secrets {
		if len(s) >= config.MinRedactLen {
			pairs = append(pairs, s, "[REDACTED]")
		}
	}
	body = strings.NewReplacer(pairs...).Replace(body)
	if len(body) > 200 {
		body = body[:200]
	}
	return body
}

package provider

import (
	"context"
	"errors"
	"testing"
)

// A call that waits for another's token trade gives up when its own
// context ends, rather than waiting out a slow token endpoint.
func TestGoogleTokensWaitAsLongAsTheCall(t *testing.T) {
	g := &googleTokens{token: newRenewed[string](), redact: func(s string) string { return s }}
	g.token.turn <- struct{}{} // a trade in progress
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.Token(ctx)
	var perr *Error
	if !errors.As(err, &perr) || !perr.Canceled {
		t.Fatalf("%v, want the call's cancelation", err)
	}
}

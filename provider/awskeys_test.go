package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
)

// A container's keys (ECS, EKS Pod Identity) come from its endpoint, with
// the token its file holds at each fetch; they are kept until five
// minutes before they expire, then fetched again.
func TestContainerKeysAreRenewedBeforeTheyExpire(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("token-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	var lastAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		lastAuth.Store(r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"no token"}`))
			return
		}
		_, _ = w.Write([]byte(`{"AccessKeyId":"ASIA` + string(rune('0'+n)) + `","SecretAccessKey":"s","Token":"t","Expiration":"2026-12-03T13:00:00Z"}`))
	}))
	defer srv.Close()
	now := t0
	scrub := &learned{}
	k := newAWSKeys(config.Deployment{Bedrock: &config.Bedrock{AWSAuth: config.AWSAuth{Container: &config.AWSContainer{URI: srv.URL + "/v1/credentials", TokenFile: tokenFile}}}},
		http.DefaultTransport, scrub)
	k.now = func() time.Time { return now }
	for _, step := range []struct {
		at     time.Duration
		rotate string
		wantID string
		calls  int64
	}{
		{0, "", "ASIA1", 1},
		{54 * time.Minute, "", "ASIA1", 1},        // kept
		{56 * time.Minute, "token-2", "ASIA2", 2}, // within five minutes of expiring: fetched again, with the new token
	} {
		now = t0.Add(step.at)
		if step.rotate != "" {
			if err := os.WriteFile(tokenFile, []byte(step.rotate), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		key, err := k.Key(context.Background())
		if err != nil || key.ID.Value() != step.wantID || key.SessionToken.Value() != "t" || calls.Load() != step.calls {
			t.Fatalf("at %v: key %q, %v, %d calls; want %s after %d", step.at, key.ID.Value(), err, calls.Load(), step.wantID, step.calls)
		}
	}
	if lastAuth.Load() != "token-2" {
		t.Errorf("the endpoint last saw %q, want the rotated token", lastAuth.Load())
	}
	// Each key fetched is scrubbed from what leaves breakerd.
	if told := scrub.toldOf(); !slices.Equal(told, []string{"ASIA1", "s", "t", "ASIA2", "s", "t"}) {
		t.Errorf("the scrubber was told %q, want each key", told)
	}
	// An endpoint that refuses is the deployment's authentication failure.
	k = newAWSKeys(config.Deployment{Bedrock: &config.Bedrock{AWSAuth: config.AWSAuth{Container: &config.AWSContainer{URI: srv.URL}}}}, http.DefaultTransport, &learned{})
	_, err := k.Key(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || !strings.Contains(e.Message, "401 no token") {
		t.Errorf("refused: %v", err)
	}
}

// A role is assumed with the web identity token its file holds, and
// STS's answer read as its documentation shows it.
func TestRolesAreAssumedWithATokenFile(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("eyJ-irsa\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("Action") != "AssumeRoleWithWebIdentity" || r.PostForm.Get("WebIdentityToken") != "eyJ-irsa" ||
			r.PostForm.Get("RoleSessionName") != "breakerd" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:breakerd</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2026-12-03T13:00:00Z</Expiration>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>`))
	}))
	defer srv.Close()
	k := newAWSKeys(config.Deployment{Bedrock: &config.Bedrock{AWSAuth: config.AWSAuth{Region: "us-east-1", Role: &config.AWSRole{ARN: "arn:aws:iam::1:role/r",
		SessionName: "breakerd", WebIdentityTokenFile: tokenFile, STSEndpoint: srv.URL}}}}, http.DefaultTransport, &learned{})
	key, err := k.Key(context.Background())
	if err != nil || key.ID.Value() != "ASIAIOSFODNN7EXAMPLE" || key.Secret.Value() != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY" ||
		!strings.HasPrefix(key.SessionToken.Value(), "AQoDYXdzEE0a8AN") {
		t.Fatalf("key %+v, %v", key, err)
	}
}

// With nothing else, the EC2 instance's role gives the key, through its
// metadata service's IMDSv2 session (a token, then the role, then its
// key); a service that answers nothing fails at its bound, as off EC2.
func TestInstanceRoleKeys(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" && r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "":
			_, _ = w.Write([]byte("imds-session-token"))
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-session-token":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			_, _ = w.Write([]byte("breakerd-role\n"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/breakerd-role":
			_, _ = w.Write([]byte(`{"Code":"Success","LastUpdated":"2026-12-03T12:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAINSTANCE",` +
				`"SecretAccessKey":"instance-secret","Token":"instance-token","Expiration":"2026-12-03T18:00:00Z"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	k := newAWSKeys(config.Deployment{Bedrock: &config.Bedrock{AWSAuth: config.AWSAuth{Instance: srv.URL}}}, http.DefaultTransport, &learned{})
	k.now = func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }
	for range 2 {
		key, err := k.Key(context.Background())
		if err != nil || key != (config.AWSKey{ID: "ASIAINSTANCE", Secret: "instance-secret", SessionToken: "instance-token"}) {
			t.Fatalf("key %+v, %v", key, err)
		}
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls to the metadata service, want 3 (one session, kept)", calls.Load())
	}

	// A service that answers nothing.
	hang := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	hang.Start()
	defer hang.Close()
	k = newAWSKeys(config.Deployment{Bedrock: &config.Bedrock{AWSAuth: config.AWSAuth{Instance: hang.URL}}}, http.DefaultTransport, &learned{})
	k.imds = time.Millisecond // not a second of the test's
	var e *Error
	if _, err := k.Key(context.Background()); !errors.As(err, &e) || !e.Timeout {
		t.Fatalf("a metadata service that answers nothing: %v, want a timeout", err)
	}
}

package config

import (
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LiteLLM's ssl_verify, in litellm_settings (every deployment's default,
// else $SSL_VERIFY) and in a deployment's litellm_params: false calls an
// https:// upstream without checking its certificate (an internal server
// with a self-signed one); a path checks it against that CA bundle
// instead of the system's; true (the default) checks it as usual.

// tlsVerify is one ssl_verify: skip, or the CA bundle's PEM; set is
// whether it was given at all.
type tlsVerify struct {
	set  bool
	skip bool
	cas  []byte
}

// readTLS reads an ssl_verify value at path: a boolean, a string that
// is one, or a CA bundle's path, whose PEM certificates it reads.
func (c *converter) readTLS(path string, v any) tlsVerify {
	switch v := v.(type) {
	case nil:
		return tlsVerify{}
	case bool:
		return tlsVerify{set: true, skip: !v}
	case string:
		v = c.resolve(path, v)
		if b, err := strconv.ParseBool(v); err == nil {
			return tlsVerify{set: true, skip: !b}
		}
		pem, err := os.ReadFile(v)
		if err != nil {
			c.errf(path, "is neither true, false nor a CA bundle breakerd can read: %v", err)
			return tlsVerify{}
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			c.errf(path, "names %s, which holds no PEM certificate", v)
			return tlsVerify{}
		}
		return tlsVerify{set: true, cas: pem}
	}
	c.errf(path, "must be true, false or a CA bundle's path, got %v", v)
	return tlsVerify{}
}

// defaultTLS reads litellm_settings.ssl_verify, else $SSL_VERIFY, as
// LiteLLM reads them.
func (c *converter) defaultTLS(v any) tlsVerify {
	if v != nil {
		t := c.readTLS("litellm_settings.ssl_verify", v)
		if t.skip {
			c.warnf("litellm_settings.ssl_verify", "%s", skipWarning)
		}
		return t
	}
	if env, ok := c.env("SSL_VERIFY"); ok && env != "" {
		if b, err := strconv.ParseBool(env); err == nil {
			if !b {
				c.warnings = append(c.warnings, "$SSL_VERIFY: "+skipWarning)
			}
			return tlsVerify{set: true, skip: !b}
		}
		c.warnings = append(c.warnings, fmt.Sprintf("$SSL_VERIFY: %q is not true or false; ignored", env))
	}
	return tlsVerify{}
}

// skipWarning says what ssl_verify: false costs.
const skipWarning = "calls to https:// upstreams do not check their TLS certificates: anyone on the way can read and change them, keys included"

// deploymentTLS sets d's certificate checks: its own ssl_verify (at
// pp.ssl_verify), else the default. Skipping them is warned about (here
// for an https:// api_base), as the calls and their key can be read on
// the way.
func (c *converter) deploymentTLS(pp string, d *Deployment, v any) {
	t := c.readTLS(pp+".ssl_verify", v)
	if !t.set {
		t = c.tls
	}
	d.TLSSkipVerify, d.TLSRootCAs = t.skip, t.cas
	if v != nil && t.skip && strings.HasPrefix(d.APIBase, "https://") {
		c.warnf(pp+".ssl_verify", "%s", skipWarning)
	}
}

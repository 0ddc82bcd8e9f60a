package provider

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Fitting JSON Schemas to a model that takes only a subset of them
// (config.Deployment.Fit.SchemaKeywords: Gemini's, a subset of OpenAPI 3.0's).
// Clients send the schemas their tools and structured outputs were
// written with: MCP servers' carry $schema and additionalProperties,
// Pydantic's $defs and $ref, Zod's const and type lists, and Gemini
// refuses each of them with a 400. What can be said in its subset is
// (const as a one-value enum, a list of types as anyOf or nullable, oneOf
// as anyOf, local $refs inlined), and the rest, constraints the model
// was asked to keep, is left out, as LiteLLM and Google's own SDKs do.

// maxSchemaRefs bounds how deep $refs are inlined: a recursive schema (a
// tree of nodes) becomes an object without properties below it.
const maxSchemaRefs = 8

// withSchemasFitted is a chat request's body with its tools' parameters
// and its response format's schema fitted to the keywords keep; body as
// it is when nothing changes, or it cannot be read.
func withSchemasFitted(body []byte, keep []string) []byte {
	out := body
	EachField(body, func(k, v []byte) {
		var at func(any) (any, bool)
		switch string(k) {
		case "tools":
			at = func(tools any) (any, bool) {
				list, _ := tools.([]any)
				changed := false
				for _, t := range list {
					if fn, ok := member(t, "function").(map[string]any); ok && fn["parameters"] != nil {
						var c bool
						fn["parameters"], c = fitSchema(fn["parameters"], keep)
						changed = changed || c
					}
				}
				return tools, changed
			}
		case "response_format":
			at = func(rf any) (any, bool) {
				js, ok := member(rf, "json_schema").(map[string]any)
				if !ok || js["schema"] == nil {
					return rf, false
				}
				var changed bool
				js["schema"], changed = fitSchema(js["schema"], keep)
				return rf, changed
			}
		default:
			return
		}
		if schemasFit(string(k), v, keep) {
			return // read in place: most requests' schemas fit already
		}
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber() // numbers as written
		var val any
		if d.Decode(&val) != nil {
			return
		}
		if val, changed := at(val); changed {
			if raw, err := json.Marshal(val); err == nil {
				if b, ok := SetField(out, string(k), raw); ok {
					out = b
				}
			}
		}
	})
	return out
}

// schemasFit reports whether the schemas in a request's tools or
// response_format (k, raw v) are all in the keywords keep, reading them in
// place.
func schemasFit(k string, v []byte, keep []string) bool {
	fits := true
	in := func(obj []byte, key string, fn func(v []byte)) {
		EachField(obj, func(k, v []byte) {
			if string(k) == key {
				fn(v)
			}
		})
	}
	check := func(schema []byte) { fits = fits && schemaFits(schema, keep) }
	if k == "tools" {
		EachElement(v, func(t []byte) { in(t, "function", func(fn []byte) { in(fn, "parameters", check) }) })
	} else {
		in(v, "json_schema", func(js []byte) { in(js, "schema", check) })
	}
	return fits
}

// schemaFits reports whether a schema (raw) uses only the keywords keep,
// with no list of types, in place.
func schemaFits(schema []byte, keep []string) bool {
	if len(schema) == 0 || schema[0] != '{' {
		return true
	}
	fits := true
	EachField(schema, func(k, v []byte) {
		if !fits {
			return
		}
		known := false
		for _, w := range keep {
			if string(k) == w {
				known = true
				break
			}
		}
		switch {
		case !known:
			fits = false
		case string(k) == "type":
			fits = len(v) == 0 || v[0] != '['
		case string(k) == "properties":
			EachField(v, func(_, p []byte) { fits = fits && schemaFits(p, keep) })
		case string(k) == "items":
			fits = len(v) == 0 || v[0] != '[' && schemaFits(v, keep)
		case string(k) == "anyOf":
			EachElement(v, func(s []byte) { fits = fits && schemaFits(s, keep) })
		}
	})
	return fits
}

// member is obj's member k, nil when obj is not an object.
func member(obj any, k string) any {
	m, _ := obj.(map[string]any)
	return m[k]
}

// fitSchema returns schema with only the keywords keep names, what else
// it says put in their terms where they can, and whether it changed.
func fitSchema(schema any, keep []string) (any, bool) {
	root, ok := schema.(map[string]any)
	if !ok {
		return schema, false
	}
	defs := map[string]any{}
	for _, k := range []string{"$defs", "definitions"} {
		if m, ok := root[k].(map[string]any); ok {
			for name, def := range m {
				defs["#/"+k+"/"+name] = def
			}
		}
	}
	f := schemaFitter{keep: keep, defs: defs}
	out := f.fit(root, 0)
	return out, f.changed
}

type schemaFitter struct {
	keep    []string
	defs    map[string]any // by their $ref
	changed bool
}

// fit returns node fitted; depth is how many $refs were inlined above it.
func (f *schemaFitter) fit(node any, depth int) any {
	m, ok := node.(map[string]any)
	if !ok {
		return node
	}
	if ref, ok := m["$ref"].(string); ok {
		f.changed = true
		def, found := f.defs[ref]
		if !found || depth >= maxSchemaRefs {
			stub := map[string]any{"type": "object"}
			if d, ok := m["description"]; ok {
				stub["description"] = d
			}
			return stub
		}
		inlined := map[string]any{}
		for k, v := range def.(map[string]any) {
			inlined[k] = v
		}
		for k, v := range m { // the referring schema's own words (a description) win
			if k != "$ref" {
				inlined[k] = v
			}
		}
		return f.fit(inlined, depth+1)
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	// What the subset can say another way.
	if c, ok := out["const"]; ok {
		if _, has := out["enum"]; !has {
			if s, ok := c.(string); ok {
				out["enum"] = []any{s}
			}
		}
	}
	if types, ok := out["type"].([]any); ok {
		f.changed = true
		var kinds []any
		for _, t := range types {
			if t == "null" {
				out["nullable"] = true
			} else {
				kinds = append(kinds, t)
			}
		}
		delete(out, "type")
		switch {
		case len(kinds) == 1:
			out["type"] = kinds[0]
		case len(kinds) > 1 && out["anyOf"] == nil:
			var alts []any
			for _, t := range kinds {
				alts = append(alts, map[string]any{"type": t})
			}
			out["anyOf"] = alts
		}
	}
	if one, ok := out["oneOf"]; ok && out["anyOf"] == nil {
		out["anyOf"] = one
	}
	if all, ok := out["allOf"].([]any); ok && len(all) == 1 {
		// Pydantic's way to describe a reference: its one schema is the
		// node's.
		if inner, ok := all[0].(map[string]any); ok {
			delete(out, "allOf")
			for k, v := range inner {
				if _, has := out[k]; !has {
					out[k] = v
				}
			}
			f.changed = true
			return f.fit(out, depth)
		}
	}
	for k := range out {
		if !slices.Contains(f.keep, k) {
			delete(out, k)
			f.changed = true
		}
	}
	// Its subschemas.
	if props, ok := out["properties"].(map[string]any); ok {
		fitted := make(map[string]any, len(props))
		for name, p := range props {
			fitted[name] = f.fit(p, depth)
		}
		out["properties"] = fitted
	}
	switch items := out["items"].(type) {
	case map[string]any:
		out["items"] = f.fit(items, depth)
	case []any: // a tuple's, which the subset cannot say: its first
		f.changed = true
		if len(items) > 0 {
			out["items"] = f.fit(items[0], depth)
		} else {
			delete(out, "items")
		}
	}
	if anyOf, ok := out["anyOf"].([]any); ok {
		fitted := make([]any, len(anyOf))
		for i, s := range anyOf {
			fitted[i] = f.fit(s, depth)
		}
		out["anyOf"] = fitted
	}
	return out
}

package provider

import (
	"encoding/json"
	"strings"
	"testing"
)

// geminiWords are Gemini's Schema fields (config's geminiSchema).
var geminiWords = strings.Fields("type format title description nullable enum maxItems minItems properties required " +
	"minProperties maxProperties minLength maxLength pattern example anyOf propertyOrdering default items minimum maximum")

// A schema is fitted to the keywords a model takes: what its subset can
// say another way is said so, the rest left out, and a schema it takes
// as it is stays unchanged.
func TestFitSchema(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"an MCP server's", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`,
			`{"properties":{"path":{"type":"string"}},"required":["path"],"type":"object"}`},
		{"a const", `{"type":"string","const":"file"}`, `{"enum":["file"],"type":"string"}`},
		{"a nullable type", `{"type":["integer","null"],"exclusiveMinimum":0}`, `{"nullable":true,"type":"integer"}`},
		{"types", `{"type":["string","integer"]}`, `{"anyOf":[{"type":"string"},{"type":"integer"}]}`},
		{"oneOf", `{"oneOf":[{"type":"string"},{"type":"object","propertyNames":{"pattern":"^a"}}]}`, `{"anyOf":[{"type":"string"},{"type":"object"}]}`},
		{"Pydantic's $defs", `{"$defs":{"Pet":{"type":"object","properties":{"name":{"type":"string"}}}},"type":"object","properties":{"pet":{"$ref":"#/$defs/Pet","description":"the pet"}}}`,
			`{"properties":{"pet":{"description":"the pet","properties":{"name":{"type":"string"}},"type":"object"}},"type":"object"}`},
		{"Pydantic's allOf of a $ref", `{"definitions":{"E":{"type":"string","enum":["a","b"]}},"properties":{"x":{"allOf":[{"$ref":"#/definitions/E"}],"description":"d"}}}`,
			`{"properties":{"x":{"description":"d","enum":["a","b"],"type":"string"}}}`},
		{"an unknown $ref", `{"properties":{"x":{"$ref":"https://example.com/s.json"}}}`, `{"properties":{"x":{"type":"object"}}}`},
		{"a tuple's items", `{"type":"array","items":[{"type":"number"},{"type":"string"}]}`, `{"items":{"type":"number"},"type":"array"}`},
		{"deep in items", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","additionalProperties":false}}}}`,
			`{"properties":{"a":{"items":{"type":"object"},"type":"array"}},"type":"object"}`},
		{"deep in anyOf", `{"anyOf":[{"type":"string"},{"type":"object","properties":{"b":{"type":"string","const":"x"}}}]}`,
			`{"anyOf":[{"type":"string"},{"properties":{"b":{"enum":["x"],"type":"string"}},"type":"object"}]}`},
		{"one it takes", `{"type":"object","properties":{"n":{"type":"integer","minimum":1.50}},"required":["n"]}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"g","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":` + tc.in + `}}]}`
			got := withSchemasFitted([]byte(body), geminiWords)
			if tc.want == "" {
				if string(got) != body {
					t.Fatalf("changed to %s", got)
				}
				return
			}
			var out struct {
				Tools []struct {
					Function struct{ Parameters json.RawMessage }
				}
			}
			if err := json.Unmarshal(got, &out); err != nil || string(out.Tools[0].Function.Parameters) != tc.want {
				t.Fatalf("%v: parameters %s, want %s", err, out.Tools[0].Function.Parameters, tc.want)
			}
			rf := `{"model":"g","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":` + tc.in + `}}}`
			if got := withSchemasFitted([]byte(rf), geminiWords); !strings.Contains(string(got), `"schema":`+tc.want) {
				t.Fatalf("response format %s, want its schema %s", got, tc.want)
			}
		})
	}
}

// A recursive schema (a tree) is inlined to a bounded depth, then an
// object.
func TestFitSchemaBoundsRecursion(t *testing.T) {
	in := `{"$defs":{"Node":{"type":"object","properties":{"child":{"$ref":"#/$defs/Node"}}}},"$ref":"#/$defs/Node"}`
	got := string(withSchemasFitted([]byte(`{"tools":[{"type":"function","function":{"name":"f","parameters":`+in+`}}]}`), geminiWords))
	if n := strings.Count(got, `"child"`); n != maxSchemaRefs || strings.Contains(got, "$ref") {
		t.Fatalf("%d levels: %s", n, got)
	}
}

// BenchmarkSchemasFitted: a request with 20 tools of MCP servers'
// schemas (about 16 KB) and a long conversation, fitted for Gemini; and
// the same request's tools already in Gemini's subset, read and left as
// they are.
func BenchmarkSchemasFitted(b *testing.B) {
	tool := `{"type":"function","function":{"name":"t%d","description":"` + strings.Repeat("does a thing ", 20) + `","parameters":` +
		`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,"required":["path"],"properties":{` +
		`"path":{"type":"string","description":"a path"},"limit":{"type":["integer","null"],"exclusiveMinimum":0},` +
		`"mode":{"type":"string","enum":["read","write"]},"opts":{"type":"object","additionalProperties":{"type":"string"}}}}}}`
	var tools []string
	for i := range 20 {
		tools = append(tools, strings.Replace(tool, "%d", string(rune('a'+i)), 1))
	}
	msgs := strings.Repeat(`{"role":"user","content":"`+strings.Repeat("lorem ipsum ", 80)+`"},`, 100)
	body := []byte(`{"model":"g","messages":[` + msgs + `{"role":"user","content":"end"}],"tools":[` + strings.Join(tools, ",") + `]}`)
	fitted := withSchemasFitted(body, geminiWords)
	for _, tc := range []struct {
		name string
		body []byte
	}{{"mcp_schemas", body}, {"already_fitted", fitted}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				withSchemasFitted(tc.body, geminiWords)
			}
		})
	}
}

// Whatever a client's schemas hold, a request stays JSON once fitted, and
// fitting it again changes nothing.
func FuzzSchemasFitted(f *testing.F) {
	f.Add(`{"$defs":{"N":{"type":"object","properties":{"c":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"}`)
	f.Add(`{"type":["string","null"],"const":"a","allOf":[{"oneOf":[{"type":"integer"}]}],"items":[{}]}`)
	f.Add(`{"properties":{"a":{"anyOf":[{"$ref":"#/definitions/x"}]}},"definitions":{"x":{"const":3}}}`)
	f.Fuzz(func(t *testing.T, schema string) {
		body := []byte(`{"tools":[{"type":"function","function":{"name":"f","parameters":` + schema + `}}]}`)
		if !json.Valid(body) {
			return
		}
		once := withSchemasFitted(body, geminiWords)
		if !json.Valid(once) {
			t.Fatalf("fitted to %s", once)
		}
		if twice := withSchemasFitted(once, geminiWords); string(twice) != string(once) {
			t.Fatalf("fitted again: %s\nthen %s", once, twice)
		}
	})
}

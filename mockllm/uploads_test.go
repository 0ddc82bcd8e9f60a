package mockllm

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The mock's Uploads API as OpenAI's: parts completed in the order given
// make a file, if they add up to the upload's size and their MD5 is the
// one given; a part of another upload, a short total or a wrong MD5 is a
// 400, and so is a part for a completed or cancelled upload.
func TestUploads(t *testing.T) {
	_, url := newMock(t, Options{Name: "m"})
	create := func(size int) string {
		_, data := post(t, url+"/v1/uploads", `{"bytes":`+strconv.Itoa(size)+`,"filename":"f.txt","mime_type":"text/plain","purpose":"assistants"}`, nil)
		var u struct{ ID string }
		if json.Unmarshal(data, &u) != nil || u.ID == "" {
			t.Fatalf("create: %s", data)
		}
		return u.ID
	}
	part := func(id, data string) (int, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		fw, _ := w.CreateFormFile("data", "blob")
		_, _ = fw.Write([]byte(data))
		_ = w.Close()
		resp, err := http.Post(url+"/v1/uploads/"+id+"/parts", w.FormDataContentType(), &b)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p struct{ ID string }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p.ID
	}
	complete := func(id string, parts []string, sum string) (int, string) {
		body, _ := json.Marshal(map[string]any{"part_ids": parts, "md5": sum})
		resp, data := post(t, url+"/v1/uploads/"+id+"/complete", string(body), nil)
		return resp.StatusCode, string(data)
	}
	md := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

	up := create(6)
	_, p1 := part(up, "abc")
	_, p2 := part(up, "def")
	other := create(3)
	_, foreign := part(other, "xyz")
	for _, tc := range []struct {
		name  string
		parts []string
		sum   string
		want  int
		holds string
	}{
		{"another upload's part", []string{p1, foreign}, "", 400, "is not a part of upload"},
		{"short of the size", []string{p1}, "", 400, "add up to 3 bytes"},
		{"a wrong MD5", []string{p2, p1}, md("abcdef"), 400, "MD5"},
		{"in the order given", []string{p2, p1}, md("defabc"), 200, `"status":"completed"`},
		{"once", []string{p2, p1}, "", 400, "is completed"},
	} {
		if status, body := complete(up, tc.parts, tc.sum); status != tc.want || !strings.Contains(body, tc.holds) {
			t.Fatalf("%s: %d %s", tc.name, status, body)
		}
	}
	_, data := post(t, url+"/v1/uploads/"+other+"/cancel", "", nil)
	if !strings.Contains(string(data), `"status":"cancelled"`) {
		t.Fatalf("cancel: %s", data)
	}
	if status, _ := part(other, "more"); status != 400 {
		t.Fatalf("a part for a cancelled upload: %d", status)
	}
}

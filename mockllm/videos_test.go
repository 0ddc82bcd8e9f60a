package mockllm

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// The mock's videos are queued when made (from the SDKs' multipart form
// or JSON) and done at the look after batch_polls; their content is
// refused until then; a remix is a new video that names the one it came
// from, an edit or an extension one of the same model; a deleted video is
// gone; a request without a prompt is a 400.
func TestVideos(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	m.SetFaults(Faults{BatchPolls: 1})
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	_ = w.WriteField("model", "sora-2-pro")
	_ = w.WriteField("prompt", "a cat")
	_ = w.Close()
	resp, data := post(t, url+"/v1/videos", form.String(), map[string]string{"Content-Type": w.FormDataContentType()})
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"status":"queued"`) || !strings.Contains(string(data), `"model":"sora-2-pro"`) {
		t.Fatalf("made: %d %s", resp.StatusCode, data)
	}
	id := "video_mock1"
	early, err := http.Get(url + "/v1/videos/" + id + "/content")
	if err != nil {
		t.Fatal(err)
	}
	early.Body.Close()
	if early.StatusCode != 400 {
		t.Fatalf("content before it is done: %d", early.StatusCode)
	}
	for look, want := range []string{"queued", "completed"} {
		if _, v := do(t, "GET", url+"/v1/videos/"+id); v["status"] != want {
			t.Fatalf("look %d: %s, want %s", look+1, mustJSON(v), want)
		}
	}
	resp, err = http.Get(url + "/v1/videos/" + id + "/content")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "mock video "+id+": a cat" || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("content %q", b)
	}
	_, data = post(t, url+"/v1/videos/"+id+"/remix", `{"prompt":"a dog"}`, nil)
	if !strings.Contains(string(data), `"remixed_from_video_id":"`+id+`"`) || !strings.Contains(string(data), `"prompt":"a dog"`) {
		t.Fatalf("remix: %s", data)
	}
	// An edit and an extension of a done video, by id (JSON, and the
	// SDKs' form field video[id]); of one the mock does not have, a 404.
	_, data = post(t, url+"/v1/videos/edits", `{"prompt":"in the rain","video":{"id":"`+id+`"}}`, nil)
	if !strings.Contains(string(data), `"prompt":"in the rain"`) || !strings.Contains(string(data), `"model":"sora-2-pro"`) {
		t.Fatalf("edit: %s", data)
	}
	form.Reset()
	w = multipart.NewWriter(&form)
	_ = w.WriteField("prompt", "and then")
	_ = w.WriteField("video[id]", "video_nope")
	_ = w.Close()
	if resp, data := post(t, url+"/v1/videos/extensions", form.String(), map[string]string{"Content-Type": w.FormDataContentType()}); resp.StatusCode != 404 {
		t.Fatalf("an extension of a video the mock does not have: %d %s", resp.StatusCode, data)
	}
	if _, v := do(t, "GET", url+"/v1/videos"); len(v["data"].([]any)) != 3 {
		t.Fatalf("list: %s", mustJSON(v))
	}
	if status, v := do(t, "DELETE", url+"/v1/videos/"+id); status != 200 || v["deleted"] != true {
		t.Fatalf("delete: %d %s", status, mustJSON(v))
	}
	if status, _ := do(t, "GET", url+"/v1/videos/"+id); status != 404 {
		t.Fatalf("after its deletion: %d", status)
	}
	if resp, _ := post(t, url+"/v1/videos", `{"model":"sora-2"}`, nil); resp.StatusCode != 400 {
		t.Fatalf("no prompt: %d", resp.StatusCode)
	}
}

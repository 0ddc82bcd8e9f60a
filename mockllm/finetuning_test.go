package mockllm

import (
	"encoding/json"
	"strings"
	"testing"
)

// The mock's fine-tuning jobs train on its own files: a job on an unknown
// file is a 400; a job is done when first looked at, with its model, a
// results file of the mock's and a checkpoint; a finished job cannot be
// cancelled, nor one that is not paused resumed.
func TestFineTuningJobs(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	m.files.files = map[string]*mockFile{"file-train": {id: "file-train", purpose: "fine-tune", content: []byte("{}\n")}}
	resp, data := post(t, url+"/v1/fine_tuning/jobs", `{"model":"gpt-x","training_file":"file-nope"}`, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("an unknown training file: %d %s", resp.StatusCode, data)
	}
	_, data = post(t, url+"/v1/fine_tuning/jobs", `{"model":"gpt-x","training_file":"file-train"}`, nil)
	var job struct{ ID, Status string }
	if json.Unmarshal(data, &job) != nil || job.Status != "validating_files" {
		t.Fatalf("made: %s", data)
	}
	status, v := do(t, "GET", url+"/v1/fine_tuning/jobs/"+job.ID)
	results, _ := v["result_files"].([]any)
	if status != 200 || v["status"] != "succeeded" || !strings.HasPrefix(v["fine_tuned_model"].(string), "ft:gpt-x:mock::") || len(results) != 1 {
		t.Fatalf("looked at: %d %s", status, mustJSON(v))
	}
	if _, ok := m.files.files[results[0].(string)]; !ok {
		t.Fatal("the results file is not the mock's")
	}
	if _, v := do(t, "GET", url+"/v1/fine_tuning/jobs/"+job.ID+"/checkpoints"); len(v["data"].([]any)) != 1 {
		t.Fatalf("checkpoints: %s", mustJSON(v))
	}
	for _, action := range []string{"cancel", "resume"} {
		if resp, data := post(t, url+"/v1/fine_tuning/jobs/"+job.ID+"/"+action, "", nil); resp.StatusCode != 400 {
			t.Fatalf("%s a finished job: %d %s", action, resp.StatusCode, data)
		}
	}
}

package mockllm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// OpenAI's fine-tuning API: a job trains on a file of the mock's own
// (validated when made), and, as a batch runs, is done when it is first
// looked at after its creation: succeeded, with its fine-tuned model, a
// result file, three events and a checkpoint. Cancel, pause and resume
// move a job that has not finished.

// mockJob is one fine-tuning job.
type mockJob struct {
	obj    map[string]any
	events []map[string]any
	ckpts  []map[string]any
}

func (j *mockJob) object() map[string]any { return j.obj }

// fineTuning serves POST and GET /fine_tuning/jobs, and a job's calls.
func (s *Server) fineTuning(w http.ResponseWriter, r *http.Request, _ Faults) {
	st := &s.files
	var req struct {
		Model          string `json:"model"`
		TrainingFile   string `json:"training_file"`
		ValidationFile string `json:"validation_file"`
		Suffix         string `json:"suffix"`
	}
	id := r.PathValue("id")
	if id == "" && r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" || req.TrainingFile == "" {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", "a fine-tuning job needs a model and a training_file")
			return
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if id == "" {
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, pageOf(st.jobs, r.URL.Query()))
			return
		}
		for _, f := range []string{req.TrainingFile, req.ValidationFile} {
			if _, ok := st.files[f]; f != "" && !ok {
				s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("invalid training_file: %s", f))
				return
			}
		}
		now := s.now().Unix()
		jid := fmt.Sprintf("ftjob-mock%d", s.ids.Add(1))
		var validation any
		if req.ValidationFile != "" {
			validation = req.ValidationFile
		}
		j := &mockJob{obj: map[string]any{"id": jid, "object": "fine_tuning.job", "model": req.Model, "created_at": now,
			"status": "validating_files", "training_file": req.TrainingFile, "validation_file": validation, "fine_tuned_model": nil,
			"finished_at": nil, "error": nil, "result_files": []string{}, "trained_tokens": nil, "organization_id": "org-mock",
			"seed": 42, "estimated_finish": nil, "integrations": []any{},
			"hyperparameters": map[string]any{"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}}}
		j.events = append(j.events, s.jobEvent(jid, "Created fine-tuning job"))
		if st.jobs == nil {
			st.jobs = map[string]*mockJob{}
		}
		st.jobs[jid] = j
		writeJSON(w, http.StatusOK, j.obj)
		return
	}
	j, ok := st.jobs[id]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Fine-tuning job %s not found.", id))
		return
	}
	action := afterID(r.URL.Path, id)
	if action == "" || action == "events" || action == "checkpoints" {
		s.runJob(st, j)
	}
	status, _ := j.obj["status"].(string)
	switch action {
	case "":
		writeJSON(w, http.StatusOK, j.obj)
	case "events":
		events := make([]map[string]any, len(j.events))
		for i, e := range j.events { // newest first
			events[len(events)-1-i] = e
		}
		writeJSON(w, http.StatusOK, pageOfOrdered(events, r.URL.Query(), 20))
	case "checkpoints":
		writeJSON(w, http.StatusOK, pageOfOrdered(j.ckpts, r.URL.Query(), 10))
	case "cancel", "pause", "resume":
		to := map[string]string{"cancel": "cancelled", "pause": "paused", "resume": "running"}[action]
		if status == "succeeded" || status == "failed" || status == "cancelled" || action == "resume" && status != "paused" {
			s.writeError(w, r, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("Job %s is %s; it cannot be %s.", id, status, to))
			return
		}
		j.obj["status"] = to
		j.events = append(j.events, s.jobEvent(id, "Job "+to))
		writeJSON(w, http.StatusOK, j.obj)
	}
}

// runJob finishes a job that is still validating or running, when it is
// looked at: its model, a results file, its events and a checkpoint.
// Under st.mu.
func (s *Server) runJob(st *fileStore, j *mockJob) {
	if status := j.obj["status"]; status != "validating_files" && status != "running" {
		return
	}
	id, model := j.obj["id"].(string), j.obj["model"].(string)
	tuned := fmt.Sprintf("ft:%s:mock::%s", model, strings.TrimPrefix(id, "ftjob-"))
	results := &mockFile{id: fmt.Sprintf("file-mock%d", s.ids.Add(1)), filename: "step_metrics.csv", purpose: "fine-tune-results",
		created: s.now().Unix(), content: []byte("step,train_loss\n1,0.5\n2,0.25\n")}
	st.files[results.id] = results
	j.obj["status"], j.obj["fine_tuned_model"], j.obj["finished_at"] = "succeeded", tuned, s.now().Unix()
	j.obj["result_files"], j.obj["trained_tokens"] = []string{results.id}, 1000
	j.events = append(j.events, s.jobEvent(id, "Fine-tuning job started"), s.jobEvent(id, "The job has successfully completed"))
	j.ckpts = append(j.ckpts, map[string]any{"id": fmt.Sprintf("ftckpt-mock%d", s.ids.Add(1)), "object": "fine_tuning.job.checkpoint",
		"created_at": s.now().Unix(), "fine_tuning_job_id": id, "fine_tuned_model_checkpoint": tuned + ":ckpt-step-2", "step_number": 2,
		"metrics": map[string]any{"step": 2, "train_loss": 0.25}})
}

// jobEvent is one of a job's events.
func (s *Server) jobEvent(job, msg string) map[string]any {
	return map[string]any{"id": fmt.Sprintf("ftevent-mock%d", s.ids.Add(1)), "object": "fine_tuning.job.event", "created_at": s.now().Unix(),
		"level": "info", "message": msg, "type": "message", "data": map[string]any{}, "fine_tuning_job_id": job}
}

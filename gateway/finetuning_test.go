package gateway_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's fine-tuning API through breakerd with the official SDK: a job
// is made where its training file is, its id names that deployment, and
// its retrieval, events, checkpoints, pause and cancellation go there; its
// files (training, results) are named as breakerd names files, so the
// results download; the list spans the deployments.
func TestFineTuningJobsStayWithTheirFiles(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	openCircuitOfA(t, e)
	training, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`+"\n"),
		"train.jsonl", "application/jsonl"), Purpose: openai.FilePurposeFineTune})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well") // first again: the job still goes where its file is
	e.mocks["a"].Reset()

	job, err := e.client.FineTuning.Jobs.New(ctx, openai.FineTuningJobNewParams{Model: "gpt-4o-mini-2024-07-18", TrainingFile: training.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, at, _, ok := provider.DecodeFineTuningJobID(job.ID); !ok || at != "b" || job.TrainingFile != training.ID {
		t.Fatalf("job %s at %q, training file %s: want it at b, where %s is", job.ID, at, job.TrainingFile, training.ID)
	}
	done, err := e.client.FineTuning.Jobs.Get(ctx, job.ID)
	if err != nil || done.Status != "succeeded" || done.ID != job.ID || !strings.HasPrefix(done.FineTunedModel, "ft:gpt-4o-mini") || len(done.ResultFiles) != 1 {
		t.Fatalf("the job once done: %+v (%v)", done, err)
	}
	results, err := e.client.Files.Content(ctx, done.ResultFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(results.Body)
	results.Body.Close()
	if !strings.HasPrefix(string(csv), "step,train_loss") {
		t.Fatalf("the results file holds %q", csv)
	}
	events, err := e.client.FineTuning.Jobs.ListEvents(ctx, job.ID, openai.FineTuningJobListEventsParams{})
	if err != nil || len(events.Data) != 3 {
		t.Fatalf("events %+v (%v)", events, err)
	}
	ckpts, err := e.client.FineTuning.Jobs.Checkpoints.List(ctx, job.ID, openai.FineTuningJobCheckpointListParams{})
	if err != nil || len(ckpts.Data) != 1 || ckpts.Data[0].FineTuningJobID != job.ID {
		t.Fatalf("checkpoints %+v (%v)", ckpts, err)
	}
	if n := e.mocks["a"].Stats().Files; n != 0 {
		t.Fatalf("a got %d calls for b's job", n)
	}

	second, err := e.client.FineTuning.Jobs.New(ctx, openai.FineTuningJobNewParams{Model: "gpt-4o-mini-2024-07-18", TrainingFile: training.ID})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.client.FineTuning.Jobs.Pause(ctx, second.ID); err != nil || p.Status != "paused" {
		t.Fatalf("pause: %+v (%v)", p, err)
	}
	if c, err := e.client.FineTuning.Jobs.Cancel(ctx, second.ID); err != nil || c.Status != "cancelled" {
		t.Fatalf("cancel: %+v (%v)", c, err)
	}
	list, err := e.client.FineTuning.Jobs.List(ctx, openai.FineTuningJobListParams{})
	if err != nil || len(list.Data) != 2 {
		t.Fatalf("list %+v (%v)", list, err)
	}
}

package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/breakerd/breakerd/provider"
)

// The Containers API and the Responses API's code interpreter through
// breakerd with the official SDK: a container made from a file is made
// where the file is, its id names that deployment, its files are added,
// uploaded, listed and downloaded there; a Responses answer whose code
// interpreter made a container names it by breakerd's id (its
// code_interpreter_call's and its file citation's container_id), so the
// file it cites downloads, and a later request that runs in that
// container goes to its deployment.
func TestContainersStayWithTheirDeployment(t *testing.T) {
	e := newEnv(t, twoStores, "a", "b")
	ctx := context.Background()
	openCircuitOfA(t, e)
	data, err := e.client.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("x,y\n1,2\n"), "data.csv", "text/csv"),
		Purpose: openai.FilePurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * 60e9)
	e.breaker("a:chat").Reset("test: a is well")
	e.mocks["a"].Reset()

	c, err := e.client.Containers.New(ctx, openai.ContainerNewParams{Name: "analysis", FileIDs: []string{data.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _, ok := provider.DecodeContainerID(c.ID); !ok || d != "b" {
		t.Fatalf("container %s at %q: want it at b, where its file is", c.ID, d)
	}
	if _, err := e.client.Containers.Files.New(ctx, c.ID, openai.ContainerFileNewParams{File: openai.File(strings.NewReader("notes"), "notes.txt", "text/plain")}); err != nil {
		t.Fatal(err)
	}
	files, err := e.client.Containers.Files.List(ctx, c.ID, openai.ContainerFileListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var csv string
	for _, f := range files.Data {
		if f.ContainerID != c.ID {
			t.Fatalf("a file of container %s names %s", c.ID, f.ContainerID)
		}
		if f.Path == "/mnt/data/data.csv" {
			csv = f.ID
		}
	}
	if len(files.Data) != 2 || csv == "" {
		t.Fatalf("files %+v", files.Data)
	}
	content, err := e.client.Containers.Files.Content.Get(ctx, c.ID, csv)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(content.Body)
	content.Body.Close()
	if string(body) != "x,y\n1,2\n" {
		t.Fatalf("content %q", body)
	}
	if n := e.mocks["a"].Stats().Files; n != 0 {
		t.Fatalf("a got %d calls", n)
	}

	// The code interpreter makes a container of its own.
	resp, err := e.client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("sum the column")},
		Tools: []responses.ToolUnionParam{{OfCodeInterpreter: &responses.ToolCodeInterpreterParam{
			Container: responses.ToolCodeInterpreterContainerUnionParam{OfCodeInterpreterToolAuto: &responses.ToolCodeInterpreterContainerCodeInterpreterContainerAutoParam{}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Output []struct {
			Type        string `json:"type"`
			ContainerID string `json:"container_id"`
			Content     []struct {
				Text        string `json:"text"`
				Annotations []struct {
					ContainerID string `json:"container_id"`
					FileID      string `json:"file_id"`
				} `json:"annotations"`
			} `json:"content"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(resp.RawJSON()), &out); err != nil || len(out.Output) != 2 || out.Output[0].Type != "code_interpreter_call" {
		t.Fatalf("answer %s (%v)", resp.RawJSON(), err)
	}
	made := out.Output[0].ContainerID
	_, at, _, ok := provider.DecodeContainerID(made)
	cite := out.Output[1].Content[0].Annotations
	if !ok || len(cite) != 1 || cite[0].ContainerID != made {
		t.Fatalf("the code interpreter's container %q (at %q), citation %+v: want breakerd's id in both", made, at, cite)
	}
	got, err := e.client.Containers.Files.Content.Get(ctx, made, cite[0].FileID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != out.Output[1].Content[0].Text {
		t.Fatalf("the cited file holds %q, want the answer %q", body, out.Output[1].Content[0].Text)
	}

	// A request that runs in the first container goes to b, where it is.
	before := e.mocks["b"].Stats().Responses
	if _, err := e.client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("again")},
		Tools: []responses.ToolUnionParam{{OfCodeInterpreter: &responses.ToolCodeInterpreterParam{
			Container: responses.ToolCodeInterpreterContainerUnionParam{OfString: openai.String(c.ID)}}}}}); err != nil {
		t.Fatal(err)
	}
	if n := e.mocks["b"].Stats().Responses; n != before+1 {
		t.Fatalf("b got %d Responses calls, want 1", n-before)
	}
	if err := e.client.Containers.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Containers.Get(ctx, c.ID); err == nil {
		t.Fatal("a deleted container was found")
	}
}

package gateway

import (
	"net/http"

	"github.com/breakerd/breakerd/provider"
)

// OpenAI's stored chat completions: a chat completion made with store:
// true lives at the deployment whose upstream made it, so its id names
// that deployment (provider.EncodeChatCompletionID, in the answer and in
// each chunk of its stream), and its retrieval, metadata update,
// deletion and messages go there under the upstream's id. The list asks
// every deployment that stores them, or those of the model the query
// names (each under the model its upstream knows).

var storedChat = storedObject{noun: "chat completion", collection: "chat/completions", decode: provider.DecodeChatCompletionID,
	api: provider.APIStoredChat, holds: stores, who: "openai and azure", errAPI: provider.APIChat, judged: true}

// storedChatRoutes adds the stored chat completions' calls to the mux
// (route); POST /chat/completions itself is the chat route.
func (g *Gateway) storedChatRoutes(route func(string, ...methodHandler), get func(http.Handler) methodHandler) {
	one := g.storedCall(storedChat, func(*http.Request) string { return "" })
	route("/chat/completions/{id}", get(one), methodHandler{http.MethodPost, one}, methodHandler{http.MethodDelete, one})
	route("/chat/completions/{id}/messages", get(g.storedCall(storedChat, func(*http.Request) string { return "/messages" })))
}

package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/breakerd/breakerd/config"
)

// slackNotifier posts through an incoming webhook, or as a bot with a
// token and channel. As a bot it replies to an outage's opening message in
// its thread when the outage ends.
type slackNotifier struct {
	cfg     config.Notifier
	client  *http.Client
	api     *slack.Client
	threads *threads
}

// threads maps an outage key to the timestamp of its opening message. A
// notifier a reload rebuilds takes them over when it posts as the same bot
// to the same channel (sameBot), so that an outage's recovery still
// replies in its thread.
type threads struct {
	mu sync.Mutex
	ts map[string]string
}

// sameBot reports whether s and o post as the same bot to the same
// channel.
func (s *slackNotifier) sameBot(o *slackNotifier) bool {
	return s.api != nil && o.api != nil && s.cfg.Token == o.cfg.Token && s.cfg.Channel == o.cfg.Channel && s.cfg.APIURL == o.cfg.APIURL
}

func newSlack(nc config.Notifier, client *http.Client) *slackNotifier {
	s := &slackNotifier{cfg: nc, client: client, threads: &threads{ts: map[string]string{}}}
	if nc.WebhookURL == "" {
		opts := []slack.Option{slack.OptionHTTPClient(client)}
		if nc.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(strings.TrimRight(nc.APIURL, "/")+"/"))
		}
		s.api = slack.New(nc.Token.Value(), opts...)
	}
	return s
}

func (s *slackNotifier) Name() string { return s.cfg.Name }

// color is the attachment colour, as in the seed guide: red when open,
// green when recovered, yellow for half-open and flapping.
func color(k Kind) string {
	switch k {
	case KindResolved:
		return "good"
	case KindHalfOpen, KindFlapping, KindTest, KindBudget, KindCooldown, KindSlow, KindHanging:
		return "warning"
	}
	return "danger"
}

// SlackMessage renders an alert as Block Kit blocks plus a coloured
// attachment.
func SlackMessage(a *Alert) (text string, blocks []slack.Block, att slack.Attachment) {
	text = a.Title()
	blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(text, 150), true, false)))
	for _, it := range a.Items {
		if a.Kind == KindCooldown {
			served := "no fallback: requests get 429 until then"
			if it.Fallback != "" {
				served = fmt.Sprintf("`%s`", it.Fallback)
			}
			blocks = append(blocks, slack.NewSectionBlock(nil, []*slack.TextBlockObject{
				md("*Breaker*\n`%s`", it.Breaker),
				md("*Provider / model*\n%s / %s", orDash(it.Labels["provider"]), orDash(it.Labels["model"])),
				md("*Passed over until*\n%s", orDash(it.Labels["until"])),
				md("*Now served by*\n%s", served),
				md("*Provider's words*\n%s", orDash(truncate(it.Reason, 300))),
			}, nil))
			continue
		}
		if a.Kind == KindSlow || a.Kind == KindHanging {
			blocks = append(blocks, slack.NewSectionBlock(nil, []*slack.TextBlockObject{
				md("*Breaker*\n`%s`", it.Breaker),
				md("*Provider / model*\n%s / %s", orDash(it.Labels["provider"]), orDash(it.Labels["model"])),
				md("*Model group*\n%s", orDash(it.Labels["model_group"])),
				md("*What*\n%s", orDash(it.Reason)),
				md("*Next such alert*\nnot before %s", SlowAlertEvery),
			}, nil))
			continue
		}
		if a.Kind == KindBudget {
			blocks = append(blocks, slack.NewSectionBlock(nil, []*slack.TextBlockObject{
				md("*Budget*\n%s `%s`", it.Labels["scope"], it.Labels["name"]),
				md("*Limit*\n%s", orDash(it.Labels["budget"])),
				md("*Passed over until*\n%s", orDash(it.Labels["until"])),
				md("*Now served by*\nthe other deployments of its groups, then their fallbacks"),
				md("*Reason*\n%s", orDash(it.Reason)),
			}, nil))
			continue
		}
		fields := []*slack.TextBlockObject{
			md("*Breaker*\n`%s`", it.Breaker),
			md("*Provider / model*\n%s / %s", orDash(it.Labels["provider"]), orDash(it.Labels["model"])),
			md("*Model group*\n%s", orDash(it.Labels["model_group"])),
			md("*Reason*\n%s", orDash(it.Reason)),
		}
		switch a.Kind {
		case KindResolved:
			fields = append(fields, md("*Open for*\n%s", round(it.OpenFor)), md("*Calls fast-failed meanwhile*\n%d", it.RejectedWhileOpen))
		case KindFlapping:
			fields = append(fields, md("*State changes*\n%d recently", it.Changes), md("*Now*\n%s", it.To))
		default:
			fields = append(fields, md("*Failures*\n%d", it.Counts.Failures), md("*Failure rate*\n%.0f%%", it.Window.FailureRate*100))
			if it.Fallback != "" {
				fields = append(fields, md("*Now served by*\n`%s`", it.Fallback))
			} else if a.Kind == KindOpen || a.Kind == KindReminder {
				fields = append(fields, md("*Now served by*\nno fallback: requests fail fast"))
			}
		}
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
		if it.Key != "" {
			blocks = append(blocks, slack.NewContextBlock("", md("alert key `%s`", it.Key)))
		}
	}
	var links []string
	if a.DashboardURL != "" {
		links = append(links, fmt.Sprintf("<%s|Dashboard>", a.DashboardURL))
	}
	if a.RunbookURL != "" {
		links = append(links, fmt.Sprintf("<%s|Runbook>", a.RunbookURL))
	}
	if len(links) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", md("%s", strings.Join(links, " · "))))
	}
	att = slack.Attachment{Color: color(a.Kind), Fallback: text}
	for _, it := range a.Items {
		second := slack.AttachmentField{Title: "Failures", Value: fmt.Sprint(it.Counts.Failures), Short: true}
		switch a.Kind {
		case KindBudget:
			second = slack.AttachmentField{Title: "Budget", Value: orDash(it.Labels["budget"]), Short: true}
		case KindCooldown:
			second = slack.AttachmentField{Title: "Until", Value: orDash(it.Labels["until"]), Short: true}
		case KindSlow:
			second = slack.AttachmentField{Title: "Took", Value: orDash(it.Labels["took"]), Short: true}
		case KindHanging:
			second = slack.AttachmentField{Title: "Waiting", Value: orDash(it.Labels["took"]), Short: true}
		}
		att.Fields = append(att.Fields,
			slack.AttachmentField{Title: "Provider", Value: orDash(it.Labels["provider"]), Short: true}, second)
	}
	return text, blocks, att
}

func md(format string, args ...any) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf(format, args...), false, false)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (s *slackNotifier) Send(ctx context.Context, a *Alert) error {
	text, blocks, att := SlackMessage(a)
	if s.api == nil {
		msg := &slack.WebhookMessage{Text: text, Blocks: &slack.Blocks{BlockSet: blocks}, Attachments: []slack.Attachment{att}}
		if err := slack.PostWebhookCustomHTTPContext(ctx, s.cfg.WebhookURL.Value(), s.client, msg); err != nil {
			return s.sendError(err)
		}
		return nil
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionAttachments(att)}
	if a.Kind != KindOpen && len(a.Items) == 1 {
		s.threads.mu.Lock()
		ts := s.threads.ts[a.Items[0].Key]
		s.threads.mu.Unlock()
		if ts != "" {
			opts = append(opts, slack.MsgOptionTS(ts), slack.MsgOptionBroadcast())
		}
	}
	_, ts, err := s.api.PostMessageContext(ctx, s.cfg.Channel, opts...)
	if err != nil {
		return s.sendError(err)
	}
	if a.Kind == KindOpen {
		s.threads.mu.Lock()
		for _, it := range a.Items {
			s.threads.ts[it.Key] = ts
		}
		s.threads.mu.Unlock()
	}
	if a.Kind == KindResolved {
		s.threads.mu.Lock()
		for _, it := range a.Items {
			delete(s.threads.ts, it.Key)
		}
		s.threads.mu.Unlock()
	}
	return nil
}

// sendError classifies a slack-go error and strips the webhook URL and
// token from it.
func (s *slackNotifier) sendError(err error) error {
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return httpStatusError(s.Name(), sc.Code, sc.Status)
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &SendError{Notifier: s.Name(), Status: 429, Msg: "rate limited", retry: true}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return &SendError{Notifier: s.Name(), Msg: "slack API error: " + se.Err}
	}
	te := transportError(s.Name(), err)
	for _, secret := range []string{s.cfg.WebhookURL.Value(), s.cfg.Token.Value()} {
		if secret != "" {
			te.Msg = strings.ReplaceAll(te.Msg, secret, "[REDACTED]")
		}
	}
	return te
}

package ivr

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Prompts the engine plays by name, besides those a flow lists: the
// read-back of a collect node with confirm, and a ticket_status node's
// answer ("ticket-status-is", "status-<status>", then "updated-today",
// "updated-yesterday" or "updated" + the days digit by digit + "days-ago").
// Validate checks they exist wherever a node may play them.
const (
	PromptYouEntered       = "you-entered"
	PromptTicketStatusIs   = "ticket-status-is"
	PromptUpdatedToday     = "updated-today"
	PromptUpdatedYesterday = "updated-yesterday"
	PromptUpdated          = "updated"
	PromptDaysAgo          = "days-ago"
	PromptTicketUnknown    = "ticket-unknown"
	PromptTryLater         = "try-later"
	// PromptStatusPrefix + a status ("status-open") names a status word.
	PromptStatusPrefix = "status-"
)

// TicketStatuses returns the statuses a ticket_status node can read, each
// with its prompt PromptStatusPrefix+status.
func TicketStatuses() []string {
	return []string{"new", "open", "pending", "solved", "closed"}
}

// ticketPrompts lists every prompt a ticket_status node may play.
func ticketPrompts() []string {
	out := []string{PromptTicketStatusIs}
	for _, s := range TicketStatuses() {
		out = append(out, PromptStatusPrefix+s)
	}
	out = append(out, PromptUpdatedToday, PromptUpdatedYesterday, PromptUpdated, PromptDaysAgo,
		PromptTicketUnknown, PromptTryLater)
	for d := '0'; d <= '9'; d++ {
		out = append(out, "digit-"+string(d))
	}
	return out
}

// ticketStatus looks up the ticket numbered by n.Var and reads its status.
// An unknown ticket (or no lookup at all) hears PromptTicketUnknown and
// goes to Unknown; a failed lookup hears PromptTryLater and goes to Next.
func (r *run) ticketStatus(ctx context.Context, n *Node) (string, error) {
	lang, bargeIn := r.out.Language, !n.NoBargeIn
	if err := r.play(ctx, lang, n.Prompts, bargeIn); err != nil {
		return "", err
	}
	number := r.out.Vars[n.Var]
	unknown := func() (string, error) {
		r.event("ticket", number+" unknown")
		return firstOf(n.Unknown, n.Next), r.play(ctx, lang, []string{PromptTicketUnknown}, bargeIn)
	}
	if number == "" || r.o.Tickets == nil {
		return unknown()
	}
	st, found, err := r.o.Tickets.TicketStatus(ctx, number, r.o.Caller)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	status := strings.ToLower(strings.TrimSpace(st.Status))
	if err == nil && found && !slices.Contains(TicketStatuses(), status) {
		err = fmt.Errorf("unknown ticket status %q", st.Status)
	}
	switch {
	case err != nil:
		r.event("ticket", number+" error: "+err.Error())
		return n.Next, r.play(ctx, lang, []string{PromptTryLater}, bargeIn)
	case !found:
		return unknown()
	}
	r.event("ticket", number+" "+status)
	prompts := []string{PromptTicketStatusIs, PromptStatusPrefix + status}
	if !st.Updated.IsZero() {
		prompts = append(prompts, updatedPrompts(daysBetween(st.Updated, r.now(), r.e.comp.zones[n]))...)
	}
	return n.Next, r.play(ctx, lang, prompts, bargeIn)
}

// daysBetween counts calendar days in loc from then to now; negative when
// then is later.
func daysBetween(then, now time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(now).Sub(day(then)) / (24 * time.Hour))
}

// updatedPrompts says how long ago a ticket changed; the future counts as today.
func updatedPrompts(days int) []string {
	switch {
	case days <= 0:
		return []string{PromptUpdatedToday}
	case days == 1:
		return []string{PromptUpdatedYesterday}
	}
	out := append([]string{PromptUpdated}, spell(strconv.Itoa(days))...)
	return append(out, PromptDaysAgo)
}

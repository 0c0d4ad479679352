package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/kpi"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/switchboard"
	"github.com/hotline/hotline/internal/wallboard"
)

// agentControl is the supervisors' hand on agents (httpapi.AgentControl):
// the desk changes the ACD state, the hub closes a signed-out softphone.
type agentControl struct {
	desk *switchboard.Desk
	hub  *softphone.Hub
	// agents are the agents of the configured queues.
	agents []string
}

func (c agentControl) SetNotReady(_ context.Context, agent, reason string) error {
	err := c.desk.SetNotReady(agent, reason)
	switch {
	case errors.Is(err, switchboard.ErrUnknownAgent):
		return httpapi.ErrUnknownAgent
	case errors.Is(err, switchboard.ErrUnknownReason):
		return fmt.Errorf("%w: %v", httpapi.ErrUnknownReason, strings.TrimPrefix(err.Error(), "switchboard: "))
	}
	return err
}

func (c agentControl) SignOutAgent(_ context.Context, agent string) error {
	if !slices.Contains(c.agents, agent) {
		return httpapi.ErrUnknownAgent
	}
	c.desk.SignOut(agent)
	c.hub.SignOut(agent)
	return nil
}

// todayFigures computes the wallboard's figures of today so far
// (wallboard.Today) with the KPI engine over the store: the same numbers
// GET /api/v1/stats gives for today.
type todayFigures struct {
	st         httpapi.StatsReader
	thresholds httpapi.StatsThresholds
	loc        *time.Location
}

func (t todayFigures) Today(ctx context.Context, now time.Time) (wallboard.Figures, error) {
	local := now.In(t.loc)
	from := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, t.loc)
	rep, err := httpapi.ReadReport(ctx, t.st, kpi.Config{
		From: from, To: now, Location: t.loc, Threshold: t.thresholds.ServiceLevel,
		QueueThresholds: t.thresholds.Queues, ShortAbandon: t.thresholds.ShortAbandon,
	}, now)
	if err != nil {
		return wallboard.Figures{}, err
	}
	f := wallboard.Figures{Queues: map[string]wallboard.QueueFigures{}, Handled: map[string]int{}}
	for _, q := range rep.Total.Queues {
		v := wallboard.QueueFigures{
			Offered: intOf(q.Offered), Answered: intOf(q.Answered), Abandoned: intOf(q.Abandoned),
			ServiceLevel: q.SLDefault.Value, AbandonRate: q.AbandonRateLong.Value,
		}
		if q.SLDefault.ThresholdS != nil {
			v.ThresholdS = int(*q.SLDefault.ThresholdS)
		}
		if q.SLDefault.ShortAbandonS != nil {
			v.ShortAbandonS = int(*q.SLDefault.ShortAbandonS)
		}
		if q.ASA.Value != nil {
			v.ASAMS = int64(*q.ASA.Value * 1000)
		}
		f.Queues[q.Queue] = v
	}
	for _, a := range rep.Total.Agents {
		f.Handled[a.Agent] = intOf(a.Handled)
	}
	return f, nil
}

// intOf is a count figure's value.
func intOf(f kpi.Figure) int {
	if f.Value == nil {
		return 0
	}
	return int(*f.Value)
}

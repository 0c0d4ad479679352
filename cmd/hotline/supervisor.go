package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/switchboard"
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

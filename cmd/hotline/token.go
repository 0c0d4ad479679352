package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/store"
)

const tokenUsage = `usage: hotline token <command> [flags]

commands:
  create --name NAME --role agent|supervisor|admin
                 create an API token for scripts and helpdesk integrations; it is printed
                 once (the store keeps only its hash) and is sent as "Authorization: Bearer <token>"
  list           list tokens (names, roles, last use; never the tokens)
  disable NAME   stop accepting a token
  enable NAME    accept a disabled token again

every command also takes --config FILE, --data DIR and --database URL to find the store
`

// tokenCmd manages API tokens: hotline token create|list|disable|enable.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, tokenUsage)
		if len(args) == 0 {
			return usageError{errors.New("token: no command")}
		}
		return nil
	}
	fl := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o overrides
	o.register(fl, false)
	var name, role string
	wantPos := 0
	switch args[0] {
	case "create":
		fl.StringVar(&name, "name", "", "token `NAME`, for people (\"helpdesk\")")
		fl.StringVar(&role, "role", "", "`ROLE` the token acts with: agent, supervisor or admin")
	case "list":
	case "disable", "enable":
		wantPos = 1
	default:
		fmt.Fprintf(stderr, "hotline token: unknown command %q\n%s", args[0], tokenUsage)
		return usageError{fmt.Errorf("token: unknown command %q", args[0])}
	}
	pos, err := parseInterleaved(fl, args[1:])
	if err != nil {
		return usageError{err}
	}
	if len(pos) != wantPos {
		fmt.Fprintf(stderr, "hotline token %s: want %d name argument(s), got %d\n", args[0], wantPos, len(pos))
		return usageError{fmt.Errorf("token %s: wrong number of arguments", args[0])}
	}
	if args[0] == "create" {
		if name == "" {
			return errors.New("token create: --name is required")
		}
		if _, err := store.ParseRole(role); err != nil {
			return fmt.Errorf("token create: --role: %w", err)
		}
	}

	st, err := openStore(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	switch args[0] {
	case "create":
		return tokenCreate(ctx, st, name, role, stdout)
	case "list":
		return tokenList(ctx, st, stdout)
	default:
		disabled := args[0] == "disable"
		if err := st.SetTokenDisabled(ctx, pos[0], disabled); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token %s: no token named %q", args[0], pos[0])
			}
			return fmt.Errorf("token %s: %w", args[0], err)
		}
		fmt.Fprintf(stdout, "token %q %sd\n", pos[0], args[0])
		return nil
	}
}

func tokenCreate(ctx context.Context, st store.TokenStore, name, roleName string, stdout io.Writer) error {
	role, err := store.ParseRole(roleName)
	if err != nil {
		return fmt.Errorf("token create: --role: %w", err)
	}
	secret, err := httpapi.GenerateAPIToken()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	t := store.APIToken{ID: id.String(), Name: name, Role: role, Hash: store.TokenHash(secret), CreatedAt: time.Now()}
	if err := st.CreateToken(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("token create: a token named %q already exists", name)
		}
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintf(stdout, "created %s token %q:\n%s\n(shown only now; send it as \"Authorization: Bearer <token>\")\n",
		role, name, secret)
	return nil
}

func tokenList(ctx context.Context, st store.TokenStore, stdout io.Writer) error {
	tokens, err := st.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	if len(tokens) == 0 {
		fmt.Fprintln(stdout, "no API tokens; create one with: hotline token create --name NAME --role ROLE")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED\tSTATUS")
	for _, t := range tokens {
		used, status := "never", "active"
		if t.LastUsedAt != nil {
			used = t.LastUsedAt.Local().Format(time.DateTime)
		}
		if t.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Local().Format(time.DateTime), used, status)
	}
	return tw.Flush()
}

package softphone

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// levelTrace is below slog's Debug: pion's packet-level chatter.
const levelTrace = slog.LevelDebug - 4

// pionLogs adapts pion's logging to slog. pion's Info messages (state
// changes of every transport) are logged at Debug, and so are the warnings
// pion gives in the normal course of every agent's connection (routineWarnings).
type pionLogs struct {
	log *slog.Logger
}

// NewLogger implements logging.LoggerFactory.
func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

// pionLogger is one pion scope's logger.
type pionLogger struct {
	log *slog.Logger
}

func (l pionLogger) logf(level slog.Level, format string, args ...any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (l pionLogger) Trace(msg string)                  { l.logf(levelTrace, "%s", msg) }
func (l pionLogger) Tracef(format string, args ...any) { l.logf(levelTrace, format, args...) }
func (l pionLogger) Debug(msg string)                  { l.logf(slog.LevelDebug, "%s", msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l pionLogger) Info(msg string)                   { l.logf(slog.LevelDebug, "%s", msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args...) }
func (l pionLogger) Warn(msg string)                   { l.warn(msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.warn(fmt.Sprintf(format, args...)) }
func (l pionLogger) Error(msg string)                  { l.logf(slog.LevelError, "%s", msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args...) }

// routineWarnings are parts of the warnings pion logs while every agent's
// peer connection starts or closes normally: connectivity checks before the
// browser's candidates arrive, packets that come before DTLS has set up their
// stream, and reads and accepts cut short by the close. Logged at Warn they
// would bury real problems under a few lines per sign-in and sign-out.
var routineWarnings = []string{
	"Failed to ping without candidate pairs",
	"mux: no endpoint for packet",
	"stream is already closed",
	"read/write on closed pipe",
}

// warn logs a pion warning, at Debug when it is routine.
func (l pionLogger) warn(msg string) {
	level := slog.LevelWarn
	for _, r := range routineWarnings {
		if strings.Contains(msg, r) {
			level = slog.LevelDebug
			break
		}
	}
	l.logf(level, "%s", msg)
}

// PionLoggerFactory returns a pion logging.LoggerFactory writing to log, for
// pion APIs built outside this package (the agent client).
func PionLoggerFactory(log *slog.Logger) logging.LoggerFactory {
	return pionLogs{log: log}
}

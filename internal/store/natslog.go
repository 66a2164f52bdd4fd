package store

import (
	"fmt"
	"log/slog"
)

// natsLogger sends the embedded nats-server's logs to slog. The server's
// notices are lifecycle detail, so they go out at Debug; warnings and
// errors keep their level. Fatal is logged as an error and never exits:
// the daemon decides what a failed store means.
type natsLogger struct {
	logger *slog.Logger
	// onError, when set, reads every warning and error line: the store
	// learns of a file store's write error from it (nats-server answers
	// the failed publish with nothing).
	onError func(line string)
}

// Noticef logs a server notice at Debug.
func (l *natsLogger) Noticef(format string, v ...any) {
	l.logger.Debug(fmt.Sprintf(format, v...), "source", "nats-server")
}

// Warnf logs a server warning.
func (l *natsLogger) Warnf(format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	l.logger.Warn(line, "source", "nats-server")
	if l.onError != nil {
		l.onError(line)
	}
}

// Fatalf logs a fatal server error as an error; it does not exit.
func (l *natsLogger) Fatalf(format string, v ...any) {
	l.logger.Error(fmt.Sprintf(format, v...), "source", "nats-server", "fatal", true)
}

// Errorf logs a server error.
func (l *natsLogger) Errorf(format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	l.logger.Error(line, "source", "nats-server")
	if l.onError != nil {
		l.onError(line)
	}
}

// Debugf logs server debug output.
func (l *natsLogger) Debugf(format string, v ...any) {
	l.logger.Debug(fmt.Sprintf(format, v...), "source", "nats-server")
}

// Tracef logs server protocol traces at Debug.
func (l *natsLogger) Tracef(format string, v ...any) {
	l.logger.Debug(fmt.Sprintf(format, v...), "source", "nats-server", "trace", true)
}

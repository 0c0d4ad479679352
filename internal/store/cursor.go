package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A cursor is the position of the last call of a page: its arrival time in
// Unix microseconds and its id, as "micros:id" in unpadded base64url. The
// next page holds calls strictly before that position in (arrived_at, id)
// order.

// ErrBadCursor reports a Page.Cursor that no ListCalls produced.
var ErrBadCursor = errors.New("store: bad cursor")

// cursorPos is a decoded cursor.
type cursorPos struct {
	ArrivedMicros int64
	ID            string
}

// maxCursorMicros is the end of year 9999, beyond what both databases store.
const maxCursorMicros = 253402300799999999

// maxCursorLen bounds what decodeCursor accepts (an id is a uuid in practice).
const maxCursorLen = 512

func encodeCursor(arrived time.Time, id string) string {
	raw := strconv.FormatInt(arrived.UnixMicro(), 10) + ":" + id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor parses a cursor; "" means the first page (ok == false).
func decodeCursor(s string) (pos cursorPos, ok bool, err error) {
	if s == "" {
		return cursorPos{}, false, nil
	}
	if len(s) > maxCursorLen {
		return cursorPos{}, false, fmt.Errorf("%w: too long", ErrBadCursor)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursorPos{}, false, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	micros, id, found := strings.Cut(string(raw), ":")
	if !found || id == "" {
		return cursorPos{}, false, fmt.Errorf("%w: want micros:id", ErrBadCursor)
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return cursorPos{}, false, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	if n < 0 || n > maxCursorMicros {
		return cursorPos{}, false, fmt.Errorf("%w: time out of range", ErrBadCursor)
	}
	return cursorPos{ArrivedMicros: n, ID: id}, true, nil
}

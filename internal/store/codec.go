package store

import (
	"encoding/json"
	"fmt"
)

// encodePath and encodeVars give the JSON both backends store for IVRPath and
// Vars; empty values are stored as [] and {}.
func encodePath(p []string) (string, error) {
	if len(p) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("store: encode ivr path: %w", err)
	}
	return string(b), nil
}

func encodeVars(v map[string]string) (string, error) {
	if len(v) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode vars: %w", err)
	}
	return string(b), nil
}

// decodePath and decodeVars return nil for empty values.
func decodePath(b []byte) ([]string, error) {
	var p []string
	if len(b) > 0 {
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("store: decode ivr path: %w", err)
		}
	}
	if len(p) == 0 {
		return nil, nil
	}
	return p, nil
}

func decodeVars(b []byte) (map[string]string, error) {
	var v map[string]string
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("store: decode vars: %w", err)
		}
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

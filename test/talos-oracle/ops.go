package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/debug"
)

type request struct {
	ID     int64           `json:"id"`
	Op     string          `json:"op"`
	Params json.RawMessage `json:"params"`
}

type response struct {
	ID     int64  `json:"id"`
	OK     bool   `json:"ok"`
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

type handler func(params json.RawMessage) (any, error)

// handlers maps op names to their implementations. Each takes a JSON object
// of its own params type (unknown fields are rejected so typos in the TS
// wrapper surface at once).
var handlers = map[string]handler{
	"gen-secrets":       typed(genSecrets),
	"load-secrets":      typed(loadSecrets),
	"gen-config":        typed(genConfig),
	"patch":             typed(patchConfig),
	"validate":          typed(validateConfig),
	"gen-talosconfig":   typed(genTalosconfig),
	"load-talosconfig":  typed(loadTalosconfig),
	"check-k8s-version": typed(checkKubernetesVersion),
	"contracts":         typed(listContracts),
}

func typed[P any, R any](fn func(P) (R, error)) handler {
	return func(raw json.RawMessage) (any, error) {
		var params P

		if len(bytes.TrimSpace(raw)) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			decoder := json.NewDecoder(bytes.NewReader(raw))
			decoder.DisallowUnknownFields()

			if err := decoder.Decode(&params); err != nil {
				return nil, fmt.Errorf("bad params: %w", err)
			}
		}

		return fn(params)
	}
}

// dispatch runs one request; a panic inside Talos's library becomes an error
// response so one odd case cannot take the long-lived process down.
func dispatch(req request) (resp response) {
	resp.ID = req.ID

	h, ok := handlers[req.Op]
	if !ok {
		resp.Error = fmt.Sprintf("unknown op %q", req.Op)

		return resp
	}

	defer func() {
		if r := recover(); r != nil {
			resp.OK = false
			resp.Result = nil
			resp.Error = fmt.Sprintf("panic in %s: %v\n%s", req.Op, r, debug.Stack())
		}
	}()

	result, err := h(req.Params)
	if err != nil {
		resp.Error = err.Error()

		return resp
	}

	resp.OK = true
	resp.Result = result

	return resp
}

package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxConfigBytes bounds a machine config handed to the control interface.
const maxConfigBytes = 4 << 20

// ControlHandler is the JSON control interface over HTTP:
//
//	GET    /healthz                 liveness
//	GET    /nodes                   list nodes
//	POST   /nodes                   body = machine config YAML; query id, hostname, mode, bootDelayMs
//	GET    /nodes/{id}              inspect (state, boot error, services, etcd, configs, events)
//	DELETE /nodes/{id}              remove the node (machine destroyed)
//	POST   /nodes/{id}/stop         power off
//	POST   /nodes/{id}/start        power on; optional body = new machine config
//	PUT    /nodes/{id}/faults       set faults (JSON Faults)
//	DELETE /nodes/{id}/faults       clear faults
//	GET    /etcd?node={id}          {"samples": [...]}: the etcd history of the node's cluster
//	POST   /generate                JSON GenerateParams → GeneratedCluster (Talos's generator)
//	POST   /shutdown                stop every node and call onShutdown
func ControlHandler(s *Simulator, onShutdown func()) http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})

	mux.HandleFunc("GET /nodes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.List())
	})

	mux.HandleFunc("POST /nodes", func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)

			return
		}

		req := BootRequest{ID: r.URL.Query().Get("id"), Hostname: r.URL.Query().Get("hostname"), Config: body}

		if m := r.URL.Query().Get("mode"); m != "" {
			if req.Mode, err = ParseRuntimeMode(m); err != nil {
				writeError(w, http.StatusBadRequest, err)

				return
			}
		}

		if d := r.URL.Query().Get("bootDelayMs"); d != "" {
			ms, err := strconv.Atoi(d)
			if err != nil || ms < 0 {
				writeError(w, http.StatusBadRequest, errors.New("bootDelayMs must be a non-negative integer"))

				return
			}

			delay := time.Duration(ms) * time.Millisecond
			req.BootDelay = &delay
		}

		view, err := s.CreateNode(req)
		if err != nil {
			writeError(w, http.StatusConflict, err)

			return
		}

		writeJSON(w, http.StatusCreated, view)
	})

	mux.HandleFunc("GET /nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
		view, err := s.Inspect(r.PathValue("id"))
		respond(w, view, err)
	})

	mux.HandleFunc("DELETE /nodes/{id}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, map[string]string{"deleted": r.PathValue("id")}, s.Delete(r.PathValue("id")))
	})

	mux.HandleFunc("POST /nodes/{id}/stop", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := s.Stop(id); err != nil {
			respond(w, nil, err)

			return
		}

		view, err := s.Inspect(id)
		respond(w, view, err)
	})

	mux.HandleFunc("POST /nodes/{id}/start", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")

		body, err := readBody(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)

			return
		}

		if err := s.Start(id, body); err != nil {
			respond(w, nil, err)

			return
		}

		view, err := s.Inspect(id)
		respond(w, view, err)
	})

	mux.HandleFunc("PUT /nodes/{id}/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if !decodeJSON(w, r, &f) {
			return
		}

		setFaults(w, s, r.PathValue("id"), f)
	})

	mux.HandleFunc("DELETE /nodes/{id}/faults", func(w http.ResponseWriter, r *http.Request) {
		setFaults(w, s, r.PathValue("id"), Faults{})
	})

	mux.HandleFunc("GET /etcd", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("node")
		if id == "" {
			writeError(w, http.StatusBadRequest, errors.New("the node query parameter is required"))

			return
		}

		samples, err := s.EtcdHistory(id)
		if errors.Is(err, ErrNotControlPlane) {
			writeError(w, http.StatusNotFound, err)

			return
		}

		respond(w, map[string][]EtcdSample{"samples": samples}, err)
	})

	mux.HandleFunc("POST /generate", func(w http.ResponseWriter, r *http.Request) {
		var p GenerateParams
		if !decodeJSON(w, r, &p) {
			return
		}

		out, err := GenerateCluster(p)
		respond(w, out, err)
	})

	mux.HandleFunc("POST /shutdown", func(w http.ResponseWriter, _ *http.Request) {
		s.Close()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})

		if onShutdown != nil {
			go onShutdown()
		}
	})

	return mux
}

func setFaults(w http.ResponseWriter, s *Simulator, id string, f Faults) {
	if err := s.SetFaults(id, f); err != nil {
		respond(w, nil, err)

		return
	}

	view, err := s.Inspect(id)
	respond(w, view, err)
}

// decodeJSON reads a strict JSON body; on failure it answers 400 and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, into any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()

	if err := dec.Decode(into); err != nil {
		writeError(w, http.StatusBadRequest, err)

		return false
	}

	return true
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}

	if len(body) > maxConfigBytes {
		return nil, errors.New("machine config too large")
	}

	return body, nil
}

func respond(w http.ResponseWriter, body any, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err)
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

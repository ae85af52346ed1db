package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
)

// runtimeMode is our copy of the three modes Talos validates for; Talos's own
// type lives in an internal package, and the interface only asks for these facts.
type runtimeMode struct {
	name            string
	requiresInstall bool
	inContainer     bool
}

func (m runtimeMode) String() string        { return m.name }
func (m runtimeMode) RequiresInstall() bool { return m.requiresInstall }
func (m runtimeMode) InContainer() bool     { return m.inContainer }

var runtimeModes = map[string]runtimeMode{
	"metal":     {name: "metal", requiresInstall: true},
	"cloud":     {name: "cloud"},
	"container": {name: "container", inContainer: true},
}

type validateParams struct {
	Config string `json:"config"`
	// Mode is metal, cloud or container.
	Mode string `json:"mode"`
	// Strict turns warnings into errors, as `talosctl validate --strict`.
	Strict bool `json:"strict"`
}

type validateResult struct {
	Valid bool `json:"valid"`
	// LoadError is set when the config does not even decode strictly.
	LoadError string   `json:"loadError,omitempty"`
	Errors    []string `json:"errors"`
	Warnings  []string `json:"warnings"`
}

func validateConfig(p validateParams) (validateResult, error) {
	mode, ok := runtimeModes[p.Mode]
	if !ok {
		return validateResult{}, fmt.Errorf("unknown mode %q (want metal, cloud or container)", p.Mode)
	}

	// configloader decodes strictly: unknown keys and duplicate documents are errors.
	provider, err := configloader.NewFromBytes([]byte(p.Config))
	if err != nil {
		return validateResult{Valid: false, LoadError: err.Error(), Errors: []string{err.Error()}, Warnings: []string{}}, nil
	}

	opts := []validation.Option{validation.WithLocal()}
	if p.Strict {
		opts = append(opts, validation.WithStrict())
	}

	warnings, err := provider.ValidateAsClient(mode, opts...)
	if warnings == nil {
		warnings = []string{}
	}

	errs := errorList(err)

	return validateResult{Valid: len(errs) == 0, Errors: errs, Warnings: warnings}, nil
}

// errorList flattens Talos's multierrors into one message per problem; a
// wrapped list ("v1alpha1.Config: 2 errors occurred…") keeps its prefix on each item.
func errorList(err error) []string {
	out := []string{}

	if err == nil {
		return out
	}

	if multi, ok := err.(*multierror.Error); ok { //nolint:errorlint // only this level is flattened here
		for _, inner := range multi.Errors {
			out = append(out, errorList(inner)...)
		}

		return out
	}

	var wrapped *multierror.Error
	if errors.As(err, &wrapped) {
		prefix := strings.TrimSuffix(err.Error(), wrapped.Error())
		for _, inner := range errorList(wrapped) {
			out = append(out, prefix+inner)
		}

		return out
	}

	return append(out, err.Error())
}

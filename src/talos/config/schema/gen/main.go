// Command gen dumps the shape of Talos's machine-configuration Go types — field names in
// declaration order, yaml tags, Go kinds, merge tags and which types bring their own
// marshalling or merge logic — as a TypeScript table.
//
// Talos encodes, merges and strictly decodes its configuration through these Go types, so
// the TypeScript library needs the same facts to produce the same YAML key order, to honour
// `omitempty`, and to merge strategic patches the same way. Extracting them by reflection
// from the machinery release we target keeps the table exact; the logic that uses it is ours.
//
// Regenerate (from this folder):
//
//	go run . "$(go list -m -f '{{.Dir}}' github.com/siderolabs/talos/pkg/machinery)" > ../talos-types.generated.ts
package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/siderolabs/talos/pkg/machinery/config/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/container"
	_ "github.com/siderolabs/talos/pkg/machinery/config/types" // registers every document kind
	"github.com/siderolabs/talos/pkg/machinery/config/types/v1alpha1"
	"github.com/siderolabs/talos/pkg/machinery/gendata"
)

// typeSpec is one entry of the emitted table; short keys keep the generated file small.
type typeSpec struct {
	Kind   string     `json:"k"`
	Elem   string     `json:"e,omitempty"`
	Fields [][]string `json:"f,omitempty"`
	// Custom marks a type whose YAML form is produced by its own MarshalYAML/MarshalText.
	Custom bool `json:"c,omitempty"`
	// Merger marks a type that merges through its own Merge method, not field by field.
	Merger bool `json:"m,omitempty"`
	// IsZero marks a type whose emptiness (for omitempty) comes from its own IsZero method.
	IsZero bool `json:"z,omitempty"`
}

type kindSpec struct {
	APIVersion       string   `json:"apiVersion"`
	Type             string   `json:"type"`
	Named            bool     `json:"named,omitempty"`
	ControlPlaneOnly bool     `json:"controlPlaneOnly,omitempty"`
	ConflictsWith    []string `json:"conflictsWith,omitempty"`
	ConflictsV1Alpha bool     `json:"v1alpha1Conflicts,omitempty"`
}

var (
	yamlMarshaler   = reflect.TypeFor[yaml.Marshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	mergerInterface = reflect.TypeFor[interface{ Merge(other any) error }]()
	isZeroer        = reflect.TypeFor[interface{ IsZero() bool }]()
	durationType    = reflect.TypeFor[time.Duration]()
)

type collector struct {
	types map[string]typeSpec
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

func (c *collector) visit(t reflect.Type) string {
	name := t.String()
	if _, seen := c.types[name]; seen {
		return name
	}

	spec := typeSpec{
		Custom: t.Kind() != reflect.Pointer && (implements(t, yamlMarshaler) || implements(t, textMarshaler)),
		Merger: t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(mergerInterface),
		IsZero: t.Kind() != reflect.Pointer && t.Implements(isZeroer),
	}

	c.types[name] = spec // placeholder against recursion

	switch {
	case t == durationType:
		spec.Kind = "duration"
	case t.Kind() == reflect.Pointer:
		spec.Kind = "ptr"
		spec.Elem = c.visit(t.Elem())
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		spec.Kind = "bytes"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		spec.Kind = "slice"
		spec.Elem = c.visit(t.Elem())
	case t.Kind() == reflect.Map:
		spec.Kind = "map"
		spec.Elem = c.visit(t.Elem())
	case t.Kind() == reflect.Struct && spec.Custom && !strings.HasPrefix(name, "x509.PEMEncoded"):
		// Opaque: the YAML form comes from the type's own marshaller, its Go fields don't show.
		spec.Kind = "struct"
	case t.Kind() == reflect.Struct:
		// The x509 PEM wrappers keep their fields listed: their YAML form is a crt/key map.
		spec.Kind = "struct"

		for i := range t.NumField() {
			field := t.Field(i)
			if !field.IsExported() {
				continue
			}

			tag := strings.Split(field.Tag.Get("yaml"), ",")
			if tag[0] == "-" {
				continue
			}

			fieldName := tag[0]
			if fieldName == "" {
				fieldName = strings.ToLower(field.Name)
			}

			var flags []string

			for _, option := range tag[1:] {
				switch option {
				case "omitempty":
					flags = append(flags, "omitempty")
				case "inline":
					flags = append(flags, "inline")
					fieldName = ""
				case "flow":
					flags = append(flags, "flow")
				}
			}

			for _, option := range strings.Split(field.Tag.Get("merge"), ",") {
				if option == "replace" {
					flags = append(flags, "replace")
				}
			}

			spec.Fields = append(spec.Fields, []string{fieldName, c.visit(field.Type), strings.Join(flags, ",")})
		}
	case t.Kind() == reflect.Interface:
		spec.Kind = "any"
	case t.Kind() == reflect.Bool:
		spec.Kind = "bool"
	case t.Kind() == reflect.String:
		spec.Kind = "string"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		spec.Kind = "int"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uintptr:
		spec.Kind = "uint"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		spec.Kind = "float"
	default:
		panic(fmt.Sprintf("unsupported kind %s for %s", t.Kind(), name))
	}

	c.types[name] = spec

	return name
}

// candidateKinds lists capitalised string literals of the machinery config type sources; the
// ones the config loader accepts are the registered document kinds.
func candidateKinds(machineryDir string) []string {
	constant := regexp.MustCompile(`"([A-Z][A-Za-z0-9]+)"`)
	seen := map[string]bool{}

	err := filepath.WalkDir(filepath.Join(machineryDir, "config", "types"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}

		source, err := os.ReadFile(path)
		if err != nil {
			return err
		}

		for _, match := range constant.FindAllStringSubmatch(string(source), -1) {
			seen[match[1]] = true
		}

		return nil
	})
	if err != nil {
		panic(err)
	}

	kinds := make([]string, 0, len(seen))
	for kind := range seen {
		kinds = append(kinds, kind)
	}

	sort.Strings(kinds)

	return kinds
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen <machinery module dir>")
		os.Exit(2)
	}

	c := &collector{types: map[string]typeSpec{}}
	kinds := map[string]kindSpec{}

	kinds["v1alpha1"] = kindSpec{Type: c.visit(reflect.TypeFor[v1alpha1.Config]())}

	for _, kind := range candidateKinds(os.Args[1]) {
		provider, err := configloader.NewFromBytes(
			[]byte("apiVersion: v1alpha1\nkind: "+kind+"\n"),
			configloader.WithNoValidation(),
		)
		if err != nil {
			continue // not a document kind
		}

		doc := provider.Documents()[0]
		t := reflect.TypeOf(doc)

		spec := kindSpec{APIVersion: doc.APIVersion(), Type: c.visit(t.Elem())}

		if _, ok := doc.(config.NamedDocument); ok {
			spec.Named = true
		}

		if _, ok := doc.(container.ControlplaneOnlyConfig); ok {
			spec.ControlPlaneOnly = true
		}

		if conflicting, ok := doc.(config.ConflictingDocument); ok {
			spec.ConflictsWith = conflicting.ConflictsWithKinds()
		}

		if _, ok := doc.(container.V1Alpha1ConflictValidator); ok {
			spec.ConflictsV1Alpha = true
		}

		kinds[kind] = spec
	}

	typesJSON, err := json.Marshal(c.types)
	if err != nil {
		panic(err)
	}

	kindsJSON, err := json.MarshalIndent(kinds, "", "  ")
	if err != nil {
		panic(err)
	}

	fmt.Printf(`// Code generated by src/talos/config/schema/gen from Talos machinery %s; DO NOT EDIT.
//
// Shapes of Talos's configuration Go types (field order, yaml names, Go kinds, omitempty /
// merge:"replace" tags, custom marshalling and merge) and the registered document kinds.
// See schema/types.ts for how to read it.

import type { GoTypeTable, KindTable } from './types';

export const MACHINERY_VERSION = %q;

export const GO_TYPES: GoTypeTable = %s;

export const DOCUMENT_KINDS: KindTable = %s;
`, gendata.VersionTag, gendata.VersionTag, typesJSON, kindsJSON)
}

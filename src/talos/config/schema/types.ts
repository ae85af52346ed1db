// How to read the generated table of Talos's configuration Go types (talos-types.generated.ts).
//
// Talos decodes every configuration document into Go structs, merges strategic patches field
// by field on those structs and encodes them back with go-yaml. Key order, which empty fields
// disappear and how lists merge all follow from the Go types, so our encoder and merger walk
// the same shapes, looked up by Go type name.

/** Go kind of a type, as far as YAML encoding and Talos's merge care. */
export type GoKind =
  | 'struct'
  | 'ptr'
  | 'slice'
  | 'bytes'
  | 'map'
  | 'string'
  | 'bool'
  | 'int'
  | 'uint'
  | 'float'
  | 'duration'
  | 'any';

/** [yaml key ('' for an inline field), Go type name, comma-separated flags: omitempty, inline, flow, replace]. */
export type GoField = [string, string, string];

export interface GoTypeSpec {
  /** Go kind. */
  k: GoKind;
  /** Element type name for ptr, slice and map. */
  e?: string;
  /** Struct fields in declaration order (the order Talos emits them in). */
  f?: GoField[];
  /** The type marshals itself (MarshalYAML / MarshalText): its YAML value is taken as it is. */
  c?: boolean;
  /** The type merges through its own Merge method. */
  m?: boolean;
  /** The type decides its own emptiness (IsZero) for omitempty. */
  z?: boolean;
}

export type GoTypeTable = Record<string, GoTypeSpec>;

export interface KindSpec {
  /** apiVersion the kind is registered under ('' for the legacy v1alpha1 document). */
  apiVersion: string;
  /** Go type name of the document. */
  type: string;
  /** The document is identified by its `name` besides its kind. */
  named?: boolean;
  /** Talos refuses the document on worker machines. */
  controlPlaneOnly?: boolean;
  /** Kinds that may not appear together with this one (same name). */
  conflictsWith?: string[];
  /** The document has conflict checks against fields of the v1alpha1 document. */
  v1alpha1Conflicts?: boolean;
}

/** Document kind → spec; the legacy document is listed under the kind `v1alpha1`. */
export type KindTable = Record<string, KindSpec>;

export interface FieldInfo {
  name: string;
  type: string;
  omitEmpty: boolean;
  inline: boolean;
  replace: boolean;
}

export function parseField([name, type, flags]: GoField): FieldInfo {
  const set = new Set(flags.split(','));
  return { name, type, omitEmpty: set.has('omitempty'), inline: set.has('inline'), replace: set.has('replace') };
}

package openapi

import (
	"reflect"
	"strings"
	"time"
)

// schema is one JSON Schema (2020-12, as OpenAPI 3.1 has it).
type schema = map[string]any

// direction says whether a type is read from a request or written in an
// answer: a field an answer always carries is required there, while the
// server takes a missing field of a request as its zero value.
type direction int

const (
	output direction = iota
	input
)

// schemas builds the components of the document from Go types, following
// encoding/json's rules, so the description is the wire format.
type schemas struct {
	enums      map[reflect.Type][]string
	components map[string]schema
	names      map[typeKey]string
	taken      map[string]reflect.Type
}

type typeKey struct {
	t   reflect.Type
	dir direction
}

func newSchemas(enums map[reflect.Type][]string) *schemas {
	return &schemas{enums: enums, components: map[string]schema{}, names: map[typeKey]string{},
		taken: map[string]reflect.Type{}}
}

var timeType = reflect.TypeFor[time.Time]()

// of returns the schema of a value of type t.
func (s *schemas) of(t reflect.Type, dir direction) schema {
	if values, ok := s.enums[t]; ok {
		if dir == output {
			// An answer may carry a value not known yet (an instance its
			// agent could not reach has no engine) as the empty string.
			values = append([]string{""}, values...)
		}
		return schema{"type": "string", "enum": values}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return s.of(t.Elem(), dir)
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return schema{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return schema{"type": "string", "contentEncoding": "base64"}
		}
		// A nil slice is written as null.
		return schema{"type": []string{"array", "null"}, "items": s.of(t.Elem(), dir)}
	case reflect.Map:
		return schema{"type": []string{"object", "null"}, "additionalProperties": s.of(t.Elem(), dir)}
	case reflect.Struct:
		if t == timeType {
			return schema{"type": "string", "format": "date-time"}
		}
		return schema{"$ref": "#/components/schemas/" + s.component(t, dir)}
	}
	return schema{} // an interface: any value
}

// component names the component of struct type t, describing it on first
// use.
func (s *schemas) component(t reflect.Type, dir direction) string {
	key := typeKey{t, dir}
	if name, ok := s.names[key]; ok {
		return name
	}
	name := s.freeName(t, dir)
	s.names[key] = name
	s.components[name] = schema{} // placeholder: t may refer to itself
	s.components[name] = s.object(t, dir)
	return name
}

// freeName is the type's name, qualified by its package when another type
// has it, with "Input" after it for the request form of a type that
// answers use too. The document describes every answer before any request,
// so the answer's form keeps the plain name.
func (s *schemas) freeName(t reflect.Type, dir direction) string {
	name := t.Name()
	if other, ok := s.taken[name]; ok && other != t {
		pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
		name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
	}
	if _, ok := s.names[typeKey{t, output}]; ok && dir == input {
		name += "Input"
	}
	s.taken[name] = t
	return name
}

// object is the schema of a struct: its JSON fields, those always written
// required in answers, and nothing else allowed (the server refuses an
// unknown field of a request).
func (s *schemas) object(t reflect.Type, dir direction) schema {
	props := schema{}
	var required []string
	for _, f := range jsonFields(t) {
		fs := s.of(f.typ, dir)
		if f.typ.Kind() == reflect.Pointer && !f.omit {
			fs = schema{"anyOf": []any{fs, schema{"type": "null"}}}
		}
		props[f.name] = fs
		if dir == output && !f.omit {
			required = append(required, f.name)
		}
	}
	out := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// field is one JSON field of a struct.
type field struct {
	name string
	typ  reflect.Type
	omit bool // omitempty or omitzero: not always written
}

// jsonFields lists the fields encoding/json writes for struct type t, the
// fields of embedded structs included.
func jsonFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, jsonFields(et)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		out = append(out, field{name: name, typ: f.Type, omit: omit})
	}
	return out
}

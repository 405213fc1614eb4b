package server

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Setting is one field of Config as its tags describe it.
type Setting struct {
	// Env is the environment variable, Flag the flag's name without dashes.
	Env, Flag string
	// Default is the value used when neither is given.
	Default string
	// Group and Help place and describe the flag in `gatehouse serve --help`.
	Group, Help string
	// Accepted says what values are accepted ("use a whole number above 0").
	Accepted string

	field  int
	kind   string // string, strings, bool, int, float or duration
	sep    string
	check  string
	enum   []string
	secret bool
}

// Settings lists Config's settings in the order of its fields.
func Settings() []Setting { return append([]Setting(nil), settings...) }

var settings = readSettings()

var durationType = reflect.TypeFor[time.Duration]()

// readSettings reads Config's tags; a field it cannot handle is a programming
// error, found by the first test that builds a Loader.
func readSettings() []Setting {
	t := reflect.TypeFor[Config]()
	var out []Setting
	for i := range t.NumField() {
		f := t.Field(i)
		s := Setting{
			Env: f.Tag.Get("env"), Default: f.Tag.Get("envDefault"), Group: f.Tag.Get("group"), Help: f.Tag.Get("help"),
			field: i, sep: f.Tag.Get("envSeparator"), check: f.Tag.Get("check"), secret: f.Tag.Get("secret") == "true",
		}
		if s.Env == "" || s.Group == "" || s.Help == "" {
			panic(fmt.Sprintf("server.Config.%s needs env, group and help tags", f.Name))
		}
		if e := f.Tag.Get("enum"); e != "" {
			s.enum = strings.Split(e, ",")
		}
		if s.sep == "" {
			s.sep = ","
		}
		switch {
		case f.Type == durationType:
			s.kind = "duration"
		case f.Type.Kind() == reflect.String:
			s.kind = "string"
		case f.Type.Kind() == reflect.Bool:
			s.kind = "bool"
		case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
			s.kind = "int"
		case f.Type.Kind() == reflect.Float64:
			s.kind = "float"
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			s.kind = "strings"
		default:
			panic(fmt.Sprintf("server.Config.%s: unsupported type %s", f.Name, f.Type))
		}
		if s.Default == "" && s.kind == "bool" {
			s.Default = "false"
		}
		s.Flag = strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.Env, "GATEHOUSE_"), "_", "-"))
		s.Accepted = s.accepted()
		out = append(out, s)
	}
	return out
}

// accepted says, in a phrase, which values the setting takes.
func (s Setting) accepted() string {
	switch s.check {
	case "postgres":
		return "use a postgres:// or postgresql:// URL, or leave it empty to use the SQLite file (GATEHOUSE_SQLITE_PATH)"
	case "origins":
		return "use origins as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com"
	}
	if len(s.enum) > 0 {
		return "use " + orList(s.enum)
	}
	bound := map[string]string{"positive": " above 0", "nonnegative": " of 0 or more"}[s.check]
	switch s.kind {
	case "bool":
		return "use true or false"
	case "int":
		return "use a whole number" + bound
	case "float":
		return "use a number" + bound
	case "duration":
		return "use a duration" + bound + " such as 15s or 2m"
	}
	return "use any text"
}

func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// assign parses raw into field and checks it. When it is refused, reason
// says what is wrong if Accepted alone does not.
func (s Setting) assign(field reflect.Value, raw string) (reason string, ok bool) {
	var n float64 // the number the bound checks look at
	switch s.kind {
	case "string":
		field.SetString(raw)
	case "strings":
		var list []string
		for _, v := range strings.Split(raw, s.sep) {
			if v = strings.TrimSpace(v); v != "" {
				list = append(list, v)
			}
		}
		field.Set(reflect.ValueOf(list))
	case "bool":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return "", false
		}
		field.SetBool(b)
	case "int":
		i, err := strconv.ParseInt(strings.TrimSpace(raw), 10, field.Type().Bits())
		if err != nil {
			return "", false
		}
		field.SetInt(i)
		n = float64(i)
	case "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || f != f {
			return "", false
		}
		field.SetFloat(f)
		n = f
	case "duration":
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return "", false
		}
		field.SetInt(int64(d))
		n = float64(d)
	}
	if len(s.enum) > 0 && !slices.Contains(s.enum, raw) {
		return "", false
	}
	switch s.check {
	case "positive":
		return "", n > 0
	case "nonnegative":
		return "", n >= 0
	case "postgres":
		return checkPostgresURL(raw)
	case "origins":
		list := field.Interface().([]string)
		for _, o := range list {
			if problem := checkOrigin(o); problem != "" {
				if len(list) == 1 {
					return "it " + problem, false
				}
				return fmt.Sprintf("%q %s", o, problem), false
			}
		}
	}
	return "", true
}

// checkPostgresURL names only the scheme of a refused URL: the rest may hold
// a password.
func checkPostgresURL(raw string) (string, bool) {
	if raw == "" || strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		return "", true
	}
	if scheme, _, ok := strings.Cut(raw, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, "/@") {
		return fmt.Sprintf("its scheme %q is not PostgreSQL", scheme), false
	}
	return "it is not a URL", false
}

// checkOrigin accepts what a browser sends in Origin — scheme://host[:port] —
// or "*", and rs/cors' one-wildcard form https://*.example.com. It returns
// what is wrong, or "".
func checkOrigin(o string) string {
	if o == "*" {
		return ""
	}
	u, err := url.Parse(o)
	switch {
	case err != nil || u.Host == "" || !strings.Contains(o, "://"):
		return "is not an origin"
	case u.Scheme != "http" && u.Scheme != "https":
		return "is not http or https"
	case u.User != nil:
		return "has credentials"
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, "?#"):
		return "has a query or fragment"
	case u.Path == "/":
		return "ends with a slash"
	case u.Path != "":
		return fmt.Sprintf("has a path (%s)", u.Path)
	}
	return ""
}

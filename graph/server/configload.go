package server

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/pflag"
)

// GroupAnnotation is the pflag annotation that holds a flag's group, for help
// that lists flags by group.
const GroupAnnotation = "gatehouse_group"

// otherVariables are the GATEHOUSE_ variables read outside Config: the client
// commands' server and key (apply, export).
var otherVariables = []string{"GATEHOUSE_URL", "GATEHOUSE_KEY"}

// devPrefixes start the variables of the test suite, the benchmarks and the
// migration generator, which a developer's shell may hold while running
// Gatehouse.
var devPrefixes = []string{"GATEHOUSE_TEST_", "GATEHOUSE_BENCH_", "GATEHOUSE_CONSISTENCY_", "GATEHOUSE_DEV_"}

// Loader fills a Config from its flags, the environment and the defaults, in
// that order of precedence, and refuses mistakes: unknown GATEHOUSE_
// variables, values that do not parse, words outside an enum, limits that are
// not positive, a DATABASE_URL that is not PostgreSQL, CORS origins with a
// path. Every error is one line naming the variable or flag and what it
// accepts.
type Loader struct {
	cfg    *Config
	values []*rawValue
	flags  []*pflag.Flag
	source map[string]string // env name → the variable or flag that gave the value
}

// NewLoader returns a Loader for cfg, which it sets to the defaults.
func NewLoader(cfg *Config) *Loader {
	l := &Loader{cfg: cfg, source: map[string]string{}}
	rv := reflect.ValueOf(cfg).Elem()
	for _, s := range settings {
		v := &rawValue{text: s.Default, kind: s.kind}
		usage := s.Help
		if len(s.enum) > 0 {
			usage += ": " + orList(s.enum)
		}
		f := &pflag.Flag{
			Name: s.Flag, Usage: usage + " (env " + s.Env + ")", Value: v, DefValue: s.Default,
			Annotations: map[string][]string{GroupAnnotation: {s.Group}},
		}
		if s.kind == "bool" {
			f.Value, f.NoOptDefVal = boolValue{v}, "true"
		}
		if _, ok := s.assign(rv.Field(s.field), s.Default); !ok {
			panic(fmt.Sprintf("server.Config: the default of %s is refused: %s", s.Env, s.Accepted))
		}
		l.values = append(l.values, v)
		l.flags = append(l.flags, f)
		l.source[s.Env] = s.Env
	}
	return l
}

// Flags returns the flags of the settings in groups (all when none is named).
// Each command adds the set it needs; every set shares the same flags.
func (l *Loader) Flags(groups ...string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("config", pflag.ContinueOnError)
	for i, s := range settings {
		if len(groups) == 0 || slices.Contains(groups, s.Group) {
			fs.AddFlag(l.flags[i])
		}
	}
	return fs
}

// Load fills the Config from environ (os.Environ's form) and the flags set on
// the command line. An empty variable counts as unset.
func (l *Loader) Load(environ []string) error {
	env := map[string]string{}
	var names []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := checkKnown(name); err != nil {
			return err
		}
	}
	rv := reflect.ValueOf(l.cfg).Elem()
	for i, s := range settings {
		raw, from := s.Default, s.Env
		if v := env[s.Env]; v != "" {
			raw = v
		}
		if l.values[i].changed {
			raw, from = l.values[i].text, "--"+s.Flag
		}
		l.source[s.Env] = from
		if reason, ok := s.assign(rv.Field(s.field), raw); !ok {
			return &ConfigError{Setting: from, Value: raw, Secret: s.secret, Reason: reason, Accepted: s.Accepted}
		}
	}
	return nil
}

// Refuse is the error for a setting whose value failed when used — a listen
// address already in use — naming it as it was given.
func (l *Loader) Refuse(env, reason, accepted string) error {
	for _, s := range settings {
		if s.Env == env {
			v := reflect.ValueOf(l.cfg).Elem().Field(s.field).Interface()
			if list, ok := v.([]string); ok {
				v = strings.Join(list, s.sep)
			}
			return &ConfigError{Setting: l.source[env], Value: fmt.Sprint(v), Secret: s.secret, Reason: reason, Accepted: accepted}
		}
	}
	panic("server: no setting " + env)
}

// ConfigError is a refused setting.
type ConfigError struct {
	// Setting is the variable (GATEHOUSE_MAX_DEPTH) or flag (--max-depth).
	Setting string
	// Value is what it was given; a secret's is not shown.
	Value  string
	Secret bool
	// Reason says what is wrong when Accepted alone does not.
	Reason string
	// Accepted says what would be accepted.
	Accepted string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.Setting)
	if !e.Secret {
		if strings.HasPrefix(e.Setting, "--") {
			b.WriteString(" ")
		} else {
			b.WriteString("=")
		}
		b.WriteString(strconv.Quote(e.Value))
	}
	b.WriteString(" is not accepted: ")
	if e.Reason != "" {
		b.WriteString(e.Reason + "; ")
	}
	b.WriteString(e.Accepted)
	return b.String()
}

// UnknownVariableError is a GATEHOUSE_ variable that Gatehouse does not read:
// most likely a typo, which would otherwise leave a setting at its default.
type UnknownVariableError struct {
	Name    string
	Nearest string
}

func (e *UnknownVariableError) Error() string {
	return fmt.Sprintf("unknown variable %s: did you mean %s? (`gatehouse serve --help` lists them all)", e.Name, e.Nearest)
}

func checkKnown(name string) error {
	if !strings.HasPrefix(name, "GATEHOUSE_") || slices.Contains(otherVariables, name) {
		return nil
	}
	for _, p := range devPrefixes {
		if strings.HasPrefix(name, p) {
			return nil
		}
	}
	known := slices.Clone(otherVariables)
	for _, s := range settings {
		if s.Env == name {
			return nil
		}
		known = append(known, s.Env)
	}
	// Compared without the prefix, so that DATABASE_URL with GATEHOUSE_
	// before it finds DATABASE_URL.
	short := strings.TrimPrefix(name, "GATEHOUSE_")
	best, bestDist := "", -1
	for _, k := range known {
		if d := levenshtein.ComputeDistance(short, strings.TrimPrefix(k, "GATEHOUSE_")); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	return &UnknownVariableError{Name: name, Nearest: best}
}

// rawValue keeps a flag's text as given; Load parses and checks it, so that a
// flag and its variable are refused with the same message.
type rawValue struct {
	text    string
	kind    string
	changed bool
}

func (v *rawValue) String() string { return v.text }

func (v *rawValue) Set(s string) error {
	if v.changed && v.kind == "strings" {
		s = v.text + "," + s // --cors-origins a --cors-origins b
	}
	v.text, v.changed = s, true
	return nil
}

// Type is the word pflag shows after the flag's name: the setting's kind.
func (v *rawValue) Type() string { return v.kind }

// boolValue lets a boolean flag stand alone (--no-listen).
type boolValue struct{ *rawValue }

func (boolValue) IsBoolFlag() bool { return true }

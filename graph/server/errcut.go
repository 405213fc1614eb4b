package server

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Errors never echo unbounded input. Input limits (graph/limits) bound each
// value, but a message may still quote one (a 2,000-character description)
// or list hundreds (every unknown grant of a 1,000-item list); the presenter
// passes every message and extension through cutError, which keeps an
// error within a few KB:
//
//   - a quoted string ("…") or a run of characters without spaces longer
//     than maxQuoted characters is cut there, marked with "…";
//   - a list of more than maxItems items — separated by ", " or "; ", or a
//     Go-formatted [a b c] — keeps maxItems and says "and N more";
//   - a message is at most maxMessage bytes;
//   - in extensions, lists keep maxItems items (extensions.omitted counts
//     the rest, by extension) and strings maxQuoted characters.
const (
	maxQuoted  = 100
	maxItems   = 20
	maxMessage = 2000
)

var (
	quoted   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	longWord = regexp.MustCompile(`[^\s"]{` + fmt.Sprint(maxQuoted+1) + `,}`)
	bracket  = regexp.MustCompile(`\[[^\[\]]*\]`)
)

// cutMessage bounds a message.
func cutMessage(msg string) string {
	if len(msg) <= 3*(maxItems+1)-2 {
		return msg // too short to hold more than maxItems items or a long word
	}
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if utf8.RuneCountInString(q) <= maxQuoted+2 {
			return q
		}
		return cutRunes(q, maxQuoted+1) + `…"`
	})
	msg = longWord.ReplaceAllStringFunc(msg, func(w string) string { return cutRunes(w, maxQuoted) + "…" })
	msg = bracket.ReplaceAllStringFunc(msg, func(b string) string {
		return "[" + cutList(b[1:len(b)-1], " ") + "]"
	})
	msg = cutList(msg, "; ")
	msg = cutList(msg, ", ")
	if len(msg) > maxMessage {
		msg = cutRunes(msg, maxMessage) + "…"
		for len(msg) > maxMessage+len("…") { // multi-byte runes: cut by bytes at a rune boundary
			_, size := utf8.DecodeLastRuneInString(strings.TrimSuffix(msg, "…"))
			msg = msg[:len(msg)-len("…")-size] + "…"
		}
	}
	return msg
}

// cutList keeps the first maxItems items of s split by sep.
func cutList(s, sep string) string {
	parts := strings.Split(s, sep)
	if len(parts) <= maxItems {
		return s
	}
	return strings.Join(parts[:maxItems], sep) + fmt.Sprintf("%sand %d more", sep, len(parts)-maxItems)
}

// cutRunes is s's first n characters.
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// cutExtensions bounds an error's extensions in place.
func cutExtensions(ext map[string]any) {
	omitted := map[string]int{}
	for k, v := range ext {
		switch x := v.(type) {
		case string:
			ext[k] = cutValue(x)
		case []string:
			ext[k] = cutSlice(x, k, omitted, func(s string) string { return cutValue(s).(string) })
		case []any:
			ext[k] = cutSlice(x, k, omitted, cutValue)
		}
	}
	if len(omitted) > 0 {
		ext["omitted"] = omitted
	}
}

// cutSlice keeps maxItems items of x, each cut, counting the rest in
// omitted[key].
func cutSlice[T any](x []T, key string, omitted map[string]int, cut func(T) T) []T {
	if len(x) > maxItems {
		omitted[key] = len(x) - maxItems
		x = x[:maxItems]
	}
	out := make([]T, len(x))
	for i, v := range x {
		out[i] = cut(v)
	}
	return out
}

// cutValue cuts a string at maxQuoted characters; other values stay.
func cutValue(v any) any {
	if s, ok := v.(string); ok && utf8.RuneCountInString(s) > maxQuoted {
		return cutRunes(s, maxQuoted) + "…"
	}
	return v
}

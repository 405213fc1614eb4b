package server

import (
	"fmt"
	"strings"
	"testing"
)

func TestInput_ErrorMessagesAreCut(t *testing.T) {
	long := strings.Repeat("x", 1_000_000)
	var keys []string
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("key.%d", i))
	}
	cases := []struct{ in, want string }{
		{"role \"full_access\" not found", "role \"full_access\" not found"},
		{fmt.Sprintf("email %q is invalid", long), "email \"" + strings.Repeat("x", 100) + "…\" is invalid"},
		{long + " is not a valid SodLevel", strings.Repeat("x", 100) + "… is not a valid SodLevel"},
		{"unknown permissions: " + strings.Join(keys, ", "), "unknown permissions: " + strings.Join(keys[:20], ", ") + ", and 980 more"},
		{"invalid: " + strings.Join(keys[:21], "; "), "invalid: " + strings.Join(keys[:20], "; ") + "; and 1 more"},
		{fmt.Sprintf("needs permissions you do not hold: %v", keys), "needs permissions you do not hold: [" + strings.Join(keys[:20], " ") + " and 980 more]"},
		// Prose with a few commas is left alone.
		{"a, b, c: the account's plan does not include customRoles, sorry", "a, b, c: the account's plan does not include customRoles, sorry"},
	}
	for _, c := range cases {
		if got := cutMessage(c.in); got != c.want {
			t.Errorf("cutMessage(%.80q…)\n got  %.300q\n want %.300q", c.in, got, c.want)
		}
	}
	// Whatever the message, the result is bounded.
	spaced := strings.Repeat("word ", 200_000)
	if got := cutMessage(spaced); len(got) > maxMessage+len("…") {
		t.Errorf("a message of spaced words is %d bytes", len(got))
	}
	if got := cutMessage(strings.Repeat("é ", 3000)); len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("multi-byte message: %d bytes", len(got))
	}
}

func TestInput_ErrorExtensionsAreCut(t *testing.T) {
	var keys []string
	for i := range 50 {
		keys = append(keys, fmt.Sprintf("key.%d", i))
	}
	ext := map[string]any{"code": "FORBIDDEN", "missingPermissions": keys, "invalid": []any{strings.Repeat("y", 500)}, "holders": 3}
	cutExtensions(ext)
	if got := ext["missingPermissions"].([]string); len(got) != 20 || got[19] != "key.19" {
		t.Errorf("missingPermissions: %v", got)
	}
	if got := ext["invalid"].([]any)[0].(string); got != strings.Repeat("y", 100)+"…" {
		t.Errorf("invalid: %q", got)
	}
	if fmt.Sprint(ext["omitted"]) != "map[missingPermissions:30]" || ext["code"] != "FORBIDDEN" || ext["holders"] != 3 {
		t.Errorf("extensions: %v", ext)
	}
}

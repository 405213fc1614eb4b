// Package authz is Gatehouse's decision engine: permission key grammar (K2),
// wildcard patterns (K3), implications (K4), the master list bound (K5), deny
// masks (K6), role excludes (R2), grant validation (R5), no-escalation checks
// (R7) and decisions with reasons, grant paths and constraints (D1–D4).
//
// It is pure Go with no I/O: callers compile a Policy per account (catalog and
// master list), then a Subject per set of roles, and ask it. Both are
// immutable and safe for concurrent use.
package authz

import "strings"

// MaxKeyLen is the longest permission key or pattern (K2, K3).
const MaxKeyLen = 128

// ValidKey reports whether s is a permission key (K2): 1–128 characters,
// segments of [A-Za-z0-9_-]+ joined by '.' or ':'.
func ValidKey(s string) bool {
	if len(s) == 0 || len(s) > MaxKeyLen {
		return false
	}
	segment := false // inside a non-empty segment
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			segment = true
		case c == '.' || c == ':':
			if !segment {
				return false
			}
			segment = false
		default:
			return false
		}
	}
	return segment
}

// ValidPattern reports whether s may be granted (K3): a key, "*", or a key
// followed by ".*" or ":*", 128 characters at most.
func ValidPattern(s string) bool {
	return ValidKey(s) || IsWildcard(s)
}

// IsWildcard reports whether p is a well-formed wildcard pattern: "*", or
// "<key>.*" / "<key>:*" of at most 128 characters.
func IsWildcard(p string) bool {
	if p == "*" {
		return true
	}
	n := len(p)
	return n >= 3 && n <= MaxKeyLen && p[n-1] == '*' && (p[n-2] == '.' || p[n-2] == ':') && ValidKey(p[:n-2])
}

// prefix is the part of a well-formed wildcard a key must start with,
// separator included ("" for "*").
func prefix(wildcard string) string {
	return strings.TrimSuffix(wildcard, "*")
}

// Match reports whether pattern matches key (K3): a wildcard matches every key
// that starts with its prefix, separator included, at any depth; a key
// matches itself. A malformed pattern or key matches nothing. Match knows
// nothing of kinds: that wildcards never match deny masks (K6) is the
// Policy's business.
func Match(pattern, key string) bool {
	return ValidPattern(pattern) && ValidKey(key) && match(pattern, key)
}

// match is Match for a pattern and a key already known to be well-formed.
func match(pattern, key string) bool {
	if pattern == "*" {
		return true
	}
	if IsWildcard(pattern) {
		pre := prefix(pattern)
		return len(key) > len(pre) && strings.HasPrefix(key, pre)
	}
	return pattern == key
}

// CoversPattern reports whether wider gives at least what narrower gives,
// both being keys or wildcards (R7): `*` covers everything; a wildcard covers
// the keys it matches and every wildcard whose prefix extends its own at a
// separator boundary (`identity.*` covers `identity.whatsapp.*`, not
// `identityx.*`, not `identity:x.*`, not `*`); a key covers only itself.
// Malformed patterns cover and are covered by nothing.
func CoversPattern(wider, narrower string) bool {
	if !ValidPattern(wider) || !ValidPattern(narrower) {
		return false
	}
	switch {
	case wider == "*" || wider == narrower:
		return true
	case narrower == "*" || !IsWildcard(wider):
		return false
	case IsWildcard(narrower):
		return strings.HasPrefix(prefix(narrower), prefix(wider))
	}
	return match(wider, narrower)
}

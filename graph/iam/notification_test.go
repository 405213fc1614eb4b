package iam

import (
	"testing"
	"time"
)

// A change notification names its account (the platform's is ""), when the
// change committed, and its server: the sender knows its own, another
// server does not, and both read the time (the lag metric).
func TestNotificationPayload_OwnAndSent(t *testing.T) {
	s, other := New(nil, "postgres", nil), New(nil, "postgres", nil)
	at := time.Unix(1767225600, 123456789)
	for _, account := range []string{"acc_01M8NP3MJBPSNTG5SRKH0WCNRW", ""} {
		p := s.notificationPayload(account, at)
		if !s.OwnNotification(p) || other.OwnNotification(p) {
			t.Errorf("%q: own to its sender %v, to another server %v", p, s.OwnNotification(p), other.OwnNotification(p))
		}
		if sent, ok := NotificationSent(p); !ok || !sent.Equal(at) {
			t.Errorf("%q: sent %v, %v; want %v", p, sent, ok, at)
		}
	}
	// An older server's payload (no instance) is no one's own.
	if s.OwnNotification("acc_x 1767225600123456789") {
		t.Error("a payload without an instance counted as own")
	}
}

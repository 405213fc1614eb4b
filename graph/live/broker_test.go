package live

import (
	"errors"
	"testing"
)

func woken(s *Sub) bool {
	select {
	case <-s.Wake():
		return true
	default:
		return false
	}
}

func TestBroker_WakesOnlyTheAccountsSubscribers(t *testing.T) {
	b := New(0)
	a, _ := b.Subscribe("acc_a", "p1")
	other, _ := b.Subscribe("acc_b", "p1")
	b.Changed("acc_a")
	b.Changed("acc_a") // coalesces: one pending wake-up
	if !woken(a) || woken(a) {
		t.Fatal("acc_a's subscriber: want exactly one pending wake-up")
	}
	if woken(other) {
		t.Fatal("acc_b's subscriber was woken by acc_a")
	}
	b.Changed("") // the platform's chain wakes everyone
	if !woken(a) || !woken(other) {
		t.Fatal("a platform change must wake every subscriber")
	}
	a.Close()
	a.Close()
	b.Changed("acc_a")
	if woken(a) || b.Active() != 1 {
		t.Fatalf("a closed subscriber is still registered (active %d)", b.Active())
	}
}

func TestBroker_LimitsEachPrincipal(t *testing.T) {
	b := New(2)
	s1, _ := b.Subscribe("acc", "p")
	if _, err := b.Subscribe("acc2", "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe("acc", "p"); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third subscription of p: %v", err)
	}
	if _, err := b.Subscribe("acc", "q"); err != nil {
		t.Fatalf("another principal: %v", err)
	}
	s1.Close()
	if _, err := b.Subscribe("acc", "p"); err != nil {
		t.Fatalf("after closing one: %v", err)
	}
	if b.Refused() != 1 || b.Active() != 3 {
		t.Fatalf("refused %d, active %d", b.Refused(), b.Active())
	}
	b.Close()
	select {
	case <-b.Done():
	default:
		t.Fatal("Done not closed")
	}
}

package database

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/lib/pq"
)

// ListenerName is the application_name of the listener's connection.
const ListenerName = "gatehouse-listener"

// Listen calls notify with the payload of every NOTIFY on channel until ctx
// ends. It calls gap whenever notifications may have been missed — when the
// connection is (re)established — so that the caller can drop what it
// caches. The listener reconnects by itself.
func Listen(ctx context.Context, url, channel string, notify func(payload string), gap func(), log *slog.Logger) error {
	if !strings.Contains(url, "application_name=") {
		url += sep(url) + "application_name=" + ListenerName // operators (and tests) can find it
	}
	l := pq.NewListener(url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventReconnected:
			gap()
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			log.Warn("invalidation listener lost its connection", "err", err)
		}
	})
	if err := l.Listen(channel); err != nil {
		l.Close()
		return err
	}
	go func() {
		defer l.Close()
		ping := time.NewTicker(30 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-l.Notify:
				if n == nil { // the connection was re-established
					gap()
					continue
				}
				notify(n.Extra)
			case <-ping.C:
				_ = l.Ping()
			}
		}
	}()
	gap() // anything before the first LISTEN was missed
	return nil
}

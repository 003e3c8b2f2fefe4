package watchers

import "errors"

// ErrDropped is logged by Table.Request, wrapped, when a watcher was
// dropped while its offer was being made (its connection closed, say):
// the offer is not sent.
var ErrDropped = errors.New("watcher dropped while its offer was made")

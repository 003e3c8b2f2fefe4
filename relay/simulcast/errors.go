package simulcast

import "errors"

// ErrBadConfig is returned by NewSelector for a Config it cannot use.
var ErrBadConfig = errors.New("simulcast: bad config")

// ErrNoLayer is returned by Selector.Pin for a layer index out of range.
var ErrNoLayer = errors.New("simulcast: no such layer")

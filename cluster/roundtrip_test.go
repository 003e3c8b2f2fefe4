package cluster_test

import (
	"context"

	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// roundTrips counts a client's round trips to Redis: one per command sent
// on its own, one per pipeline.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

var _ interface {
	DialHook(redis.DialHook) redis.DialHook
} = (*roundTrips)(nil)

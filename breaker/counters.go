package breaker

import (
	"runtime"
	"sync/atomic"
)

// Counts are a breaker's running totals since it was created. They only
// grow, so they map directly to Prometheus counters.
// Calls == Successes + Failures + Ignored always holds. Slow is a subset of
// Successes + Failures. Rejected calls never ran and are not in Calls.
type Counts struct {
	Calls     uint64 `json:"calls"`
	Successes uint64 `json:"successes"`
	Failures  uint64 `json:"failures"`
	Ignored   uint64 `json:"ignored"`
	Rejected  uint64 `json:"rejected"`
	Slow      uint64 `json:"slow"`
}

// bucket holds one slice of the time window for one stripe. seq names the
// slice (time / bucket width); a bucket is reused for a later slice by
// moving its counts into the stripe's retired totals, so nothing is lost.
type bucket struct {
	seq  atomic.Int64
	succ atomic.Uint64
	fail atomic.Uint64
	slow atomic.Uint64
}

// stripe is one processor's share of the counters. Calls on different
// processors write different stripes, so cores do not fight over cache
// lines on the hot path.
type stripe struct {
	buckets  []bucket
	ignored  atomic.Uint64
	rejected atomic.Uint64
	// Counts moved out of buckets when the buckets were reused.
	oldSucc, oldFail, oldSlow atomic.Uint64
	_                         [64]byte // keep neighbouring stripes apart
}

// counters is the striped, time-bucketed tally shared by all of a breaker's
// epochs.
type counters struct {
	stripes    []stripe
	stripeMask int   // len(stripes)-1; a power of two, so no division
	mask       int64 // len(buckets)-1; the bucket array is a power of two
	n          int64 // buckets that make up the window
	width      int64 // bucket width in nanoseconds
	curSeq     atomic.Int64
}

func (c *counters) init(window int64, buckets int) {
	size := 1
	for size < buckets {
		size <<= 1
	}
	width := window / int64(buckets)
	if width <= 0 {
		width = 1
	}
	nStripes := 1
	for nStripes < runtime.GOMAXPROCS(0) {
		nStripes <<= 1
	}
	c.stripes = make([]stripe, nStripes)
	c.stripeMask = nStripes - 1
	c.mask = int64(size - 1)
	c.n = int64(buckets)
	c.width = width
	for i := range c.stripes {
		c.stripes[i].buckets = make([]bucket, size)
		for j := range c.stripes[i].buckets {
			c.stripes[i].buckets[j].seq.Store(-1)
		}
	}
}

func (c *counters) stripe() *stripe {
	return &c.stripes[procID()&c.stripeMask]
}

// seqOf returns the bucket sequence number of time now. It divides only
// when the bucket changes, because a 64-bit division costs more than the
// rest of the hot path together.
func (c *counters) seqOf(now int64) int64 {
	seq := c.curSeq.Load()
	if start := seq * c.width; now >= start && now-start < c.width {
		return seq
	}
	seq = now / c.width
	c.curSeq.Store(seq)
	return seq
}

// bucket returns s's bucket for seq, reusing a stale one if needed.
func (c *counters) bucket(s *stripe, seq int64) *bucket {
	b := &s.buckets[seq&c.mask]
	old := b.seq.Load()
	if old < seq && b.seq.CompareAndSwap(old, seq) {
		s.oldSucc.Add(b.succ.Swap(0))
		s.oldFail.Add(b.fail.Swap(0))
		s.oldSlow.Add(b.slow.Swap(0))
	}
	return b
}

// record tallies one finished call.
func (c *counters) record(now int64, o Outcome, slow bool) {
	s := c.stripe()
	if o == Ignored {
		s.ignored.Add(1)
		return
	}
	b := c.bucket(s, c.seqOf(now))
	if o == Success {
		b.succ.Add(1)
	} else {
		b.fail.Add(1)
	}
	if slow {
		b.slow.Add(1)
	}
}

func (c *counters) reject() { c.stripe().rejected.Add(1) }

// totals sums every stripe. It is safe to call concurrently with record;
// the result may miss calls that are being recorded at that instant.
func (c *counters) totals() Counts {
	var t Counts
	for i := range c.stripes {
		s := &c.stripes[i]
		t.Ignored += s.ignored.Load()
		t.Rejected += s.rejected.Load()
		t.Successes += s.oldSucc.Load()
		t.Failures += s.oldFail.Load()
		t.Slow += s.oldSlow.Load()
		for j := range s.buckets {
			b := &s.buckets[j]
			t.Successes += b.succ.Load()
			t.Failures += b.fail.Load()
			t.Slow += b.slow.Load()
		}
	}
	t.Calls = t.Successes + t.Failures + t.Ignored
	return t
}

// window sums the buckets of the last n bucket widths up to now, counting
// only buckets at or after fromSeq.
func (c *counters) window(now int64, n int64, fromSeq int64) (calls, fails, slow uint64) {
	cur := c.seqOf(now)
	lo := cur - n + 1
	if fromSeq > lo {
		lo = fromSeq
	}
	for i := range c.stripes {
		s := &c.stripes[i]
		for j := range s.buckets {
			b := &s.buckets[j]
			if seq := b.seq.Load(); seq >= lo && seq <= cur {
				sc, fc := b.succ.Load(), b.fail.Load()
				calls += sc + fc
				fails += fc
				slow += b.slow.Load()
			}
		}
	}
	return calls, fails, slow
}

// countWindow holds the outcomes of the last len(slots) calls, for
// count-based rate conditions.
type countWindow struct {
	slots               []atomic.Uint32
	next                atomic.Uint64
	calls, fails, slows atomic.Int64
}

const (
	slotUsed uint32 = 1 << iota
	slotFail
	slotSlow
)

func newCountWindow(n int) *countWindow {
	return &countWindow{slots: make([]atomic.Uint32, n)}
}

func (w *countWindow) add(o Outcome, slow bool) {
	v := slotUsed
	if o == Failure {
		v |= slotFail
	}
	if slow {
		v |= slotSlow
	}
	i := (w.next.Add(1) - 1) % uint64(len(w.slots))
	old := w.slots[i].Swap(v)
	if old&slotUsed == 0 {
		w.calls.Add(1)
	}
	w.fails.Add(int64(v&slotFail)/int64(slotFail) - int64(old&slotFail)/int64(slotFail))
	w.slows.Add(int64(v&slotSlow)/int64(slotSlow) - int64(old&slotSlow)/int64(slotSlow))
}

func (w *countWindow) stats() (calls, fails, slow uint64) {
	return uint64(max(w.calls.Load(), 0)), uint64(max(w.fails.Load(), 0)), uint64(max(w.slows.Load(), 0))
}

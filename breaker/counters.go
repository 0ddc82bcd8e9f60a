package breaker

import (
	"runtime"
	"sync"
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
// slice (time / bucket width); a bucket is zeroed and reused for a later
// slice.
type bucket struct {
	seq              atomic.Int64
	succ, fail, slow cell
}

// stripe is one processor's share of the counters. Only the processor that
// owns a stripe writes it, so the hot path has no locked instruction and no
// two cores write the same cache line.
type stripe struct {
	buckets []bucket
	// Running totals, kept apart from the window's buckets so that they
	// only ever grow, as Prometheus counters must.
	succ, fail, slow, ignored, rejected cell
	_                                   [64]byte // keep neighbouring stripes apart
}

// counters is the striped, time-bucketed tally shared by all of a breaker's
// epochs. Stripe i belongs to processor i; the last stripe is the spill
// stripe for processors beyond those counted at creation (GOMAXPROCS was
// raised later, by hand or by the runtime following a container's CPU
// limit), which take spill in turn: correct, only slower.
type counters struct {
	stripes []stripe
	spill   sync.Mutex // held by writers of the spill stripe
	mask    int64      // len(buckets)-1; the bucket array is a power of two
	n       int64      // buckets that make up the window
	width   int64      // bucket width in nanoseconds
	curSeq  atomic.Int64
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
	// One stripe per processor now, plus spill. Sizing by GOMAXPROCS rather
	// than NumCPU keeps a breaker small in a container on a large host.
	c.stripes = make([]stripe, runtime.GOMAXPROCS(0)+1)
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

// spillStripe is the last stripe, shared by processors that have none.
func (c *counters) spillStripe() *stripe { return &c.stripes[len(c.stripes)-1] }

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

// bucket returns s's bucket for seq, reusing a stale one if needed. The
// caller owns s. The counts are zeroed before the new seq is published.
func (c *counters) bucket(s *stripe, seq int64) *bucket {
	b := &s.buckets[seq&c.mask]
	if b.seq.Load() < seq {
		b.succ.reset()
		b.fail.reset()
		b.slow.reset()
		b.seq.Store(seq)
	}
	return b
}

// record tallies one finished call in bucket seq; reject, one rejected
// call.
//
// Each writes only the stripe of the processor it runs on, pinned there so
// that nothing else runs on that processor meanwhile: no two writers ever
// meet on a stripe, and its cells need no locked instruction. A processor
// beyond those counted at creation takes the spill stripe under its mutex
// instead, unpinned first because a pinned goroutine must not park.
func (c *counters) record(seq int64, o Outcome, slow bool) {
	if id := procPin(); id < len(c.stripes)-1 {
		c.tally(&c.stripes[id], seq, o, slow)
		procUnpin()
		return
	}
	procUnpin()
	c.spill.Lock()
	c.tally(c.spillStripe(), seq, o, slow)
	c.spill.Unlock()
}

func (c *counters) reject() {
	if id := procPin(); id < len(c.stripes)-1 {
		c.stripes[id].rejected.add(1)
		procUnpin()
		return
	}
	procUnpin()
	c.spill.Lock()
	c.spillStripe().rejected.add(1)
	c.spill.Unlock()
}

// tally adds one call to s, which the caller owns.
func (c *counters) tally(s *stripe, seq int64, o Outcome, slow bool) {
	if o == Ignored {
		s.ignored.add(1)
		return
	}
	b := c.bucket(s, seq)
	if o == Success {
		s.succ.add(1)
		b.succ.add(1)
	} else {
		s.fail.add(1)
		b.fail.add(1)
	}
	if slow {
		s.slow.add(1)
		b.slow.add(1)
	}
}

// totals sums every stripe. It is safe to call concurrently with record;
// the result may miss calls that are being recorded at that instant.
func (c *counters) totals() Counts {
	var t Counts
	for i := range c.stripes {
		s := &c.stripes[i]
		t.Successes += s.succ.load()
		t.Failures += s.fail.load()
		t.Slow += s.slow.load()
		t.Ignored += s.ignored.load()
		t.Rejected += s.rejected.load()
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
				sc, fc := b.succ.load(), b.fail.load()
				calls += sc + fc
				fails += fc
				slow += b.slow.load()
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

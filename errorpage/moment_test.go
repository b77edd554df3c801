package errorpage

import (
	"math/rand/v2"
	"testing"
	"time"
)

// calendarMoment is retryMoment as the calendar states it: the reference
// that retryMoment's arithmetic on seconds must agree with.
func calendarMoment(now time.Time, d time.Duration) (time.Time, time.Duration, bool) {
	t := now.Add(d).UTC()
	precision := time.Second
	y, m, dd := t.Date()
	ny, nm, nd := now.UTC().Date()
	if d >= time.Hour || y != ny || m != nm || dd != nd {
		precision = time.Minute
	}
	if r := t.Truncate(precision); !r.Equal(t) {
		t = r.Add(precision)
	}
	y, m, dd = t.Date()
	return t, precision, y != ny || m != nm || dd != nd
}

func TestRetryMomentMatchesCalendar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("east", 14*3600), time.FixedZone("west", -12*3600-1800)}
	nows := []time.Time{
		time.Date(2026, 5, 7, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 5, 7, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 30, 1, time.UTC), // before the epoch
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 20000 {
		nows = append(nows, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)))
	}
	delays := []time.Duration{time.Nanosecond, time.Second, time.Minute - 1, time.Minute, time.Hour - 1, time.Hour, 48 * time.Hour}
	for i, now := range nows {
		now = now.In(zones[i%len(zones)])
		ds := append(delays, time.Duration(rng.Int64N(int64(72*time.Hour)))+1)
		for _, d := range ds {
			wantT, wantP, wantDated := calendarMoment(now, d)
			m := momentOf(now, d)
			if !m.t.Equal(wantT) || m.t.Location() != time.UTC || m.precision != wantP || m.dated != wantDated {
				t.Fatalf("momentOf(%v, %v) = %v, %v, dated %v; want %v, %v, dated %v", now, d, m.t, m.precision, m.dated, wantT, wantP, wantDated)
			}
		}
	}
}

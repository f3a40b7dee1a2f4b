// Package quantile estimates latency quantiles for every engine: exactly,
// from measured latencies (NearestRank), and as an estimate, from
// per-statement means and deviations when the engine's statistics keep no
// histogram (Mixture).
package quantile

import (
	"math"
	"time"
)

// NearestRank is the nearest-rank p-quantile (0 < p <= 1) of sorted: the
// smallest value with at least p of the values at or below it, always an
// observed value. It returns 0 for an empty slice.
func NearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Normal is one component of a mixture: a normal distribution of mean
// Mean and standard deviation SD (0: a point mass at Mean), weighted by
// Weight (the calls it stands for).
type Normal struct {
	Weight, Mean, SD float64
}

// iterations bounds the bisection of Mixture; each halves the bracket, and
// it stops earlier at a relative precision of 1e-6.
const iterations = 60

// Mixture returns the p-quantile of the weighted mixture of normal
// distributions mix, by bisection over the mixture's CDF between the
// smallest and largest of the components' own p-quantiles (the mixture's
// lies between them), never below 0. It returns 0 for an empty mixture.
func Mixture(mix []Normal, p float64) float64 {
	if len(mix) == 0 {
		return 0
	}
	z := math.Sqrt2 * math.Erfinv(2*p-1)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range mix {
		q := c.Mean + c.SD*z
		lo, hi = min(lo, q), max(hi, q)
	}
	for range iterations {
		if hi-lo <= 1e-6*max(hi, 1e-3) {
			break
		}
		mid := lo + (hi-lo)/2
		if CDF(mix, mid) >= p {
			hi = mid
		} else {
			lo = mid
		}
	}
	return max(hi, 0)
}

// CDF is the share of the mixture's weight at or below x.
func CDF(mix []Normal, x float64) float64 {
	var below, total float64
	for _, c := range mix {
		total += c.Weight
		switch {
		case c.SD > 0:
			below += c.Weight * 0.5 * math.Erfc((c.Mean-x)/(c.SD*math.Sqrt2))
		case x >= c.Mean:
			below += c.Weight
		}
	}
	return below / total
}

//go:build nosleep

package main

import "time"

// Benchmark build: no sleep, so the cost of one collect is measurable.
const collectSleep time.Duration = 0

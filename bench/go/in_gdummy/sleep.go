//go:build !nosleep

package main

import "time"

// The published example sleeps one second at the end of every collect.
const collectSleep = 1000 * time.Millisecond

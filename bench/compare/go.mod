module github.com/breakerd/breakerd/bench/compare

go 1.26.8

require (
	github.com/breakerd/breakerd v0.0.0
	github.com/failsafe-go/failsafe-go v0.9.8
	github.com/sony/gobreaker/v2 v2.4.0
)

require github.com/bits-and-blooms/bitset v1.24.4 // indirect

replace github.com/breakerd/breakerd => ../..

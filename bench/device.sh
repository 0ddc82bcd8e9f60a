#!/usr/bin/env bash
# Issue 22's measurements on a many-core machine (the device machine), as
# one prepared run: breakerd and the plain Go reverse proxy get the last two
# cores (the issue's 2-core machine), the load generator and mockllm the
# rest, so that "three times the maximum" and 10,000 streams measure the
# gateway and not the generator.
#
#   bench/device.sh build                    # here, with Go: artifacts/device/{breakerd,load}
#   bench/device.sh run [overload] [calls] [streams]   # there, Go not needed (default: all three)
#
# With the device tool: run `bench/device.sh run overload calls` with
# carry ["artifacts/device"], then `... run streams`: about four minutes
# each. Results go to $OUT (the tool's output folder) or
# artifacts/device/out, one Markdown file per part, for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/artifacts/device
case "${1:-}" in
build)
	mkdir -p "$dir"
	CGO_ENABLED=0 go build -ldflags='-s -w' -o "$dir/breakerd" ./cmd/breakerd
	(cd bench/load && CGO_ENABLED=0 go build -ldflags='-s -w' -o "$dir/load" .)
	ls -l "$dir"
	exit 0
	;;
run) shift ;;
*)
	echo "usage: $0 build | run [overload] [calls] [streams]" >&2
	exit 2
	;;
esac
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(overload calls streams)
out=${OUT:-$dir/out}
mkdir -p "$out"
command -v taskset >/dev/null || {
	echo "device.sh: taskset (util-linux) is needed to give breakerd cores of its own" >&2
	exit 1
}
[ -x "$dir/breakerd" ] && [ -x "$dir/load" ] || {
	echo "device.sh: no binaries in $dir: run '$0 build' where Go is, and carry artifacts/device" >&2
	exit 1
}
n=$(nproc)
# GW_CPUS and LOAD_CPUS override the split (e.g. GW_CPUS=1 LOAD_CPUS=0 to
# try the script on two CPUs).
if [ -z "${GW_CPUS:-}" ] && [ "$n" -lt 6 ]; then
	echo "device.sh: $n CPUs; this run needs at least 6 (two for breakerd, the rest for the load)" >&2
	exit 1
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
gw=${GW_CPUS:-$((n - 2))-$((n - 1))}
rest=${LOAD_CPUS:-0-$((n - 3))}
{
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $n CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB"
	echo "breakerd and the plain proxy on CPUs $gw; load generator and mockllm on $rest; open files $(ulimit -n)"
} | tee "$out/machine.txt"
load() { taskset -c "$rest" "$dir/load" -bin "$dir/breakerd" -breakerd-cpus "$gw" "$@"; }
for p in "${parts[@]}"; do
	echo "== $p"
	case $p in
	overload) load -overload -duration 30s -max-duration 5s 2>&1 | tee "$out/overload.md" ;;
	calls) load -rate 1000 -duration 20s -slice 200ms 2>&1 | tee "$out/calls.md" ;;
	streams) load -streams 10000 -stream-words 60 -stream-interval 1s -stream-ramp 10s -upstream-h2c 2>&1 | tee "$out/streams.md" ;;
	*)
		echo "device.sh: unknown part $p (overload, calls, streams)" >&2
		exit 2
		;;
	esac
done

#!/bin/bash
# make bench: the simulator comparisons, the QEMU guest comparisons
# (bench/vm/run.py), the Linux 6.12 baselines (run.py --name vm612: DAMON
# tiering, Linux tiering, htier on 6.12 and 6.1), htierd's cost against
# managed memory (bench/vm/cost.py), the provisioner benchmark if present,
# then bench/RESULTS.md.  Budget: about 60 minutes on a 2-core machine (20
# for run.py and the rest, 11 for the 6.12 baselines, 25-30 for cost.py).
#   BENCH_QUICK=1 bench/run.sh     shorter guest runs (smoke test; 6.12
#                                  baselines: hotset, damon and htier;
#                                  cost.py --quick: 1 repetition, 512M and 2G)
#   BENCH_SKIP_VM=1 bench/run.sh   simulator only
#   BENCH_SKIP_COST=1 bench/run.sh everything but cost.py
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: "${BUILD:=$top/build}"
export BUILD
res=bench/results
mkdir -p "$res"
t0=$(date +%s)
log() { echo "bench: $* ($(( $(date +%s) - t0 )) s)"; }

# The simulator (built by `make all` into $BUILD/bin).
sim=$BUILD/bin/htier-sim
if [ ! -x "$sim" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target htier-sim
fi
common="--size 512M --hot 64M --fast-capacity 128M --duration 60 --shift-at 30 --epoch-ms 500"
for m in hotset scattered zipf; do
	"$sim" --model $m $common > "$res/sim_$m.txt"
	"$sim" --model $m $common --json --timeline > "$res/sim_$m.json"
	# The suggested module change (cool by elapsed time), and a fixed period.
	"$sim" --model $m $common --policies htier,oracle --cool-by-time --json > "$res/sim_${m}_cooltime.json"
	"$sim" --model $m $common --policies htier,oracle --scan-max-ms 500 --json > "$res/sim_${m}_fixed.json"
	# A hardware-like access rate (issue 11): PEBS has ~50x the samples,
	# and an accessed-bit window must be short not to saturate.
	"$sim" --model $m $common --rate 1e8 --json > "$res/sim_${m}_1e8.json"
	# Without aging the old hot set after a shift (HTIER_AGE_ROUNDS and
	# PEBS's extra cooling), side by side, at both rates.
	for r in 2e6 1e8; do
		"$sim" --model $m $common --rate $r --policies htier,htier-pebs,oracle \
			--age-rounds 0 --pebs-jump-cool 0 --json > "$res/sim_${m}_${r}_noage.json"
		# PEBS: the module's budget and range spread, each taken away.
		p="$sim --model $m $common --rate $r --policies htier-pebs,oracle --json"
		$p > "$res/sim_${m}_${r}_pebs.json"
		$p --pebs-min-samples 2 --pebs-cool-samples 0 > "$res/sim_${m}_${r}_pebs_twosample.json"
		$p --spread 0 > "$res/sim_${m}_${r}_pebs_nospread.json"
		$p --pebs-cpu-permil 0 > "$res/sim_${m}_${r}_pebs_nobudget.json"
		$p --pebs-cpu-permil 0 --spread 0 > "$res/sim_${m}_${r}_pebs_nobudget_nospread.json"
	done
done
log "simulator done"

if [ -z "${BENCH_SKIP_VM:-}" ]; then
	if [ -n "${BENCH_QUICK:-}" ]; then
		python3 bench/vm/run.py --out "$res" --duration 24 --shift 12 \
			--workloads hotset --modes first-touch,htier
	else
		python3 bench/vm/run.py --out "$res"
	fi
	log "guest runs done"
	if [ -n "${BENCH_QUICK:-}" ]; then
		python3 bench/vm/run.py --out "$res" --name vm612 --kernel 6.12 \
			--no-promote --duration 24 --shift 12 --workloads hotset \
			--modes damon,htier
	else
		python3 bench/vm/run.py --out "$res" --name vm612 --kernel 6.12 \
			--no-promote --modes damon,tiering,htier,htier@6.1
	fi
	log "6.12 baselines done"
	if [ -z "${BENCH_SKIP_COST:-}" ]; then
		if [ -n "${BENCH_QUICK:-}" ]; then
			python3 bench/vm/cost.py --out "$res" --quick ||
				echo "bench: bench/vm/cost.py failed ($?)"
		else
			python3 bench/vm/cost.py --out "$res" ||
				echo "bench: bench/vm/cost.py failed ($?)"
		fi
		log "cost runs done"
	fi
fi

if [ -x bench/provisioner/run.sh ]; then
	bench/provisioner/run.sh || echo "bench: bench/provisioner/run.sh failed ($?)"
	log "provisioner done"
fi

python3 bench/report.py --results "$res" --out bench/RESULTS.md --elapsed $(( $(date +%s) - t0 ))
log "wrote bench/RESULTS.md"

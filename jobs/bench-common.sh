# Sourced by the benchmark scripts (jobs/bench, jobs/bench-soak, jobs/bench-precision): how they
# wait for an idle machine, so every harness measures under the same rule.

# Busy CPU seconds of the whole machine since boot (user+nice+system+irq+softirq+steal).
busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat
}

# wait_idle NAME SECONDS: waits until the rest of the machine uses < 15 % of all cores over 5 s,
# at most SECONDS (0: do not wait); progress on stdout as "NAME: ...", the give-up warning on stderr.
wait_idle() {
  local name="$1" limit="$2"
  [[ "$limit" -gt 0 ]] || return 0
  local deadline=$((SECONDS + limit)) b0 b1 share cores
  cores="$(nproc)"
  while :; do
    b0="$(busy_seconds)"; sleep 5; b1="$(busy_seconds)"
    share="$(awk -v a="$b0" -v b="$b1" -v c="$cores" 'BEGIN {printf "%.0f", 100 * (b - a) / (5 * c)}')"
    if [[ "$share" -lt 15 ]]; then
      return 0
    fi
    if [[ $SECONDS -ge $deadline ]]; then
      echo "$name: WARNING: the machine stayed busy (${share}% of ${cores} cores used by others); running anyway" >&2
      return 0
    fi
    echo "$name: waiting for other jobs to go quiet (${share}% of ${cores} cores busy, load $(cut -d' ' -f1-3 /proc/loadavg))"
    sleep 10
  done
}

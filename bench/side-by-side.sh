#!/usr/bin/env bash
# Two gateway builds side by side: one stand-in, gateway A and gateway B (each a fresh SQLite file, seeded through
# the REST API), then wrk against A, B, A, B, ... so that both see the same machine. Prints req/s and CPU µs/request
# of each run and the mean ratio B/A. For a hot-path change's cost before/after in one session:
#
#   git archive HEAD~1 | tar -x -C /tmp/before && dotnet build /tmp/before/src/Portal -c Release
#   dotnet build src/Portal -c Release
#   bash bench/side-by-side.sh /tmp/before/src/Portal/bin/Release/net10.0/Portal.dll src/Portal/bin/Release/net10.0/Portal.dll 5
#
# Needs the stand-in and load generator that bench/run.sh built (bench/out/tree; run it once, --quick is enough) and wrk.
# Environment: SECS=8 (seconds per measured run), SETTLE=0 (seconds idle after each run, its CPU counted to that run's
# calls: at least Proxy:Usage:WriteInterval when it is longer, so a batch written after a run is neither free nor another run's), EXTRA_ENV (settings for both gateways, e.g. "Telemetry__HttpClientMetrics=true"),
# EXTRA_ENV_A / EXTRA_ENV_B (for one of them: a setting's cost is the same DLL twice with EXTRA_ENV_B set),
# SCALE=1: both gateways start on copies of one bench/Seeder file (10,000 teams, 50,000 team models, 100,000 keys) and
# wrk cycles through 1,000 of its teams' keys and models, as the scale run of bench/run.sh does; SQL_B (with SCALE=1):
# SQL run on B's copy before it starts, e.g. SQL_B='DROP INDEX "IX_usage_records_TeamId_StartedAt"' for an index's cost (needs sqlite3).
# LIMITS=1: wrk calls with the key of bench/run.sh's gateway-limits target (budgets, a model budget, rpm/tpm and
# max_parallel_requests on the key and its team), for spend control's cost before/after. LIMITS_B=1: only B calls with
# that key, A with the plain one: with the same DLL twice, what budgets and limits cost a call in one build. BUDGETS_B=1:
# B calls with a key whose key and team have budgets and a budget on the model, and no rate limit: what budgets alone cost.
set -uo pipefail
A=$(realpath "$1"); B=$(realpath "$2"); ROUNDS=${3:-3}; SECS=${SECS:-8}
T="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/out/tree"
W="$(dirname "$T")/side-by-side"; rm -rf "$W"; mkdir -p "$W"
[[ -f $T/bench/StandIn/bin/Release/net10.0/StandIn.dll ]] || { echo "run bash bench/run.sh --quick first (it builds the stand-in)"; exit 2; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
dotnet "$T/bench/StandIn/bin/Release/net10.0/StandIn.dll" --urls http://127.0.0.1:18301 >"$W/standin.log" 2>&1 & pids+=($!)
start() { # start NAME DLL PORT
  env ASPNETCORE_ENVIRONMENT=Production Proxy__MasterKey=sk-bench-master Proxy__EncryptionKey=bench-encryption-key-0123456789 \
    ConnectionStrings__Portal="Data Source=$W/$1.db" Logging__LogLevel__Default=Warning ${EXTRA_ENV:-} $4 \
    dotnet "$2" --urls "http://127.0.0.1:$3" --contentRoot "$T" >"$W/$1.log" 2>&1 & pids+=($!)
  eval "PID_$1=$!"
}
if [[ ${SCALE:-0} == 1 ]]; then
  timeout 900 dotnet "$T/bench/Seeder/bin/Release/net10.0/Seeder.dll" --db "$W/scale.db" --encryption-key bench-encryption-key-0123456789 \
    --api-base http://127.0.0.1:18301/v1 --teams 10000 --models 50000 --keys 100000 --pairs-out "$W/pairs.txt" --pairs 1000 \
    --out "$W/seeder.jsonl" >"$W/seeder.log" 2>&1 || { echo "seeding the scale file failed"; tail "$W/seeder.log"; exit 1; }
  cp "$W/scale.db" "$W/a.db"; cp "$W/scale.db" "$W/b.db"
  if [[ -n ${SQL_B:-} ]]; then sqlite3 "$W/b.db" "$SQL_B" || { echo "SQL_B failed"; exit 1; }; fi
  export BENCH_PAIRS="$W/pairs.txt"
fi
start a "$A" 18302 "${EXTRA_ENV_A:-}"; start b "$B" 18303 "${EXTRA_ENV_B:-}"
sleep 1
for port in 18302 18303; do
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health/liveliness" >/dev/null 2>&1 && break; sleep 0.5; done
done
# The stand-in too: seeding calls through the gateways to it, and a cold start of it can be the slower one.
for _ in $(seq 120); do curl -s -o /dev/null http://127.0.0.1:18301/v1/models && break; sleep 0.5; done
SEED_LIMITS=${LIMITS:-${LIMITS_B:-}}; SEED_BUDGETS=${BUDGETS_B:-}
for n in a b; do
  port=$([[ $n == a ]] && echo 18302 || echo 18303)
  timeout 120 dotnet "$T/bench/LoadGen/bin/Release/net10.0/LoadGen.dll" seed --run "$([[ ${SCALE:-0} == 1 ]] && echo scale || echo small)" --gateway "http://127.0.0.1:$port" --master sk-bench-master \
    --api-base http://127.0.0.1:18301/v1 --env-out "$W/$n.env" --out "$W/seed-$n.jsonl" ${SEED_LIMITS:+--limits-team bench-team-limits} ${SEED_BUDGETS:+--budgets-team bench-team-budgets} >"$W/seed-$n.log" 2>&1 || { echo "seeding $n failed"; cat "$W/seed-$n.log"; exit 1; }
done
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }   # clock ticks (1/100 s)
run() { # run NAME PORT SECONDS: one wrk run; prints "NAME req/s cpu-µs/request"
  local pid; eval "pid=\$PID_$1"
  ( source "$W/$1.env"; [[ -n ${LIMITS:-} || ( -n ${LIMITS_B:-} && $1 == b ) ]] && BENCH_KEY=$BENCH_LIMITS_KEY
    [[ -n ${BUDGETS_B:-} && $1 == b ]] && BENCH_KEY=$BENCH_BUDGETS_KEY; export BENCH_KEY BENCH_MODEL
    c0=$(cpu "$pid")
    out=$(timeout $(($3 + 30)) wrk -t2 -c64 -d"${3}s" --timeout 10s -s "$T/bench/wrk/chat.lua" "http://127.0.0.1:$2/v1/chat/completions" 2>&1)
    # Work the gateway does after its run (a usage batch still gathering) counts to its calls, not to the next run's.
    sleep "${SETTLE:-0}"
    c1=$(cpu "$pid")
    total=$(echo "$out" | awk '/requests in/{print $1}')
    echo "$1 $(echo "$out" | awk '/Requests\/sec/{print $2}') $(( (c1 - c0) * 10000 / (${total:-0} > 0 ? total : 1) ))" )
}
for _ in 1 2 3 4; do run a 18302 3 >/dev/null; run b 18303 3 >/dev/null; done   # warm-up (JIT tiers, pools)
for _ in $(seq "$ROUNDS"); do run a 18302 "$SECS"; run b 18303 "$SECS"; done | tee "$W/results.txt"
awk '{s[$1]+=$2; c[$1]+=$3; n[$1]++} END {printf "A %.0f req/s %.0f µs/request | B %.0f req/s %.0f µs/request | B/A %.3f\n",
  s["a"]/n["a"], c["a"]/n["a"], s["b"]/n["b"], c["b"]/n["b"], (s["b"]/n["b"])/(s["a"]/n["a"])}' "$W/results.txt"

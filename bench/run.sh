#!/usr/bin/env bash
# The gateway benchmark of issue 5, in one command.
#
#   bash bench/run.sh            the default run (about 6 minutes on 2 cores): writes bench/RESULTS.md
#   bash bench/run.sh --scale    the default run, then the scale run (10,000 teams, 50,000 team models,
#                                100,000 keys; about 5 more minutes): both in bench/RESULTS.md
#   bash bench/run.sh --quick    a smoke run (a few hundred requests per target, under a minute once built):
#                                writes bench/out/RESULTS-quick.md and leaves bench/RESULTS.md alone.
#                                With --scale, a small scale run (1,000 teams, 5,000 models, 10,000 keys).
# Options:
#   --rev REV        benchmark the gateway as committed at REV (git archive), e.g. --rev HEAD;
#                    default: the working tree as it is (src/, root props, appsettings.json)
#   --no-portkey     skip the Portkey peer reference (npm @portkey-ai/gateway)
#   --rounds N       interleaved rounds of every measurement (default 3: A B C A B C A B C)
#   --keep           keep bench/out/run (logs, SQLite files) and bench/out/results.jsonl after the run
#   --out FILE       write the table to FILE instead of bench/RESULTS.md (e.g. a --rev run to compare with)
#   --patch FILE     apply a patch (patch -p1) to the copied sources before building: try a hot-path change on
#                    the benchmark without touching src/, e.g. --patch /tmp/no-usage.patch; the table then goes
#                    to bench/out/RESULTS-<patch name>.md, never to bench/RESULTS.md
# Environment (defaults): RATE=500 (fixed rate, req/s), LAT_SECONDS=6 (measured seconds per target and round),
#   WRK_SECONDS=8, WRK_THREADS=2, WRK_CONNECTIONS=64, CALLABLE_COUNT=5, QUIET_WAIT=180 (seconds to wait, before
#   each run, for other processes to leave the machine alone; the share they took is reported either way),
#   GATEWAY_ENV (settings for the gateway process, e.g. "Proxy__Usage__WriteInterval=00:00:05"; use --out with it).
#
# What it does: installs wrk/rsync if missing (apt-get), copies the sources into bench/out/tree (so that edits
# made while it runs do not change what it measures, and its build never touches the developers' bin/obj),
# builds bench/Bench.slnx in Release, then on 127.0.0.1 only starts
#   direct     bench/StandIn: an OpenAI-shaped stand-in (static chat.completion; SSE when "stream":true)
#   bare-yarp  bench/BareYarp: YARP IHttpForwarder to the stand-in, no auth, no body read (the .NET floor)
#   gateway    src/Portal (Production, logging at Warning, a fresh SQLite file) seeded through its REST API
#              with the master key: a team, a team key and a team model whose api_base is the stand-in
#   gateway-limits  the same gateway process and model, with a key whose key and team have a budget (with a
#              budget period), rpm and tpm limits, max_parallel_requests and a budget on the model (small run): the
#              cost of spend control, reservations included
#   gateway-anthropic  the same gateway and public model name served by an Anthropic deployment (the stand-in answers
#              Anthropic's shapes at /v1/messages; small run): the cost of translating both ways
#   portkey    optional peer reference, @portkey-ai/gateway on node, x-portkey-custom-host = the stand-in
# and measures, each target in turn and repeated (A B C A B C) so that ratios hold on a noisy machine:
#   saturation throughput (wrk), latency at a fixed 500 req/s (bench/LoadGen, open loop), streaming time to
#   first byte at 500 req/s, latency at one connection (each call sent when the last has answered), the time
#   from POST /model/new until the model is callable, start-up time and VmRSS;
#   then (not with --quick) the bytes allocated per forwarded call, gateway vs bare YARP (bench/allocations.sh).
# The scale run loads its data with bench/Seeder into the SQLite file before the gateway starts.
# Every process it starts is stopped on exit; every load loop is bounded in count and time.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
COMMAND="bash bench/run.sh $*"

QUICK=0 SCALE=0 PORTKEY=1 KEEP=0 REV="" ROUNDS=3 PATCH="" OUT_MD=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --scale) SCALE=1 ;;
    --no-portkey) PORTKEY=0 ;;
    --keep) KEEP=1 ;;
    --rev) REV="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --out) OUT_MD="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift ;;
    --patch) PATCH="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

RATE="${RATE:-500}"
LAT_SECONDS="${LAT_SECONDS:-6}"
WRK_SECONDS="${WRK_SECONDS:-8}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-64}"
CALLABLE_COUNT="${CALLABLE_COUNT:-5}"
QUIET_WAIT="${QUIET_WAIT:-180}"
FIRST_WARMUP=4 WARMUP=1
WARM_STEP=3 WARM_MIN=4 WARM_MAX=8   # wrk warm-up: 3-s runs until two in a row agree within 7% (4 to 8 runs)
SCALE_TEAMS=10000 SCALE_MODELS=50000 SCALE_KEYS=100000
RESULTS_MD="$BENCH/RESULTS.md"
if [[ $QUICK == 1 ]]; then
  RATE=200 LAT_SECONDS=1 WRK_SECONDS=1 ROUNDS=1 CALLABLE_COUNT=2 FIRST_WARMUP=0.5 WARMUP=0.5 WARM_STEP=1 WARM_MIN=1 WARM_MAX=1 PORTKEY=0 QUIET_WAIT=5
  SCALE_TEAMS=1000 SCALE_MODELS=5000 SCALE_KEYS=10000
  RESULTS_MD="$BENCH/out/RESULTS-quick.md"
fi

[[ -n "$OUT_MD" ]] && RESULTS_MD="$OUT_MD"
OUT="$BENCH/out"
TREE="$OUT/tree"
WORK="$OUT/run"
RESULTS="$WORK/results.jsonl"
MASTER_KEY="sk-bench-master-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
ENCRYPTION_KEY="bench-encryption-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
UPSTREAM_KEY="sk-fake-upstream-key-0000"

log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- processes: started here, stopped on exit
PIDS=()
OK=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [[ $OK == 1 && $KEEP == 0 ]]; then
    rm -rf "$WORK"
  elif [[ -d "$WORK" ]]; then
    echo "run.sh: logs and results kept in $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # start NAME COMMAND...: in the background, output to $WORK/NAME.log; sets STARTED_PID
  local name="$1"; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

stop() { # stop PID: TERM, then KILL after 10 s
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

wait_http() { # wait_http URL SECONDS PID: until URL answers 2xx; fails if PID dies or time runs out
  local url="$1" deadline=$((SECONDS + $2)) pid="$3"
  until curl -fs -o /dev/null --max-time 2 "$url"; do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $SECONDS -lt $deadline ]] || return 1
    sleep 0.02
  done
}

free_port() { # the first port from $1 on that nothing listens on
  local port="$1"
  while ss -ltnH "sport = :$port" | grep -q . || [[ " ${USED_PORTS:-} " == *" $port "* ]]; do port=$((port + 1)); done
  USED_PORTS="${USED_PORTS:-} $port"
  echo "$port"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # user + system time of one process
cpu_all() { local pid total=0; for pid in "${PIDS[@]}"; do total=$((total + $(cpu_ticks "$pid"))); done; echo "$total"; }
settle() { # until every started process together uses under ~4% of a core (at most 30 s): no phase starts on a busy machine
  local start=$SECONDS a b
  while (( SECONDS - start < 30 )); do
    a=$(cpu_all); sleep 0.5; b=$(cpu_all)
    (( b - a <= CLK_TCK / 50 )) && return 0
  done
}
now_ms() { date +%s%3N; }
record() { echo "$1" >>"$RESULTS"; }

# Other work on the machine (e.g. a test run) competes for the same 2 cores. Once a second, the share of the
# machine's CPU used by processes outside this script's session goes to $WORK/foreign.txt ("epoch-seconds percent").
foreign_sampler() {
  local sid busy prev_busy=0 cores state="$WORK/.ours" now="$WORK/.ours.new"
  sid=$(awk '{print $6}' /proc/$$/stat)
  cores=$(nproc)
  : >"$state"
  while sleep 1; do
    busy=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    # "pid self children" CPU ticks of this session's processes. A process that ended since the last sample is
    # accounted through its parent's "children" time (which then holds all of it): its already counted part comes off.
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v s="$sid" '$6 == s {print $1, $14 + $15, $16 + $17}' >"$now"
    if (( prev_busy > 0 )); then
      awk -v b=$((busy - prev_busy)) -v hz="$CLK_TCK" -v n="$cores" -v t="$(date +%s)" '
        NR == FNR { before[$1] = $2 + $3; next }
        { now = $2 + $3; o += ($1 in before) ? now - before[$1] : now; seen[$1] = 1 }
        END { for (p in before) if (!(p in seen)) o -= before[p]
              f = b - o; if (f < 0) f = 0; p = f * 100 / (hz * n); if (p > 100) p = 100; printf "%d %.1f\n", t, p }' "$state" "$now" >>"$WORK/foreign.txt"
    fi
    mv "$now" "$state"
    prev_busy=$busy
  done
}
wait_quiet() { # wait (at most $1 s) until other processes use under 10% of the machine for 5 s in a row
  local start=$SECONDS quiet=0 last
  while (( SECONDS - start < $1 )); do
    sleep 1
    last=$(tail -1 "$WORK/foreign.txt" 2>/dev/null | awk '{print int($2)}')
    if [[ -n "$last" && "$last" -lt 10 ]]; then quiet=$((quiet + 1)); else quiet=0; fi
    (( quiet >= 5 )) && return 0
  done
  echo "   the machine is not quiet (other processes use ${last:-?}% of it): measuring anyway, see the 'other processes' figures"
}
foreign_between() { # mean share of the machine used by other processes between two epoch seconds
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b {s += $2; n++} END {printf "%.1f", n ? s / n : 0}' "$WORK/foreign.txt" 2>/dev/null || echo 0
}
info() { record "{\"kind\":\"info\",\"run\":\"$1\",\"name\":\"$2\",\"value\":$3}"; }

# ---------------------------------------------------------------- tools
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v rsync >/dev/null || need+=(rsync)
command -v curl >/dev/null || need+=(curl)
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]} (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || fail "the .NET SDK (dotnet) is required"

# ---------------------------------------------------------------- sources and build
rm -rf "$WORK"
mkdir -p "$WORK" "$TREE"
cd "$WORK"
: >"$WORK/foreign.txt"
foreign_sampler &
PIDS+=("$!")
: >"$RESULTS"
if [[ -n "$REV" ]]; then
  SOURCE="commit $(git -C "$ROOT" rev-parse --short "$REV") ($REV)"
  rm -rf "$OUT/stage" && mkdir -p "$OUT/stage"
  git -C "$ROOT" archive "$REV" src Directory.Build.props Directory.Packages.props appsettings.json .editorconfig | tar -x -C "$OUT/stage"
  STAGE="$OUT/stage"
else
  dirty=$(git -C "$ROOT" status --porcelain -- src Directory.Build.props Directory.Packages.props 2>/dev/null | wc -l || echo 0)
  SOURCE="the working tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$([[ $dirty -gt 0 ]] && echo " with $dirty uncommitted changes under src/" || true)"
  STAGE="$ROOT"
fi
log "copying the sources ($SOURCE) to $TREE"
for f in Directory.Build.props Directory.Packages.props appsettings.json .editorconfig; do cp -p "$STAGE/$f" "$TREE/$f"; done
rsync -a --delete --exclude bin/ --exclude obj/ --exclude '*.db' --exclude '*.db-*' "$STAGE/src/" "$TREE/src/"
rsync -a --delete --exclude bin/ --exclude obj/ --exclude out/ --exclude .tools/ --exclude .portkey/ --exclude RESULTS.md "$BENCH/" "$TREE/bench/"
if [[ -n "$PATCH" ]]; then
  [[ $QUICK == 1 ]] || RESULTS_MD="$OUT/RESULTS-$(basename "${PATCH%.*}").md" # an experiment never replaces bench/RESULTS.md
  log "applying $PATCH to the copy"
  patch -p1 -d "$TREE" <"$PATCH" >"$WORK/patch.log" 2>&1 || fail "the patch does not apply (see $WORK/patch.log)"
  SOURCE="$SOURCE + patch $(basename "$PATCH")"
fi

log "building bench/Bench.slnx in Release (gateway, stand-in, bare YARP, load generator, seeder)"
build_start=$(now_ms)
if ! dotnet build "$TREE/bench/Bench.slnx" -c Release --disable-build-servers -nologo -v q -clp:ErrorsOnly >"$WORK/build.log" 2>&1; then
  grep -E "error" "$WORK/build.log" | sort -u | head -20 >&2
  fail "build failed (full log: $WORK/build.log). The working tree may be mid-edit: try --rev HEAD."
fi
echo "   built in $(( ($(now_ms) - build_start) / 1000 )) s"
BIN=net10.0
PORTAL_DLL="$TREE/src/Portal/bin/Release/$BIN/Portal.dll"
# A project reference left out of Bench.slnx would be built in Debug and copied next to Portal.dll.
cmp -s "$TREE/src/Portal/bin/Release/$BIN/Proxy.Core.dll" "$TREE/src/Proxy.Core/bin/Release/$BIN/Proxy.Core.dll" \
  || fail "Portal's Proxy.Core.dll is not the Release build"
standin_dll="$TREE/bench/StandIn/bin/Release/$BIN/StandIn.dll"
bare_dll="$TREE/bench/BareYarp/bin/Release/$BIN/BareYarp.dll"
LOADGEN=(dotnet "$TREE/bench/LoadGen/bin/Release/$BIN/LoadGen.dll")
SEEDER=(dotnet "$TREE/bench/Seeder/bin/Release/$BIN/Seeder.dll")

# ---------------------------------------------------------------- machine
{
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  free -h
  echo "dotnet --version: $(dotnet --version)"
  echo "kernel: $(uname -sr)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  command -v node >/dev/null && echo "node: $(node --version)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine competes for the same 2 cores)"
  echo "settings: rate=$RATE req/s, ${LAT_SECONDS} s per target per round after warm-up, wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s, rounds=$ROUNDS"
} >"$WORK/machine.txt"

# ---------------------------------------------------------------- upstream stand-in and bare YARP (shared by both runs)
STANDIN_PORT=$(free_port 18101)
BARE_PORT=$(free_port 18102)
GATEWAY_PORT=$(free_port 18103)
PORTKEY_PORT=$(free_port 18104)
STANDIN="http://127.0.0.1:$STANDIN_PORT"
API_BASE="$STANDIN/v1"
CHAT_PATH="/v1/chat/completions"

log "starting the stand-in ($STANDIN) and bare YARP (http://127.0.0.1:$BARE_PORT)"
start standin dotnet "$standin_dll" --urls "$STANDIN"
standin_pid=$STARTED_PID
start bare-yarp dotnet "$bare_dll" --urls "http://127.0.0.1:$BARE_PORT" --upstream "$STANDIN"
bare_pid=$STARTED_PID
curl_post() { curl -fs -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' "$@"; }
for _ in $(seq 300); do curl_post -d '{"model":"x"}' "$STANDIN$CHAT_PATH" && break; sleep 0.05; done
curl_post -d '{"model":"x"}' "$STANDIN$CHAT_PATH" || fail "the stand-in did not start (see $WORK/standin.log)"
wait_http "http://127.0.0.1:$BARE_PORT/health" 30 "$bare_pid" || fail "bare YARP did not start (see $WORK/bare-yarp.log)"

# ---------------------------------------------------------------- gateway
start_gateway() { # start_gateway RUN DBFILE: sets GATEWAY_PID, records start-up time and VmRSS
  local run="$1" db="$2" t0
  t0=$(now_ms)
  ASPNETCORE_ENVIRONMENT=Production \
  Proxy__MasterKey="$MASTER_KEY" Proxy__EncryptionKey="$ENCRYPTION_KEY" \
  Portal__AdminEmail="bench-admin@example.com" Portal__AdminPassword="Bench-Admin-Passw0rd" \
  ConnectionStrings__Portal="Data Source=$db" \
  Logging__LogLevel__Default=Warning \
    start "gateway-$run" env ${GATEWAY_ENV:-} dotnet "$PORTAL_DLL" --urls "http://127.0.0.1:$GATEWAY_PORT" --contentRoot "$TREE"
  GATEWAY_PID=$STARTED_PID
  wait_http "http://127.0.0.1:$GATEWAY_PORT/health/liveliness" 180 "$GATEWAY_PID" || fail "the gateway did not start (see $WORK/gateway-$run.log)"
  local started=$(( $(now_ms) - t0 ))
  sleep 1
  echo "   gateway up in $started ms, VmRSS $(( $(rss_kb "$GATEWAY_PID") / 1024 )) MB"
  info "$run" startup_ms "$started"
  info "$run" rss_start_kb "$(rss_kb "$GATEWAY_PID")"
}

seed_gateway() { # seed_gateway RUN: team, key and model through the REST API; sets BENCH_KEY and BENCH_MODEL
  # (and for the small run BENCH_LIMITS_KEY: the same model in a team whose key and team have budgets and limits)
  local limits=()
  [[ $1 == small ]] && limits=(--limits-team bench-team-limits --anthropic-team bench-team-anthropic)
  "${LOADGEN[@]}" seed --run "$1" --gateway "http://127.0.0.1:$GATEWAY_PORT" --master "$MASTER_KEY" \
    --api-base "$API_BASE" --env-out "$WORK/bench.env" --out "$RESULTS" "${limits[@]}" || fail "seeding the gateway failed (see $WORK/gateway-$1.log)"
  # shellcheck disable=SC1091
  source "$WORK/bench.env"
}

# ---------------------------------------------------------------- Portkey (optional peer reference)
PORTKEY_OK=0 PORTKEY_STREAM=0
PORTKEY_HEADERS="x-portkey-provider: openai|x-portkey-custom-host: $API_BASE|Authorization: Bearer $UPSTREAM_KEY"
start_portkey() {
  local dir="$BENCH/.portkey" entry reason=""
  entry="$dir/node_modules/@portkey-ai/gateway/build/start-server.js"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    reason="not run: node/npm not installed"
  elif [[ ! -f "$entry" ]]; then
    log "installing @portkey-ai/gateway into bench/.portkey (npm)"
    mkdir -p "$dir"
    (cd "$dir" && timeout 300 npm install --no-audit --no-fund --loglevel=error @portkey-ai/gateway@1.15.2 >"$WORK/portkey-install.log" 2>&1) \
      || reason="not run: npm install @portkey-ai/gateway failed (see the run's portkey-install.log)"
  fi
  if [[ -z "$reason" ]]; then
    log "starting Portkey (http://127.0.0.1:$PORTKEY_PORT)"
    NODE_ENV=production start portkey node --import "$BENCH/portkey/loopback.mjs" "$entry" --port="$PORTKEY_PORT" --headless
    PORTKEY_PID=$STARTED_PID
    if ! wait_http "http://127.0.0.1:$PORTKEY_PORT/" 60 "$PORTKEY_PID"; then
      reason="not run: Portkey did not start"
    elif ! curl -fs -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' -H "x-portkey-provider: openai" \
        -H "x-portkey-custom-host: $API_BASE" -H "Authorization: Bearer $UPSTREAM_KEY" \
        -d '{"model":"gpt-4o","messages":[{"role":"user","content":"ping"}]}' "http://127.0.0.1:$PORTKEY_PORT$CHAT_PATH"; then
      reason="not run: a chat call through Portkey did not answer 200"
    else
      PORTKEY_OK=1
      local streamed
      streamed=$(curl -s -N --max-time 10 -X POST -H 'Content-Type: application/json' -H "x-portkey-provider: openai" \
        -H "x-portkey-custom-host: $API_BASE" -H "Authorization: Bearer $UPSTREAM_KEY" \
        -d '{"model":"gpt-4o","messages":[{"role":"user","content":"ping"}],"stream":true}' "http://127.0.0.1:$PORTKEY_PORT$CHAT_PATH" || true)
      if [[ "$streamed" == *"[DONE]"* ]]; then
        PORTKEY_STREAM=1
      else
        local why answer; why=$(grep -m1 -oE "TypeError: [A-Za-z ]+" "$WORK/portkey.log" || echo "no [DONE] in the answer")
        answer=${streamed:0:60}; answer=${answer//\"/\'}
        echo "   Portkey: a streamed chat call fails (${streamed:0:80}; $why): Portkey is left out of the streaming phase"
        record "{\"kind\":\"unavailable_stream\",\"run\":\"small\",\"target\":\"portkey\",\"reason\":\"a streamed chat call answers ${answer}… (${why}) with Portkey 1.15.2 on node $(node --version)\"}"
      fi
      return
    fi
  fi
  echo "   Portkey: $reason"
  record "{\"kind\":\"unavailable\",\"run\":\"small\",\"target\":\"portkey\",\"reason\":\"$reason\"}"
}

# ---------------------------------------------------------------- measurements
TARGETS=()            # name|url|extra headers (as LoadGen takes them)
declare -A TARGET_PID # name -> the process whose CPU time counts for it (for direct: the stand-in)

spec_parts() { # spec_parts SPEC: sets NAME URL HEADERS
  IFS='|' read -r NAME URL _ <<<"$1"
  HEADERS=""
  if [[ "$1" == *"|"*"|"* ]]; then HEADERS="${1#*|*|}"; fi
}

wrk_run() { # wrk_run NAME URL HEADERS SECONDS OUTFILE: one bounded wrk run; prints its req/s
  BENCH_HEADERS="$3" BENCH_KEY="$BENCH_KEY" BENCH_MODEL="$BENCH_MODEL" BENCH_PAIRS="${PAIRS:-}" \
    timeout $(($4 + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${4}s" --timeout 10s -s "$TREE/bench/wrk/chat.lua" "$2" >"$5" 2>&1 || true
  awk '/^Requests\/sec:/ {print $2}' "$5"
}

warm_up() { # warm_up RUN SPEC: wrk runs of WARM_STEP s until two in a row agree within 7% (WARM_MIN..WARM_MAX runs)
  local run="$1" prev=0 rps n trail=""
  spec_parts "$2"
  for n in $(seq "$WARM_MAX"); do
    rps=$(wrk_run "$NAME" "$URL" "$HEADERS" "$WARM_STEP" "$WORK/warm-$run-$NAME-$n.txt")
    rps=${rps:-0}
    trail="$trail ${rps%.*}"
    if (( n >= WARM_MIN )) && awk -v a="$rps" -v b="$prev" 'BEGIN { exit !(b > 0 && a < b * 1.07 && a > b * 0.93) }'; then break; fi
    prev=$rps
  done
  printf '   [%s warm-up] %-10s req/s per %s-s run:%s\n' "$run" "$NAME" "$WARM_STEP" "$trail"
  record "{\"kind\":\"warmup\",\"run\":\"$run\",\"target\":\"$NAME\",\"step_seconds\":$WARM_STEP,\"rps\":[$(echo "$trail" | sed 's/^ //; s/ /,/g')]}"
}

wrk_measured() { # wrk_measured RUN SPEC ROUND: saturation req/s and the CPU time the target spent per request
  local run="$1" round="$3" out pid c0 c1 c2 rps requests non2xx socket
  spec_parts "$2"
  out="$WORK/wrk-$run-$NAME-$round.txt"
  pid="${TARGET_PID[$NAME]}"
  settle
  c0=$(cpu_ticks "$pid")
  local t0=$(date +%s)
  rps=$(wrk_run "$NAME" "$URL" "$HEADERS" "$WRK_SECONDS" "$out")
  c1=$(cpu_ticks "$pid")
  local other; other=$(foreign_between "$t0" "$(date +%s)")
  settle
  c2=$(cpu_ticks "$pid")
  requests=$(awk '/requests in/ {print $1}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  socket=$(awk -F'[ ,]+' '/Socket errors:/ {print $4 + $6 + $8 + $10}' "$out")
  local during after
  during=$(awk -v t=$((c1 - c0)) -v n="${requests:-0}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  after=$(awk -v t=$((c2 - c1)) -v n="${requests:-0}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf '   [%s wrk] %-10s round %s: %8s req/s, CPU %s µs/request during the run + %s µs/request after it; other processes %s%% of the machine%s\n' "$run" "$NAME" "$round" "${rps:-?}" \
    "$during" "$after" "$other" "$([[ -n "$non2xx$socket" ]] && echo " (non-2xx ${non2xx:-0}, socket errors ${socket:-0})")"
  record "{\"kind\":\"wrk\",\"run\":\"$run\",\"target\":\"$NAME\",\"round\":$round,\"rps\":${rps:-0},\"requests\":${requests:-0},\"cpu_us_per_request\":$during,\"cpu_after_us_per_request\":$after,\"foreign_pct\":$other,\"non2xx\":${non2xx:-0},\"socket_errors\":${socket:-0}}"
}

measure() { # measure RUN: saturation, fixed-rate chat and streaming latency over TARGETS, interleaved
  local run="$1" spec round mode extra=()
  wait_quiet "$QUIET_WAIT"
  if [[ -n "${PAIRS:-}" ]]; then extra=(--pairs "$PAIRS"); else extra=(--key "$BENCH_KEY" --model "$BENCH_MODEL"); fi
  log "[$run] warm-up (wrk until the rate is stable), then saturation throughput: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s, $ROUNDS rounds"
  for spec in "${TARGETS[@]}"; do warm_up "$run" "$spec"; done
  for round in $(seq "$ROUNDS"); do
    for spec in "${TARGETS[@]}"; do wrk_measured "$run" "$spec" "$round"; done
  done
  local budget=$(( ${#TARGETS[@]} * ROUNDS * (LAT_SECONDS + 5) + 90 ))
  for mode in chat stream serial; do
    if [[ $mode == serial ]]; then
      log "[$run] chat at one connection (each call sent when the last has answered), $ROUNDS rounds of ${LAT_SECONDS} s per target"
    else
      log "[$run] $mode at a fixed $RATE req/s (open loop), $ROUNDS rounds of ${LAT_SECONDS} s per target"
    fi
    local args=()
    for spec in "${TARGETS[@]}"; do
      [[ $mode == stream && $spec == portkey\|* && $PORTKEY_STREAM == 0 ]] && continue
      args+=(--target "$spec")
    done
    settle
    local t0; t0=$(date +%s)
    timeout "$budget" "${LOADGEN[@]}" latency --run "$run" --mode "$mode" --rps "$RATE" --seconds "$LAT_SECONDS" \
      --warmup "$WARMUP" --first-warmup "$FIRST_WARMUP" --rounds "$ROUNDS" "${extra[@]}" "${args[@]}" --out "$RESULTS" \
      || fail "the $mode latency run failed"
    local other; other=$(foreign_between "$t0" "$(date +%s)")
    echo "   other processes used $other% of the machine during the $mode phase"
    record "{\"kind\":\"foreign\",\"run\":\"$run\",\"phase\":\"$mode\",\"pct\":$other}"
  done
}

callable() { # callable RUN: POST /model/new (and /key/generate) → first successful chat call
  log "[$1] time for a model change (and a new key) to become callable, $CALLABLE_COUNT times"
  timeout 300 "${LOADGEN[@]}" callable --run "$1" --gateway "http://127.0.0.1:$GATEWAY_PORT" --master "$MASTER_KEY" \
    --key "$BENCH_KEY" --team bench-team --model "$BENCH_MODEL" --api-base "$API_BASE" --count "$CALLABLE_COUNT" --out "$RESULTS" \
    || fail "the callable measurement failed"
}

target_specs() {
  TARGETS=("direct|$STANDIN$CHAT_PATH" "bare-yarp|http://127.0.0.1:$BARE_PORT$CHAT_PATH" "gateway|http://127.0.0.1:$GATEWAY_PORT$CHAT_PATH")
  TARGET_PID=([direct]="$standin_pid" [bare-yarp]="$bare_pid" [gateway]="$GATEWAY_PID")
  if [[ $1 == small && -n "${BENCH_LIMITS_KEY:-}" ]]; then
    # The same gateway process and model, called with the key whose key and team have budgets and limits (issue 9).
    TARGETS+=("gateway-limits|http://127.0.0.1:$GATEWAY_PORT$CHAT_PATH|Authorization: Bearer $BENCH_LIMITS_KEY")
    TARGET_PID[gateway-limits]="$GATEWAY_PID"
  fi
  if [[ $1 == small && -n "${BENCH_ANTHROPIC_KEY:-}" ]]; then
    # The same gateway process and public model name, served by an Anthropic deployment: the translation's cost (issue 11).
    TARGETS+=("gateway-anthropic|http://127.0.0.1:$GATEWAY_PORT$CHAT_PATH|Authorization: Bearer $BENCH_ANTHROPIC_KEY")
    TARGET_PID[gateway-anthropic]="$GATEWAY_PID"
  fi
  if [[ $PORTKEY_OK == 1 && $1 == small ]]; then
    TARGETS+=("portkey|http://127.0.0.1:$PORTKEY_PORT$CHAT_PATH|$PORTKEY_HEADERS")
    TARGET_PID[portkey]="$PORTKEY_PID"
  fi
  return 0
}

# ---------------------------------------------------------------- small run
log "[small] gateway on a fresh SQLite file"
start_gateway small "$WORK/small.db"
seed_gateway small
if [[ $PORTKEY == 1 ]]; then start_portkey; else record '{"kind":"unavailable","run":"small","target":"portkey","reason":"not run (--no-portkey or --quick)"}'; fi
PAIRS=""
target_specs small
measure small
callable small
info small rss_loaded_kb "$(rss_kb "$GATEWAY_PID")"
echo "   gateway VmRSS after the small run: $(( $(rss_kb "$GATEWAY_PID") / 1024 )) MB"
stop "$GATEWAY_PID"
[[ $PORTKEY_OK == 1 ]] && stop "$PORTKEY_PID"

# ---------------------------------------------------------------- allocations (issue 13)
if [[ $QUICK == 0 ]]; then
  log "[small] allocated bytes per forwarded call: bare YARP and the gateway in turn under wrk (bench/allocations.sh)"
  command -v dotnet-counters >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
  command -v dotnet-counters >/dev/null || timeout 300 dotnet tool install -g dotnet-counters >"$WORK/dotnet-counters-install.log" 2>&1 || true
  if ! JSONL="$RESULTS" timeout 300 bash "$BENCH/allocations.sh" "$TREE/src/Portal/bin/Release/$BIN/Portal.dll" | sed 's/^/   /'; then
    record '{"kind":"unavailable","run":"small","target":"allocations","reason":"not measured: bench/allocations.sh failed (dotnet-counters missing?)"}'
  fi
fi

# ---------------------------------------------------------------- scale run
if [[ $SCALE == 1 ]]; then
  log "[scale] seeding $SCALE_TEAMS teams, $SCALE_MODELS team models and $SCALE_KEYS keys into a new SQLite file (bench/Seeder)"
  PAIRS="$WORK/pairs.txt"
  timeout 900 "${SEEDER[@]}" --db "$WORK/scale.db" --encryption-key "$ENCRYPTION_KEY" --api-base "$API_BASE" \
    --teams "$SCALE_TEAMS" --models "$SCALE_MODELS" --keys "$SCALE_KEYS" --pairs-out "$PAIRS" --pairs 1000 --out "$RESULTS" \
    || fail "the seeder failed"
  log "[scale] gateway on the seeded file"
  start_gateway scale "$WORK/scale.db"
  seed_gateway scale
  target_specs scale
  measure scale
  callable scale
  info scale rss_loaded_kb "$(rss_kb "$GATEWAY_PID")"
  echo "   gateway VmRSS after the scale run: $(( $(rss_kb "$GATEWAY_PID") / 1024 )) MB"
  stop "$GATEWAY_PID"
fi

# ---------------------------------------------------------------- report
log "report"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/machine.txt"
record "{\"kind\":\"foreign\",\"run\":\"all\",\"phase\":\"whole run\",\"pct\":$(awk '{s += $2; n++} END {printf "%.1f", n ? s / n : 0}' "$WORK/foreign.txt"),\"max\":$(awk '$2 > m {m = $2} END {printf "%.1f", m + 0}' "$WORK/foreign.txt")}"
mkdir -p "$(dirname "$RESULTS_MD")"
"${LOADGEN[@]}" report --results "$RESULTS" --machine "$WORK/machine.txt" --command "$COMMAND" --source "$SOURCE" --out "$RESULTS_MD"
[[ $KEEP == 1 ]] && cp "$RESULTS" "$OUT/results.jsonl"
echo "written to ${RESULTS_MD#"$ROOT"/}"
OK=1

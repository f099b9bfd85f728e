#!/usr/bin/env bash
# The coding-tool dialects' cost (issue 25): one stand-in, one gateway, and wrk against each caller API x deployment
# pair in turn, repeated (A B C D E F B C D E F A ...) so that the ratios hold on a noisy machine:
#
#   chat-openai           POST /v1/chat/completions -> OpenAI deployment       passed through (the baseline)
#   messages-anthropic    POST /v1/messages         -> Anthropic deployment    passed through (only "model" rewritten)
#   chat-anthropic        POST /v1/chat/completions -> Anthropic deployment    chat -> Messages and back
#   messages-openai       POST /v1/messages         -> OpenAI deployment       Messages -> chat and back
#   responses-anthropic   POST /v1/responses        -> Anthropic deployment    Responses -> chat -> Messages and back
#   responses-compatible  POST /v1/responses        -> hosted_vllm deployment  Responses -> chat and back
#   chat-bedrock          POST /v1/chat/completions -> Bedrock deployment      chat -> Converse (SigV4-signed) and back
#                                                                              (left out for a gateway without bedrock)
#   chat-gemini           POST /v1/chat/completions -> Gemini deployment       chat -> generateContent and back
#   messages-gemini       POST /v1/messages         -> Gemini deployment       Messages -> chat -> generateContent and back
#   chat-vertex           POST /v1/chat/completions -> Claude on Vertex AI     chat -> Messages (Vertex's body, bearer token) and back
#   messages-vertex       POST /v1/messages         -> Claude on Vertex AI     passed through (model out, anthropic_version in)
#
# The six deployments are the same public model name in six teams (LoadGen seed --anthropic-team
# --compatible-team --bedrock-team --gemini-team --vertex-team), the request the same system and user text in each API's shape (bench/wrk/chat.lua,
# BENCH_ROUTE). Prints, per target, the median req/s and CPU µs per request of the gateway process over the rounds
# and the median of the per-round ratios to chat-openai; the table also goes to bench/out/dialects/results.md.
#
#   bash bench/dialects.sh                      sources copied to bench/out/tree, built there in Release, 3 rounds
#   bash bench/dialects.sh 5                    the same, 5 rounds
#   bash bench/dialects.sh path/Portal.dll 5    that gateway build (the stand-in and LoadGen still come from the copy)
#
# Each run also records the share of the machine that other processes took meanwhile (other %); before each round
# it waits up to QUIET_WAIT s (default 120) for the machine to be under 10% busy.
# Environment: SECS=8 (seconds per measured run), QUIET_WAIT=120. Needs wrk, rsync and curl. Every process it starts is stopped on exit.
set -uo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; ROOT="$(dirname "$BENCH")"
DLL=""; [[ ${1:-} =~ ^[0-9]+$ ]] || { DLL=${1:-}; shift || true; }
ROUNDS=${1:-3}; SECS=${SECS:-8}
T="$BENCH/out/tree"; W="$BENCH/out/dialects"; rm -rf "$W"; mkdir -p "$W" "$T"
fail() { echo "dialects.sh: $*" >&2; exit 1; }

# The same copy as bench/run.sh makes (its layout, so side-by-side.sh can use it too): edits made while this runs
# change nothing, and the build never touches the developers' bin/obj. rsync keeps times, so a rebuild is incremental.
for f in Directory.Build.props Directory.Packages.props appsettings.json .editorconfig; do cp -p "$ROOT/$f" "$T/$f"; done
rsync -a --delete --exclude bin/ --exclude obj/ --exclude '*.db' --exclude '*.db-*' "$ROOT/src/" "$T/src/"
rsync -a --delete --exclude bin/ --exclude obj/ --exclude out/ --exclude .tools/ --exclude .portkey/ --exclude RESULTS.md "$BENCH/" "$T/bench/"
echo "building bench/Bench.slnx in Release in $T (the working tree at $(git -C "$ROOT" rev-parse --short HEAD))"
dotnet build "$T/bench/Bench.slnx" -c Release --disable-build-servers -nologo -v q -clp:ErrorsOnly >"$W/build.log" 2>&1 \
  || { grep -E "error" "$W/build.log" | sort -u | head -20 >&2; fail "build failed (see $W/build.log)"; }
DLL=$(realpath "${DLL:-$T/src/Portal/bin/Release/net10.0/Portal.dll}")

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
STANDIN=http://127.0.0.1:18321; GATEWAY=http://127.0.0.1:18322
dotnet "$T/bench/StandIn/bin/Release/net10.0/StandIn.dll" --urls "$STANDIN" >"$W/standin.log" 2>&1 & pids+=($!)
SI_PID=$!
env ASPNETCORE_ENVIRONMENT=Production Proxy__MasterKey=sk-bench-master Proxy__EncryptionKey=bench-encryption-key-0123456789 \
  ConnectionStrings__Portal="Data Source=$W/gateway.db" Logging__LogLevel__Default=Warning \
  dotnet "$DLL" --urls "$GATEWAY" --contentRoot "$T" >"$W/gateway.log" 2>&1 & pids+=($!)
GW_PID=$!
for _ in $(seq 240); do curl -sf "$GATEWAY/health/liveliness" >/dev/null 2>&1 && break; sleep 0.5; done
for _ in $(seq 120); do curl -s -o /dev/null "$STANDIN/v1/models" && break; sleep 0.5; done
timeout 120 dotnet "$T/bench/LoadGen/bin/Release/net10.0/LoadGen.dll" seed --run small --gateway "$GATEWAY" --master sk-bench-master \
  --api-base "$STANDIN/v1" --anthropic-team bench-team-anthropic --compatible-team bench-team-compatible --bedrock-team bench-team-bedrock --gemini-team bench-team-gemini --vertex-team bench-team-vertex \
  --env-out "$W/bench.env" --out "$W/seed.jsonl" >"$W/seed.log" 2>&1 || { cat "$W/seed.log"; fail "seeding failed"; }
# shellcheck disable=SC1091
source "$W/bench.env"
[[ -n ${BENCH_ANTHROPIC_KEY:-} && -n ${BENCH_COMPATIBLE_KEY:-} ]] || { cat "$W/seed.log"; fail "this gateway lacks the anthropic or compatible team"; }

# name | path | BENCH_ROUTE | key | what a 2xx answer must contain (the caller's shape: a 200 in the wrong shape
# would mean the translation did not happen, and a 400 would make wrk's figures meaningless)
TARGETS=(
  "chat-openai|/v1/chat/completions|chat|$BENCH_KEY|\"object\":\"chat.completion\""
  "messages-anthropic|/v1/messages|messages|$BENCH_ANTHROPIC_KEY|\"type\":\"message\""
  "chat-anthropic|/v1/chat/completions|chat|$BENCH_ANTHROPIC_KEY|\"object\":\"chat.completion\""
  "messages-openai|/v1/messages|messages|$BENCH_KEY|\"type\":\"message\""
  "responses-anthropic|/v1/responses|responses|$BENCH_ANTHROPIC_KEY|\"object\":\"response\""
  "responses-compatible|/v1/responses|responses|$BENCH_COMPATIBLE_KEY|\"object\":\"response\""
)
[[ -n ${BENCH_BEDROCK_KEY:-} ]] && TARGETS+=("chat-bedrock|/v1/chat/completions|chat|$BENCH_BEDROCK_KEY|\"object\":\"chat.completion\"")
# A gateway without the Gemini provider (an older --rev) leaves its rows out.
[[ -n ${BENCH_GEMINI_KEY:-} ]] && TARGETS+=(
  "chat-gemini|/v1/chat/completions|chat|$BENCH_GEMINI_KEY|\"object\":\"chat.completion\""
  "messages-gemini|/v1/messages|messages|$BENCH_GEMINI_KEY|\"type\":\"message\""
)
[[ -n ${BENCH_VERTEX_KEY:-} ]] && TARGETS+=(
  "chat-vertex|/v1/chat/completions|chat|$BENCH_VERTEX_KEY|\"object\":\"chat.completion\""
  "messages-vertex|/v1/messages|messages|$BENCH_VERTEX_KEY|\"type\":\"message\""
)
# The bodies of bench/wrk/chat.lua, for the check with curl (wrk's own runs are checked for non-2xx answers below).
S="You are a concise weather assistant."; U="What is the weather in Boston today? Answer in one sentence."
declare -A BODY=(
  [chat]="{\"model\":\"$BENCH_MODEL\",\"messages\":[{\"role\":\"system\",\"content\":\"$S\"},{\"role\":\"user\",\"content\":\"$U\"}],\"max_tokens\":64,\"temperature\":0,\"stream\":false}"
  [messages]="{\"model\":\"$BENCH_MODEL\",\"system\":\"$S\",\"messages\":[{\"role\":\"user\",\"content\":\"$U\"}],\"max_tokens\":64,\"temperature\":0,\"stream\":false}"
  [responses]="{\"model\":\"$BENCH_MODEL\",\"instructions\":\"$S\",\"input\":[{\"role\":\"user\",\"content\":\"$U\"}],\"max_output_tokens\":64,\"temperature\":0,\"stream\":false}"
)
for t in "${TARGETS[@]}"; do
  IFS='|' read -r name path route key shape <<<"$t"
  code=$(curl -s -o "$W/check-$name.json" -w '%{http_code}' -X POST "$GATEWAY$path" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' -d "${BODY[$route]}")
  [[ $code == 2* ]] && grep -qF "$shape" "$W/check-$name.json" \
    || fail "$name answered $code, not a 2xx with $shape: $(head -c 400 "$W/check-$name.json")"
  echo "  $name: $code $(head -c 120 "$W/check-$name.json")…"
done

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }   # clock ticks (1/100 s) of one process
waited() { awk '{print $16+$17}' "/proc/$BASHPID/stat"; }   # ticks of this shell's finished children (wrk)
machine() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }   # busy and all ticks, every core
run() { # run TARGET SECONDS: one wrk run; prints "name req/s cpu-µs/request other-%", fails on any non-2xx answer
  local name path route key shape out c0 c1 s0 s1 w0 w1 m0 m1 total
  IFS='|' read -r name path route key shape <<<"$1"
  c0=$(cpu "$GW_PID"); s0=$(cpu "$SI_PID"); w0=$(waited); m0=$(machine)
  out=$(BENCH_ROUTE=$route BENCH_KEY=$key BENCH_MODEL=$BENCH_MODEL timeout $(($2 + 30)) \
    wrk -t2 -c64 -d"${2}s" --timeout 10s -s "$T/bench/wrk/chat.lua" "$GATEWAY$path" 2>&1)
  c1=$(cpu "$GW_PID"); s1=$(cpu "$SI_PID"); w1=$(waited); m1=$(machine)
  ! grep -q "Non-2xx" <<<"$out" || { echo "$out" >&2; fail "$name: wrk saw non-2xx answers"; }
  total=$(awk '/requests in/{print $1}' <<<"$out")
  # other-%: the share of the machine that processes other than the gateway, the stand-in and wrk took meanwhile
  # (a build or a test run on the same cores): a run with a large one measured the neighbours too.
  echo "$name $(awk '/Requests\/sec/{print $2}' <<<"$out") $(( (c1 - c0) * 10000 / (${total:-0} > 0 ? total : 1) ))" \
    "$(awk -v m0="$m0" -v m1="$m1" -v ours=$(( c1 - c0 + s1 - s0 + w1 - w0 )) 'BEGIN { split(m0, a, " "); split(m1, b, " ")
      o = (b[1] - a[1] - ours) * 100 / (b[2] - a[2]); printf "%.0f", o < 0 ? 0 : o }')"
}
quiet() { # before a round: wait (at most QUIET_WAIT s) until the machine is under 10% busy for 3 s in a row
  local start=$SECONDS n=0 a b
  while (( SECONDS - start < ${QUIET_WAIT:-120} && n < 3 )); do
    a=$(machine); sleep 1; b=$(machine)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !((y[1] - x[1]) * 10 < y[2] - x[2]) }' && n=$((n + 1)) || n=0
  done
}
echo "warm-up (JIT tiers, pools): 4 x 3 s per target"
for _ in 1 2 3 4; do for t in "${TARGETS[@]}"; do run "$t" 3 >/dev/null || exit 1; done; done
echo "measuring: $ROUNDS rounds x ${#TARGETS[@]} targets x $SECS s (load average at start: $(cut -d' ' -f1-3 /proc/loadavg))"
for r in $(seq "$ROUNDS"); do
  quiet
  # Each round starts one target further on: the target right after the quiet wait has the machine most to itself,
  # and with a fixed order that was always the baseline.
  for i in $(seq 0 $((${#TARGETS[@]} - 1))); do
    line=$(run "${TARGETS[$(( (i + r - 1) % ${#TARGETS[@]} ))]}" "$SECS") || exit 1; echo "$r $line" | tee -a "$W/results.txt"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians over rounds; the ratio is the median of per-round ratios to chat-openai (both measured in the same minute).
{
  echo "| target | req/s (median) | CPU µs per call (median) | req/s ratio to chat-openai | CPU µs − chat-openai | other processes (median) |"
  echo "|---|---:|---:|---:|---:|---:|"
  awk '
    function median(list,   n, a, i, j, x) { n = split(list, a, " ")
      for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { rps[$1, $2] = $3; us[$1, $2] = $4; other[$1, $2] = $5; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } rounds[$1] = 1 }
    END { for (i = 1; i <= k; i++) { t = order[i]; R = U = Q = D = O = ""
            for (r in rounds) { R = R " " rps[r, t]; U = U " " us[r, t]; O = O " " other[r, t]
              Q = Q " " rps[r, t] / rps[r, "chat-openai"]; D = D " " us[r, t] - us[r, "chat-openai"] }
            printf "| %s | %.0f | %.0f | %.3f | %+.0f | %.0f%% |\n", t, median(R), median(U), median(Q), median(D), median(O) } }' "$W/results.txt"
} | tee "$W/results.md"

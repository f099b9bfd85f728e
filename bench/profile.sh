#!/usr/bin/env bash
# CPU samples per 1000 forwarded calls, gateway vs bare YARP, by assembly and by symbol: one stand-in, bare YARP and
# the gateway (a fresh SQLite file, seeded through the REST API; SCALE=1: the scale run's data and 1,000 keys in turn),
# each under wrk -t2 -c64 for 8 s in turn (Y G Y G) while `perf record -F 1999` samples it with perf maps on. The last
# pair is reported: what the gateway spends beyond YARP's own forward, where. Usage: bash bench/profile.sh [Portal.dll]
# [TOP] (default: src/Portal's Release build, 40 symbols); CONNECTIONS=1: wrk -t1 -c1, one call at a time (the cost on a
# call's own path, as the one-connection latency sees it). Needs bench/out/tree from a bench/run.sh run, perf
# (apt-get install linux-perf) and wrk. The samples stay in bench/out/profile/{y,g}.txt for a closer look.
set -uo pipefail
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; T=$B/out/tree; W=$B/out/profile; rm -rf "$W"; mkdir -p "$W"
GATEWAY_DLL=$(realpath "${1:-$B/../src/Portal/bin/Release/net10.0/Portal.dll}"); TOP=${2:-40}
command -v perf >/dev/null || { echo "needs perf: apt-get install linux-perf"; exit 2; }
cd "$W"
PROCESS_ENV="DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0" source "$B/yarp-and-gateway.sh"
LOAD=$([[ ${CONNECTIONS:-64} == 1 ]] && echo "-t1 -c1" || echo "-t2 -c${CONNECTIONS:-64}")
for n in y g y g; do
  pid=$([[ $n == y ]] && echo $Y || echo $G); port=$([[ $n == y ]] && echo 18402 || echo 18403)
  wrk $LOAD -d4s -s "$T/bench/wrk/chat.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null 2>&1   # warm
  perf record -F 1999 -p "$pid" -o "$W/$n.data" -- sleep 8.5 >"$W/perf-$n.log" 2>&1 &
  recorder=$!; sleep 0.3
  out=$(wrk $LOAD -d8s -s "$T/bench/wrk/chat.lua" "http://127.0.0.1:$port/v1/chat/completions" 2>&1)
  wait $recorder
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$([[ $n == y ]] && echo bare-yarp || echo gateway): $requests calls, $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s"
  perf report -i "$W/$n.data" --sort dso,symbol --stdio -n 2>/dev/null | grep -v '^#' \
    | awk -v r="$requests" 'NF > 3 && $2 ~ /^[0-9]+$/ {n = $2; $1 = ""; $2 = ""; printf "%8.2f %s\n", n * 1000 / r, $0}' >"$W/$n.txt"
done
python3 - "$W/y.txt" "$W/g.txt" "$TOP" <<'PY'
import collections, re, sys
def load(path):
    by_dso, by_symbol = collections.Counter(), collections.Counter()
    for line in open(path):
        value, _, rest = line.strip().partition(' ')
        rest = rest.strip()
        if not rest:
            continue
        value = float(value)
        if rest.startswith('[JIT]'):
            symbol = re.sub(r'\[(OptimizedTier1|Optimized|Tier0|Tier1|QuickJitted|Instrumented[^\]]*)\]', '', rest.split('[.] ', 1)[-1])
            assembly = re.search(r'\[([A-Za-z][A-Za-z0-9.]*)\] [A-Za-z_<]', symbol)
            by_dso['JIT ' + (assembly.group(1) if assembly else 'stubs')] += value
        else:
            symbol = rest
            by_dso[rest.split()[0]] += value
        by_symbol[symbol[:160]] += value
    return by_dso, by_symbol
(yd, ys), (gd, gs) = load(sys.argv[1]), load(sys.argv[2])
print(f"samples per 1000 calls: bare YARP {sum(yd.values()):.1f}, gateway {sum(gd.values()):.1f}")
print("  bare  gateway  beyond   by assembly")
for k in sorted(set(yd) | set(gd), key=lambda k: yd[k] - gd[k])[:15]:
    print(f"{yd[k]:6.1f} {gd[k]:8.1f} {gd[k] - yd[k]:+7.1f}   {k}")
print("  bare  gateway  beyond   by symbol")
for k in sorted(set(ys) | set(gs), key=lambda k: ys[k] - gs[k])[:int(sys.argv[3])]:
    print(f"{ys[k]:6.1f} {gs[k]:8.1f} {gs[k] - ys[k]:+7.1f}   {k}")
PY

#!/usr/bin/env bash
# Allocated bytes per forwarded call, gateway vs bare YARP: one stand-in, bare YARP and the gateway (a fresh SQLite
# file, seeded through the REST API), wrk -t2 -c64 for 8 s on each in turn (Y G Y G) while dotnet-counters reads the
# runtime's dotnet.gc.heap.total_allocated. Usage: bash bench/allocations.sh [Portal.dll] (default: src/Portal's
# Release build). Needs bench/out/tree from a bench/run.sh run and dotnet-counters (dotnet tool install -g dotnet-counters).
# JSONL=FILE appends each run as a record for bench/LoadGen's report (bench/run.sh does, for bench/RESULTS.md).
set -uo pipefail
B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; T=$B/out/tree; W=$B/out/allocations; rm -rf $W; mkdir -p $W
GATEWAY_DLL=$(realpath "${1:-$B/../src/Portal/bin/Release/net10.0/Portal.dll}")
command -v dotnet-counters >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-counters >/dev/null || { echo "needs dotnet-counters: dotnet tool install -g dotnet-counters"; exit 2; }
source "$B/yarp-and-gateway.sh"
for n in y g y g; do
  pid=$([[ $n == y ]] && echo $Y || echo $G); port=$([[ $n == y ]] && echo 18402 || echo 18403)
  wrk -t2 -c64 -d4s -s $T/bench/wrk/chat.lua http://127.0.0.1:$port/v1/chat/completions >/dev/null 2>&1   # warm
  rm -f $W/$n.csv
  dotnet-counters collect -p $pid --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' --format csv -o $W/$n.csv --refresh-interval 1 --duration 00:00:12 >/dev/null 2>&1 &
  c=$!; sleep 2
  out=$(wrk -t2 -c64 -d8s -s $T/bench/wrk/chat.lua http://127.0.0.1:$port/v1/chat/completions 2>&1)
  wait $c 2>/dev/null
  total=$(echo "$out" | awk '/requests in/{print $1}')
  bytes=$(awk -F, 'NR>1 && $5>1000000 {s+=$5} END {printf "%d", s}' $W/$n.csv)
  target=$([[ $n == y ]] && echo bare-yarp || echo gateway)
  echo "$target requests=$total allocated=$bytes bytes/request=$((bytes / total))"
  if [[ -n ${JSONL:-} ]]; then
    echo "{\"kind\":\"alloc\",\"run\":\"small\",\"target\":\"$target\",\"requests\":$total,\"bytes\":$bytes,\"bytes_per_request\":$((bytes / total))}" >>"$JSONL"
  fi
done

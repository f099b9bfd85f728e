# Sourced by allocations.sh and profile.sh, which compare the gateway with bare YARP under the same wrk load, Y G Y G.
# Expects B (bench/), T (bench/out/tree), W (a fresh work folder) and GATEWAY_DLL. Starts on 127.0.0.1 the stand-in
# (:18401), bare YARP (:18402) and the gateway (:18403, Production, a SQLite file in W; SCALE=1: the scale run's file from
# bench/Seeder and 1,000 of its keys in turn), seeds the gateway through the REST API, and stops them all on exit.
# PROCESS_ENV: settings for bare YARP and the gateway alike (e.g. perf maps). Sets Y and G (the two pids), exports
# BENCH_KEY, BENCH_MODEL (and BENCH_PAIRS) for bench/wrk/chat.lua. LIMITS=1: BENCH_KEY is the key of bench/run.sh's
# gateway-limits target (budgets, a model budget, rpm/tpm and max_parallel_requests on the key and its team).
[[ -f $T/bench/BareYarp/bin/Release/net10.0/BareYarp.dll ]] || { echo "run bash bench/run.sh --quick first (it builds the stand-in and bare YARP)"; exit 2; }
pids=(); trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
if [[ ${SCALE:-0} == 1 ]]; then
  timeout 900 dotnet "$T/bench/Seeder/bin/Release/net10.0/Seeder.dll" --db "$W/g.db" --encryption-key bench-encryption-key-0123456789 \
    --api-base http://127.0.0.1:18401/v1 --teams 10000 --models 50000 --keys 100000 --pairs-out "$W/pairs.txt" --pairs 1000 \
    --out "$W/seeder.jsonl" >"$W/seeder.log" 2>&1 || { echo "seeding the scale file failed"; tail "$W/seeder.log"; exit 1; }
  export BENCH_PAIRS="$W/pairs.txt"
fi
dotnet "$T/bench/StandIn/bin/Release/net10.0/StandIn.dll" --urls http://127.0.0.1:18401 >"$W/standin.log" 2>&1 & pids+=($!)
env ${PROCESS_ENV:-} dotnet "$T/bench/BareYarp/bin/Release/net10.0/BareYarp.dll" --urls http://127.0.0.1:18402 --upstream http://127.0.0.1:18401 \
  >"$W/yarp.log" 2>&1 & pids+=($!); Y=$!
env ${PROCESS_ENV:-} ASPNETCORE_ENVIRONMENT=Production Proxy__MasterKey=sk-bench-master Proxy__EncryptionKey=bench-encryption-key-0123456789 \
  ConnectionStrings__Portal="Data Source=$W/g.db" Logging__LogLevel__Default=Warning \
  dotnet "$GATEWAY_DLL" --urls http://127.0.0.1:18403 --contentRoot "$T" >"$W/gateway.log" 2>&1 & pids+=($!); G=$!
# The stand-in too: seeding calls through the gateway to it, and a cold start of it can be the slower one.
for url in http://127.0.0.1:18401/v1/models http://127.0.0.1:18403/health/liveliness; do
  for _ in $(seq 120); do curl -s -o /dev/null "$url" && break; sleep 0.5; done
done
timeout 120 dotnet "$T/bench/LoadGen/bin/Release/net10.0/LoadGen.dll" seed --run "$([[ ${SCALE:-0} == 1 ]] && echo scale || echo small)" \
  --gateway http://127.0.0.1:18403 --master sk-bench-master --api-base http://127.0.0.1:18401/v1 --env-out "$W/g.env" --out "$W/seed.jsonl" ${LIMITS:+--limits-team bench-team-limits} \
  >"$W/seed.log" 2>&1 || { echo "seeding failed"; cat "$W/seed.log"; exit 1; }
source "$W/g.env"; [[ -n ${LIMITS:-} ]] && BENCH_KEY=$BENCH_LIMITS_KEY; export BENCH_KEY BENCH_MODEL

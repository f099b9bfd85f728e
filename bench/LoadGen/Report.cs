using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace LoadGen;

/// <summary>Turns the run's results.jsonl into the table of bench/RESULTS.md, with the issue's targets marked PASS/MISS.</summary>
public static class Report
{
    private static readonly string[] Order = ["direct", "bare-yarp", "gateway", "gateway-limits", "gateway-anthropic", "portkey"];

    public static int Run(Args args)
    {
        var records = File.ReadAllLines(args.Get("results")).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var md = new StringBuilder();
        md.AppendLine("# Gateway benchmark results").AppendLine();
        md.AppendLine(Inv($"Produced by `{args.Get("command")}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, gateway built in Release from {args.Get("source")}. ")
            + "Everything ran on 127.0.0.1 on the machine below; the load generators (wrk, bench/LoadGen) share its 2 cores with the servers, "
            + "so absolute figures are pessimistic and only the ratios within one run are meant to be compared.");
        md.AppendLine().AppendLine("## Machine").AppendLine().AppendLine("```").AppendLine(File.ReadAllText(args.Get("machine")).TrimEnd()).AppendLine("```").AppendLine();

        if (records.LastOrDefault(r => Str(r, "kind") == "foreign" && Str(r, "run") == "all") is { } whole)
        {
            md.AppendLine(Inv($"Other processes (not started by the benchmark) used on average {D(whole, "pct"):0.0}% of the machine's CPU during the run (at most {D(whole, "max"):0}% in a 1-s interval)."))
                .AppendLine();
        }
        var runs = records.Select(r => Str(r, "run")).Where(r => r is "small" or "scale").Distinct().ToList();
        var small = new RunData(records, "small");
        var scale = runs.Contains("scale") ? new RunData(records, "scale") : null;

        md.AppendLine("## Small run: 1 team, 1 team key, 1 team model").AppendLine();
        Table(md, small);
        md.AppendLine("### Targets (issue 5)").AppendLine();
        md.AppendLine("Added latency is the gateway's percentile minus the **direct** call's percentile (the stand-in called without any proxy) at the same fixed rate, "
            + "measured in the same run; the same difference against bare YARP is shown for information. Latency is timed from each request's scheduled send time (open loop, no coordinated omission).").AppendLine();
        md.AppendLine("| check | measured | target | result |").AppendLine("|---|---|---|---|");
        Checks(md, small);
        md.AppendLine();
        if (small.Has("gateway-limits"))
        {
            md.AppendLine("### Spend control (issues 9 and 26): budgets and limits on every key").AppendLine();
            md.AppendLine("*gateway-limits* is the same gateway process and model as *gateway*, called with a key whose key and team both have a budget with a budget period, "
                + "an rpm and a tpm limit (and the key max_parallel_requests and a budget on the model), all far above the load: every call is admitted after its worst case is "
                + "reserved on each budget, its request and tokens counted, its spend added and its reservation given back, and the windows shared through the database every "
                + "second. Both targets pay for cost and spend accounting (the model has a price).").AppendLine();
            md.AppendLine("| check | measured | target | result |").AppendLine("|---|---|---|---|");
            SpendControlChecks(md, small);
            md.AppendLine();
        }
        if (small.Has("gateway-anthropic"))
        {
            md.AppendLine("### Anthropic translation (issue 11)").AppendLine();
            md.AppendLine("*gateway-anthropic* is the same gateway process and public model name as *gateway*, served by an Anthropic deployment: each call's "
                + "OpenAI body is translated into a Messages request and the stand-in's Anthropic answer (JSON, or the SSE event sequence) back into OpenAI's shapes.").AppendLine();
            md.AppendLine("| check | measured | target | result |").AppendLine("|---|---|---|---|");
            Info(md, "saturation throughput, gateway-anthropic / gateway (median of per-round ratios)",
                Inv($"{small.RatioMedian("gateway-anthropic", "gateway"):0.000} (rounds {small.RatioRounds("gateway-anthropic", "gateway")}; {small.Saturation("gateway-anthropic"):0} / {small.Saturation("gateway"):0} req/s)"));
            Info(md, "CPU per request at saturation, gateway-anthropic vs gateway (µs of the gateway process)",
                Inv($"{small.Cpu("gateway-anthropic", "cpu_us_per_request") + small.Cpu("gateway-anthropic", "cpu_after_us_per_request"):0} vs {small.Cpu("gateway", "cpu_us_per_request") + small.Cpu("gateway", "cpu_after_us_per_request"):0} µs"));
            Info(md, "added latency p50, gateway-anthropic − direct vs gateway − direct (median of per-round differences)",
                $"{Ms(small.Paired("chat", "p50", "gateway-anthropic", "direct"))} vs {Ms(small.Paired("chat", "p50", "gateway", "direct"))} ms");
            Info(md, "streaming added TTFB p50, gateway-anthropic − direct vs gateway − direct (chunks translated one by one)",
                $"{Ms(small.Paired("stream", "ttfb_p50", "gateway-anthropic", "direct"))} vs {Ms(small.Paired("stream", "ttfb_p50", "gateway", "direct"))} ms; reads per answer {D(small.Lat("stream", "gateway-anthropic"), "reads_p50"):0}");
            md.AppendLine();
        }

        Issue13(md, small, scale);

        if (scale is not null)
        {
            md.AppendLine(Inv($"## Scale run: {Info(records, "seeder", "teams")} teams, {Info(records, "seeder", "models")} team models, {Info(records, "seeder", "keys")} keys")).AppendLine();
            md.AppendLine(Inv($"Loaded into the SQLite file by bench/Seeder before the gateway started ({Info(records, "seeder", "seconds")} s, {Info(records, "seeder", "db_mb")} MB). ")
                + "The load spreads over 1,000 randomly chosen keys of different teams, each calling one of its team's models.").AppendLine();
            Table(md, scale);
            md.AppendLine("### Targets at scale").AppendLine();
            md.AppendLine("| check | measured | target | result |").AppendLine("|---|---|---|---|");
            Checks(md, scale);
            ScaleChecks(md, small, scale, records);
            md.AppendLine();
        }

        md.AppendLine("## Other figures").AppendLine();
        md.AppendLine("| figure | small run | scale run |").AppendLine("|---|---|---|");
        md.AppendLine(Inv($"| gateway start-up (process start → /health/liveliness 200) | {Ms(small.InfoValue("startup_ms"), 0)} ms | {Ms(scale?.InfoValue("startup_ms"), 0)} ms |"));
        md.AppendLine(Inv($"| gateway VmRSS after start-up | {Mb(small.InfoValue("rss_start_kb"))} | {Mb(scale?.InfoValue("rss_start_kb"))} |"));
        md.AppendLine(Inv($"| gateway VmRSS after the load | {Mb(small.InfoValue("rss_loaded_kb"))} | {Mb(scale?.InfoValue("rss_loaded_kb"))} |"));
        md.AppendLine(Inv($"| POST /model/new → model callable (median / max of {small.Callable("model_callable_ms").Count}) | {MedMax(small.Callable("model_callable_ms"))} | {MedMax(scale?.Callable("model_callable_ms"))} |"));
        md.AppendLine(Inv($"| POST /model/new answered (median / max) | {MedMax(small.Callable("model_post_ms"))} | {MedMax(scale?.Callable("model_post_ms"))} |"));
        md.AppendLine(Inv($"| POST /key/generate → new key callable (median / max) | {MedMax(small.Callable("key_callable_ms"))} | {MedMax(scale?.Callable("key_callable_ms"))} |"));
        if (scale is not null)
        {
            var keys = Info(records, "seeder", "keys") is JsonNode k ? k.GetValue<double>() : 0;
            var grow = scale.InfoValue("rss_loaded_kb") - small.InfoValue("rss_loaded_kb");
            var growStart = scale.InfoValue("rss_start_kb") - small.InfoValue("rss_start_kb");
            md.AppendLine(Inv($"| VmRSS growth per 10,000 keys (with 1,000 teams and 5,000 team models per 10,000 keys) | | after start-up {Mb(growStart / (keys / 10_000))}, after load {Mb(grow / (keys / 10_000))} |"));
        }
        md.AppendLine();
        md.AppendLine("## How it was measured").AppendLine();
        md.AppendLine("""
- **Targets.** *direct*: the stand-in upstream (bench/StandIn, Kestrel, static chat.completion JSON; with `"stream":true` an SSE answer whose first chunk is flushed at once and two more follow after 5 ms each, then usage and `[DONE]`). *bare-yarp*: bench/BareYarp, YARP's `IHttpForwarder` with one shared `SocketsHttpHandler`, no auth, no body read: the floor for a .NET proxy. *gateway*: src/Portal in Release, Production environment, logging at Warning, SQLite file, seeded through its REST API with the master key (team, team key, team model whose api_base is the stand-in). *portkey*: `@portkey-ai/gateway` from npm on node, with `x-portkey-provider: openai` and `x-portkey-custom-host` pointing at the stand-in.
- **Saturation**: `wrk -t2 -c64` with a POST chat body, each target in turn, repeated per round (A B C A B C); the table shows the mean of the rounds.
- **Fixed rate**: bench/LoadGen sends 500 req/s on a fixed timeline (open loop) for each target in turn, A B C A B C, after a warm-up at the same rate; latency runs from the scheduled send time to the last body byte (chat) or to the first body byte (stream TTFB). "stream total" is the time to the end of the SSE answer (about 2 × 5 ms by construction: a proxy that buffered would show a TTFB near that too), "reads" the median number of reads that returned data per streamed answer (3 or more: chunks were not coalesced).
- **One connection**: bench/LoadGen sends each chat call when the last has answered, on one kept-alive connection, for the same seconds per target and round; latency runs from the send to the last body byte. No call waits behind another, so this is a proxy's own cost per call.
- **Added latency** = difference of percentiles (gateway pNN − baseline pNN), not a percentile of differences.
- The client, wrk and every server share 2 cores: a busy generator and a busy proxy compete for the same CPU, which inflates tails (p99) for every target alike.
""");
        File.WriteAllText(args.Get("out"), md.ToString());
        Console.WriteLine(md.ToString());
        return 0;
    }

    private static void Table(StringBuilder md, RunData run)
    {
        var rate = Order.Select(t => D(run.Lat("chat", t), "rps")).FirstOrDefault(r => r is not null) ?? 500;
        md.AppendLine(Inv($"| target | saturation req/s (wrk, mean of rounds) | CPU µs/request of the target process (during + after the run) | chat p50 ms @{rate}/s | chat p99 ms @{rate}/s | stream TTFB p50 ms | stream TTFB p99 ms | stream total p50 ms / reads | errors | other processes' CPU during its wrk runs |"));
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var target in Order)
        {
            if (run.Unavailable(target) is { } reason)
            {
                md.AppendLine($"| {target} | {reason} | | | | | | | | |");
                continue;
            }
            if (!run.Has(target))
            {
                continue;
            }
            var chat = run.Lat("chat", target);
            var stream = run.Lat("stream", target);
            var errors = run.Errors(target);
            var streamCells = stream is null && run.Unavailable(target, "unavailable_stream") is { } why
                ? $"not measured: {why} | | "
                : Inv($"{Ms(D(stream, "ttfb_p50"))} | {Ms(D(stream, "ttfb_p99"))} | {Ms(D(stream, "p50"), 1)} / {D(stream, "reads_p50"):0} ");
            md.AppendLine(Inv($"| {target} | {run.Saturation(target):0} ({run.SaturationRange(target)}) | {run.Cpu(target, "cpu_us_per_request"):0} + {run.Cpu(target, "cpu_after_us_per_request"):0} | {Ms(D(chat, "p50"))} | {Ms(D(chat, "p99"))} | ") + streamCells
                + Inv($"| {errors} | {run.Cpu(target, "foreign_pct"):0}% |"));
        }
        md.AppendLine();
        var phases = string.Join(", ", new[] { "chat", "stream" }.Select(p => (p, run.Foreign(p))).Where(f => f.Item2 is not null).Select(f => Inv($"{f.Item2:0.0}% during the {f.p} phase")));
        if (phases.Length > 0)
        {
            md.AppendLine($"Other processes on the machine used {phases} (share of both cores; 0% = the machine was ours alone).").AppendLine();
        }
        var warm = Order.Select(t => (t, run.Warmup(t))).Where(w => w.Item2 is not null).Select(w => $"{w.t} {w.Item2}").ToList();
        if (warm.Count > 0)
        {
            md.AppendLine($"Warm-up before measuring (wrk req/s of successive short runs, until two agree within 7%): {string.Join("; ", warm)}.").AppendLine();
        }
    }

    private static void Checks(StringBuilder md, RunData run)
    {
        var gwChat = run.Lat("chat", "gateway");
        var directChat = run.Lat("chat", "direct");
        var bareChat = run.Lat("chat", "bare-yarp");
        var gwStream = run.Lat("stream", "gateway");
        var directStream = run.Lat("stream", "direct");
        var bareStream = run.Lat("stream", "bare-yarp");
        // The targets are judged on the median over rounds of the per-round difference (robust to one disturbed round);
        // the difference of the percentiles over all rounds merged is shown beside it.
        Check(md, $"added latency p50 at the fixed rate, gateway − direct (median of per-round differences: {run.Rounds("chat", "p50", "gateway", "direct")}; all rounds merged {Ms(D(gwChat, "p50") - D(directChat, "p50"))})",
            run.Paired("chat", "p50", "gateway", "direct"), 0.25, "ms");
        Check(md, $"added latency p99 at the fixed rate, gateway − direct (median of per-round differences: {run.Rounds("chat", "p99", "gateway", "direct")}; all rounds merged {Ms(D(gwChat, "p99") - D(directChat, "p99"))})",
            run.Paired("chat", "p99", "gateway", "direct"), 1.0, "ms");
        Info(md, "added latency p50 / p99, gateway − bare YARP (median of per-round differences)", $"{Ms(run.Paired("chat", "p50", "gateway", "bare-yarp"))} / {Ms(run.Paired("chat", "p99", "gateway", "bare-yarp"))} ms");
        Info(md, "added latency p50 / p99, bare YARP − direct: the floor for a .NET proxy (median of per-round differences)", $"{Ms(run.Paired("chat", "p50", "bare-yarp", "direct"))} / {Ms(run.Paired("chat", "p99", "bare-yarp", "direct"))} ms");
        Info(md, "CPU per request at saturation, gateway vs bare YARP (µs of the proxy process, incl. work done after the run such as usage writes)",
            Inv($"{run.Cpu("gateway", "cpu_us_per_request") + run.Cpu("gateway", "cpu_after_us_per_request"):0} vs {run.Cpu("bare-yarp", "cpu_us_per_request") + run.Cpu("bare-yarp", "cpu_after_us_per_request"):0} µs"));
        var ratio = run.RatioMedian("gateway", "bare-yarp");
        var line = Inv($"| saturation throughput, gateway / bare YARP (median of per-round ratios: {run.RatioRounds("gateway", "bare-yarp")}) | {ratio:0.00} ({run.Saturation("gateway"):0} / {run.Saturation("bare-yarp"):0} req/s, means) | ≥ 0.80 | ");
        md.AppendLine(line + (double.IsNaN(ratio) ? "n/a |" : ratio >= 0.8 ? "PASS |" : Inv($"MISS by {0.8 - ratio:0.00} |")));
        Check(md, $"streaming added TTFB p50, gateway − direct (median of per-round differences: {run.Rounds("stream", "ttfb_p50", "gateway", "direct")}; merged {Ms(D(gwStream, "ttfb_p50") - D(directStream, "ttfb_p50"))})",
            run.Paired("stream", "ttfb_p50", "gateway", "direct"), 0.5, "ms");
        Info(md, "streaming added TTFB p99, gateway − direct / gateway − bare YARP (median of per-round differences)",
            $"{Ms(run.Paired("stream", "ttfb_p99", "gateway", "direct"))} / {Ms(run.Paired("stream", "ttfb_p99", "gateway", "bare-yarp"))} ms");
        Info(md, "streaming: chunks not coalesced or delayed (total p50 gateway − direct; reads per answer)",
            Inv($"{Ms(D(gwStream, "p50") - D(directStream, "p50"))} ms; {D(gwStream, "reads_p50"):0} reads (direct {D(directStream, "reads_p50"):0})"));
        if (run.Has("portkey"))
        {
            var pk = run.Lat("chat", "portkey");
            var pkStream = run.Lat("stream", "portkey");
            Info(md, "gateway vs Portkey: saturation throughput ratio", Inv($"{run.Saturation("gateway") / run.Saturation("portkey"):0.00} × ({run.Saturation("gateway"):0} vs {run.Saturation("portkey"):0} req/s)"));
            Info(md, "gateway vs Portkey: added latency p50 / p99 (each − direct, median of per-round differences)",
                $"gateway {Ms(run.Paired("chat", "p50", "gateway", "direct"))} / {Ms(run.Paired("chat", "p99", "gateway", "direct"))} ms; Portkey {Ms(run.Paired("chat", "p50", "portkey", "direct"))} / {Ms(run.Paired("chat", "p99", "portkey", "direct"))} ms");
            Info(md, "gateway vs Portkey: streaming added TTFB p50 (each − direct)", pkStream is null
                ? $"Portkey not measured: {run.Unavailable("portkey", "unavailable_stream")}"
                : $"gateway {Ms(run.Paired("stream", "ttfb_p50", "gateway", "direct"))} ms; Portkey {Ms(run.Paired("stream", "ttfb_p50", "portkey", "direct"))} ms");
        }
        else if (run.Unavailable("portkey") is { } reason)
        {
            Info(md, "gateway vs Portkey", reason);
        }
    }

    /// <summary>Issue 13's targets: throughput near a bare YARP forward with every feature on, latency, scale and allocations.</summary>
    private static void Issue13(StringBuilder md, RunData small, RunData? scale)
    {
        md.AppendLine("## Throughput near the floor (issue 13)").AppendLine();
        md.AppendLine("Every feature on is *gateway-limits*: its key and team have budgets, rpm/tpm limits and max_parallel_requests, and its calls are routed, "
            + "metered, priced and written to the usage log like every call. Added latency is against *direct*, median of per-round differences: "
            + "the targets at one connection (bench/LoadGen latency --mode serial: each call sent when the last has answered), and at the fixed rate (open loop, as in the table above) for information. Allocations: bench/allocations.sh, the runtime's total allocated bytes over wrk runs, gateway and bare YARP in turn.").AppendLine();
        md.AppendLine("| check | measured | target | result |").AppendLine("|---|---|---|---|");
        void AtLeast(string what, RunData run, string a, string b, double limit)
        {
            var ratio = run.RatioMedian(a, b);
            md.AppendLine(Inv($"| {what} (median of per-round ratios: {run.RatioRounds(a, b)}) | {ratio:0.00} ({run.Saturation(a):0} / {run.Saturation(b):0} req/s, means) | ≥ {limit:0.00} | ")
                + (double.IsNaN(ratio) ? "n/a |" : ratio >= limit ? "PASS |" : Inv($"MISS by {limit - ratio:0.00} |")));
        }
        var all = small.Has("gateway-limits") ? "gateway-limits" : "gateway";
        AtLeast($"saturation throughput, {all} / bare YARP", small, all, "bare-yarp", 0.85);
        if (all != "gateway")
        {
            AtLeast("saturation throughput, gateway (no limits) / bare YARP", small, "gateway", "bare-yarp", 0.85);
        }
        // The issue states its latency targets at one connection, where a call never waits behind another.
        if (small.Lat("serial", all) is not null)
        {
            Check(md, $"added latency p50 at one connection, {all} − direct (rounds: {small.Rounds("serial", "p50", all, "direct")})", small.Paired("serial", "p50", all, "direct"), 0.15, "ms");
            Check(md, $"added latency p99 at one connection, {all} − direct (rounds: {small.Rounds("serial", "p99", all, "direct")})", small.Paired("serial", "p99", all, "direct"), 1.0, "ms");
            Info(md, "added latency p50 / p99 at one connection, bare YARP − direct", $"{Ms(small.Paired("serial", "p50", "bare-yarp", "direct"))} / {Ms(small.Paired("serial", "p99", "bare-yarp", "direct"))} ms");
        }
        Info(md, Inv($"added latency p50 / p99 at the fixed {D(small.Lat("chat", all), "rps"):0} req/s, {all} − direct (bare YARP − direct)"),
            $"{Ms(small.Paired("chat", "p50", all, "direct"))} / {Ms(small.Paired("chat", "p99", all, "direct"))} ms "
            + $"({Ms(small.Paired("chat", "p50", "bare-yarp", "direct"))} / {Ms(small.Paired("chat", "p99", "bare-yarp", "direct"))} ms)");
        if (scale is not null)
        {
            AtLeast("at scale: saturation throughput, gateway / bare YARP", scale, "gateway", "bare-yarp", 0.80);
        }
        var bare = small.Allocated("bare-yarp");
        var gateway = small.Allocated("gateway");
        if (bare.Count > 0 && gateway.Count > 0)
        {
            var beyond = gateway.Average() - bare.Average();
            md.AppendLine(Inv($"| allocated bytes per forwarded call, gateway − bare YARP (runs: gateway {string.Join(" / ", gateway.Select(b => b.ToString("N0", CultureInfo.InvariantCulture)))}, ")
                + Inv($"bare YARP {string.Join(" / ", bare.Select(b => b.ToString("N0", CultureInfo.InvariantCulture)))}) | {beyond:N0} B | ≤ 2,048 B | ")
                + (beyond <= 2048 ? "PASS |" : Inv($"MISS by {beyond - 2048:N0} B |")));
        }
        else
        {
            Info(md, "allocated bytes per forwarded call", small.Unavailable("allocations") ?? "not measured (--quick)");
        }
        md.AppendLine();
    }

    private static void SpendControlChecks(StringBuilder md, RunData run)
    {
        var ratio = run.RatioMedian("gateway-limits", "gateway");
        md.AppendLine(Inv($"| saturation throughput, gateway-limits / gateway (median of per-round ratios: {run.RatioRounds("gateway-limits", "gateway")}) | {ratio:0.000} ({run.Saturation("gateway-limits"):0} / {run.Saturation("gateway"):0} req/s, means) | ≥ 0.95 | ")
            + (double.IsNaN(ratio) ? "n/a |" : ratio >= 0.95 ? "PASS |" : Inv($"MISS by {0.95 - ratio:0.000} |")));
        var limited = run.Paired("chat", "p50", "gateway-limits", "direct");
        var plain = run.Paired("chat", "p50", "gateway", "direct");
        var growth = limited / plain;
        md.AppendLine(Inv($"| added latency p50, gateway-limits − direct vs gateway − direct (median of per-round differences; gateway-limits − gateway {Ms(run.Paired("chat", "p50", "gateway-limits", "gateway"))} ms) | {Ms(limited)} vs {Ms(plain)} ms ({(growth - 1) * 100:+0.0;-0.0}%) | within 5% | ")
            + (growth is null ? "n/a |" : growth <= 1.05 ? "PASS |" : Inv($"MISS by {(growth - 1.05) * 100:0.0} points |")));
        Info(md, "added latency p99, gateway-limits − direct vs gateway − direct (median of per-round differences)",
            $"{Ms(run.Paired("chat", "p99", "gateway-limits", "direct"))} vs {Ms(run.Paired("chat", "p99", "gateway", "direct"))} ms");
        Info(md, "CPU per request at saturation, gateway-limits vs gateway (µs of the gateway process, during + after the run)",
            Inv($"{run.Cpu("gateway-limits", "cpu_us_per_request") + run.Cpu("gateway-limits", "cpu_after_us_per_request"):0} vs {run.Cpu("gateway", "cpu_us_per_request") + run.Cpu("gateway", "cpu_after_us_per_request"):0} µs"));
        Info(md, "streaming added TTFB p50, gateway-limits − direct vs gateway − direct", $"{Ms(run.Paired("stream", "ttfb_p50", "gateway-limits", "direct"))} vs {Ms(run.Paired("stream", "ttfb_p50", "gateway", "direct"))} ms");
    }

    private static void ScaleChecks(StringBuilder md, RunData small, RunData scale, List<JsonObject> records)
    {
        void Within(string what, double? a, double? b, string unit)
        {
            var change = (b - a) / a;
            var text = Inv($"{Num(b)} vs {Num(a)} {unit} ({change * 100:+0;-0}%)");
            md.AppendLine($"| scale vs small: {what} | {text} | within 10% | " + (change is null ? "n/a |" : Math.Abs(change.Value) <= 0.10 ? "PASS |" : Inv($"MISS by {(Math.Abs(change.Value) - 0.10) * 100:0} points |")));
        }
        Within("gateway saturation req/s", small.Saturation("gateway"), scale.Saturation("gateway"), "req/s");
        Within("gateway / bare YARP throughput ratio (median of rounds)", small.RatioMedian("gateway", "bare-yarp"), scale.RatioMedian("gateway", "bare-yarp"), "");
        Within("gateway − direct added latency p50 (median of rounds)", small.Paired("chat", "p50", "gateway", "direct"), scale.Paired("chat", "p50", "gateway", "direct"), "ms");
        Within("gateway chat p50", D(small.Lat("chat", "gateway"), "p50"), D(scale.Lat("chat", "gateway"), "p50"), "ms");
        Within("gateway chat p99", D(small.Lat("chat", "gateway"), "p99"), D(scale.Lat("chat", "gateway"), "p99"), "ms");
        Within("gateway stream TTFB p50", D(small.Lat("stream", "gateway"), "ttfb_p50"), D(scale.Lat("stream", "gateway"), "ttfb_p50"), "ms");
        var callable = scale.Callable("model_callable_ms");
        if (callable.Count > 0)
        {
            var max = callable.Max();
            md.AppendLine(Inv($"| model change callable at scale (POST /model/new sent → first 200 from chat with it; median / max of {callable.Count}) | {MedMax(callable)} | ≤ 100 ms | ")
                + (max <= 100 ? "PASS |" : Inv($"MISS by {max - 100:0} ms (max) |")));
        }
        var keys = Info(records, "seeder", "keys") is JsonNode k ? k.GetValue<double>() : 0;
        var grow = scale.InfoValue("rss_loaded_kb") - small.InfoValue("rss_loaded_kb");
        Info(md, "memory growth per 10,000 keys (VmRSS after load, scale − small)", Mb(grow / (keys / 10_000)) + " (reported, no target)");
    }

    private static void Check(StringBuilder md, string what, double? value, double limit, string unit)
    {
        var result = value is null ? "n/a" : value <= limit ? "PASS" : Inv($"MISS by {value - limit:0.000} {unit}");
        md.AppendLine(Inv($"| {what} | {Ms(value)} {unit} | ≤ {limit} {unit} | {result} |"));
    }

    private static void Info(StringBuilder md, string what, string value) => md.AppendLine($"| {what} | {value} | (information) | |");

    private static JsonNode? Info(List<JsonObject> records, string kind, string field) =>
        records.FirstOrDefault(r => Str(r, "kind") == kind)?[field];

    private static string? Str(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? D(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static string Ms(double? v, int digits = 3) => v is null || double.IsNaN(v.Value) ? "n/a" : v.Value.ToString("F" + digits, CultureInfo.InvariantCulture);

    private static string Num(double? v) => v is null ? "n/a" : v.Value.ToString(Math.Abs(v.Value) >= 100 ? "0" : "0.000", CultureInfo.InvariantCulture);

    private static string Mb(double? kb) => kb is null || double.IsNaN(kb.Value) ? "n/a" : Inv($"{kb / 1024:0.0} MB");

    private static string MedMax(IReadOnlyList<double>? values) => values is null || values.Count == 0 ? "n/a"
        : Inv($"{values.Order().ElementAt(values.Count / 2):0.0} / {values.Max():0.0} ms");

    private static string Inv(FormattableString s) => FormattableString.Invariant(s);

    private sealed class RunData(List<JsonObject> records, string run)
    {
        private readonly List<JsonObject> _mine = [.. records.Where(r => Str(r, "run") == run)];

        public bool Has(string target) => _mine.Any(r => Str(r, "target") == target && Str(r, "kind") is "wrk" or "chat" or "stream");

        public string? Unavailable(string target, string kind = "unavailable") => _mine.Where(r => Str(r, "kind") == kind && Str(r, "target") == target).Select(r => Str(r, "reason")).FirstOrDefault();

        /// <summary>Median over rounds of (a − b) for one per-round field: each round's targets ran back to back, so noise common to a round cancels.</summary>
        public double? Paired(string kind, string field, string a, string b)
        {
            var ra = Lat(kind, a)?["per_round"] as JsonArray;
            var rb = Lat(kind, b)?["per_round"] as JsonArray;
            if (ra is null || rb is null || ra.Count != rb.Count || ra.Count == 0)
            {
                return null;
            }
            var diffs = ra.Zip(rb).Select(p => D(p.First as JsonObject, field) - D(p.Second as JsonObject, field)).Where(d => d is not null).Select(d => d!.Value).Order().ToList();
            return diffs.Count == 0 ? null : diffs.Count % 2 == 1 ? diffs[diffs.Count / 2] : (diffs[(diffs.Count / 2) - 1] + diffs[diffs.Count / 2]) / 2;
        }

        public string Rounds(string kind, string field, string a, string b)
        {
            var ra = Lat(kind, a)?["per_round"] as JsonArray;
            var rb = Lat(kind, b)?["per_round"] as JsonArray;
            return ra is null || rb is null ? "" : string.Join(", ", ra.Zip(rb).Select(p => Ms(D(p.First as JsonObject, field) - D(p.Second as JsonObject, field), 2)));
        }

        /// <summary>Bytes allocated per forwarded call, one value per measured run of <paramref name="target"/>.</summary>
        public List<double> Allocated(string target) =>
            [.. _mine.Where(r => Str(r, "kind") == "alloc" && Str(r, "target") == target).Select(r => D(r, "bytes_per_request") ?? double.NaN)];

        public JsonObject? Lat(string kind, string target) => _mine.LastOrDefault(r => Str(r, "kind") == kind && Str(r, "target") == target);

        private List<double> Wrk(string target) => [.. _mine.Where(r => Str(r, "kind") == "wrk" && Str(r, "target") == target).Select(r => D(r, "rps") ?? double.NaN)];

        private Dictionary<double, double> WrkByRound(string target) => _mine.Where(r => Str(r, "kind") == "wrk" && Str(r, "target") == target)
            .GroupBy(r => D(r, "round") ?? 0).ToDictionary(g => g.Key, g => D(g.Last(), "rps") ?? double.NaN);

        private List<double> Ratios(string a, string b)
        {
            var ra = WrkByRound(a);
            var rb = WrkByRound(b);
            return [.. ra.Keys.Where(rb.ContainsKey).Order().Select(k => ra[k] / rb[k])];
        }

        public double RatioMedian(string a, string b) => Ratios(a, b).Order().ToList() is { Count: > 0 } r
            ? (r.Count % 2 == 1 ? r[r.Count / 2] : (r[(r.Count / 2) - 1] + r[r.Count / 2]) / 2)
            : double.NaN;

        public string RatioRounds(string a, string b) => string.Join(", ", Ratios(a, b).Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)));

        public double Saturation(string target) => Wrk(target) is { Count: > 0 } values ? values.Average() : double.NaN;

        public string SaturationRange(string target) => Wrk(target) is { Count: > 0 } v ? Inv($"{v.Min():0}–{v.Max():0}") : "n/a";

        public long Errors(string target) =>
            _mine.Where(r => Str(r, "target") == target).Sum(r => (long)((D(r, "errors") ?? 0) + (D(r, "non2xx") ?? 0) + (D(r, "socket_errors") ?? 0)));

        public double InfoValue(string name) => _mine.Where(r => Str(r, "kind") == "info" && Str(r, "name") == name).Select(r => D(r, "value") ?? double.NaN).LastOrDefault(double.NaN);

        public double Cpu(string target, string field) =>
            _mine.Where(r => Str(r, "kind") == "wrk" && Str(r, "target") == target).Select(r => D(r, field) ?? double.NaN).DefaultIfEmpty(double.NaN).Average();

        public double? Foreign(string phase) => _mine.LastOrDefault(r => Str(r, "kind") == "foreign" && Str(r, "phase") == phase) is { } f ? D(f, "pct") : null;

        public string? Warmup(string target) => _mine.LastOrDefault(r => Str(r, "kind") == "warmup" && Str(r, "target") == target)?["rps"] is JsonArray a
            ? string.Join(" → ", a.Select(n => n!.ToString()))
            : null;

        public IReadOnlyList<double> Callable(string field) => _mine.LastOrDefault(r => Str(r, "kind") == "callable")?[field] is JsonArray a
            ? [.. a.Select(n => n!.GetValue<double>())]
            : [];
    }
}

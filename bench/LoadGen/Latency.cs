using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace LoadGen;

/// <summary>
/// Open-loop load at a fixed rate: request i is due at start + i/rps whatever happened to earlier ones, and its
/// latency is measured from that due time (not from when it was actually sent), so a stalled server cannot hide
/// its stall by slowing the generator down (no coordinated omission). Targets run interleaved A B C A B C.
/// Mode <c>serial</c> is the other way to measure a proxy's own cost: one connection, each call sent when the last
/// has answered, so no call ever waits behind another (the rate is whatever the target sustains).
/// </summary>
public static class Latency
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public static async Task<int> RunAsync(Args args)
    {
        var run = args.Get("run");
        var mode = args.Get("mode");
        if (mode is not ("chat" or "stream" or "serial"))
        {
            throw new ArgumentException("--mode is chat, stream or serial");
        }
        var stream = mode == "stream";
        var rps = args.Int("rps", 500);
        var seconds = args.Double("seconds", 10);
        var warmup = args.Double("warmup", 1);
        var firstWarmup = args.Double("first-warmup", 4);
        var rounds = args.Int("rounds", 2);
        var output = args.Get("out");
        var pairs = LoadPairs(args);
        var targets = args.All("target").Select(t => Target.Parse(t, pairs, stream)).ToList();
        if (targets.Count == 0)
        {
            throw new ArgumentException("--target 'name|url|Header: value|...' is required (repeat for several)");
        }
        var merged = targets.ToDictionary(t => t.Name, _ => new List<Phase>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var target in targets)
            {
                // Each target is warmed at the same rate before every measured phase (longer before the first one: JIT, tiering, pools).
                var warm = round == 1 ? firstWarmup : warmup;
                if (warm > 0)
                {
                    await (mode == "serial" ? RunSerialAsync(target, warm) : RunPhaseAsync(target, rps, warm));
                }
                var phase = await (mode == "serial" ? RunSerialAsync(target, seconds) : RunPhaseAsync(target, rps, seconds));
                merged[target.Name].Add(phase);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  [{run} {mode}{(mode == "serial" ? " 1 connection" : $" {rps} rps")}] {target.Name,-10} round {round}: {phase.Summary(stream)}"));
            }
        }

        await using var file = new StreamWriter(output, append: true);
        foreach (var target in targets)
        {
            var phases = merged[target.Name];
            var all = Phase.Merge(phases);
            var record = new JsonObject
            {
                ["kind"] = mode,
                ["run"] = run,
                ["target"] = target.Name,
                ["rps"] = mode == "serial" ? 0 : rps,
                ["seconds_per_round"] = seconds,
                ["rounds"] = rounds,
                ["n"] = all.Ok,
                ["errors"] = all.Errors,
                ["first_error"] = all.FirstError,
                ["p50"] = all.Percentile(all.Latency, 0.50),
                ["p90"] = all.Percentile(all.Latency, 0.90),
                ["p99"] = all.Percentile(all.Latency, 0.99),
                ["max"] = all.Percentile(all.Latency, 1.0),
                ["ttfb_p50"] = all.Percentile(all.Ttfb, 0.50),
                ["ttfb_p90"] = all.Percentile(all.Ttfb, 0.90),
                ["ttfb_p99"] = all.Percentile(all.Ttfb, 0.99),
                ["ttfb_max"] = all.Percentile(all.Ttfb, 1.0),
                ["reads_p50"] = all.Percentile(all.Reads, 0.50, ticks: false),
                ["send_lag_p99"] = all.Percentile(all.Lag, 0.99),
                ["per_round"] = new JsonArray([.. phases.Select(p => (JsonNode)new JsonObject
                {
                    ["p50"] = p.Percentile(p.Latency, 0.50),
                    ["p99"] = p.Percentile(p.Latency, 0.99),
                    ["ttfb_p50"] = p.Percentile(p.Ttfb, 0.50),
                    ["ttfb_p99"] = p.Percentile(p.Ttfb, 0.99),
                })]),
            };
            await file.WriteLineAsync(record.ToJsonString());
        }
        return 0;
    }

    private static (string Key, string Model)[] LoadPairs(Args args)
    {
        if (args.Opt("pairs") is { } path)
        {
            var pairs = File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => l.Split(' ', 2)).Select(p => (p[0], p[1])).ToArray();
            if (pairs.Length == 0)
            {
                throw new ArgumentException($"{path} holds no 'key model' lines");
            }
            return pairs;
        }
        return [(args.Get("key"), args.Get("model"))];
    }

    /// <summary>Sends <c>rps × seconds</c> requests on a fixed timeline and waits for all of them (each bounded by a 10 s timeout).</summary>
    private static async Task<Phase> RunPhaseAsync(Target target, int rps, double seconds)
    {
        var count = Math.Max(1, (int)(rps * seconds));
        var phase = new Phase(count);
        var tasks = new Task[count];
        var interval = Stopwatch.Frequency / (double)rps;
        var scheduler = new Thread(() =>
        {
            Timer.Init();
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
            for (var i = 0; i < count; i++)
            {
                var due = start + (long)(i * interval);
                Timer.WaitUntil(due);
                tasks[i] = SendAsync(target, i, due, phase);
            }
        })
        { IsBackground = true, Name = "open-loop scheduler", Priority = ThreadPriority.AboveNormal };
        scheduler.Start();
        await Task.Run(scheduler.Join);
        await Task.WhenAll(tasks);
        return phase;
    }

    /// <summary>Calls one after another on one connection for <paramref name="seconds"/>: each call's latency from its own send.</summary>
    private static async Task<Phase> RunSerialAsync(Target target, double seconds)
    {
        // Room for 50,000 calls a second; the slots of calls never sent stay 0 and count as not sampled.
        var phase = new Phase((int)Math.Ceiling(seconds * 50_000));
        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        for (var i = 0; i < phase.Latency.Length && Stopwatch.GetTimestamp() < end; i++)
        {
            await SendAsync(target, i, Stopwatch.GetTimestamp(), phase);
        }
        return phase;
    }

    private static async Task SendAsync(Target target, int i, long due, Phase phase)
    {
        phase.Lag[i] = Stopwatch.GetTimestamp() - due;
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var request = target.Request(i);
            using var response = await target.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var first = await body.ReadAsync(buffer, timeout.Token);
            var firstAt = Stopwatch.GetTimestamp();
            var reads = first > 0 ? 1 : 0;
            var head = Encoding.UTF8.GetString(buffer, 0, Math.Min(first, 200));
            int read;
            while ((read = await body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                reads++;
            }
            var end = Stopwatch.GetTimestamp();
            if (response.StatusCode != HttpStatusCode.OK || first == 0)
            {
                phase.Fail($"HTTP {(int)response.StatusCode}: {head}");
                return;
            }
            phase.Latency[i] = end - due;
            phase.Ttfb[i] = firstAt - due;
            phase.Reads[i] = reads;
            phase.Succeed();
        }
        catch (Exception e)
        {
            phase.Fail($"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private sealed class Target
    {
        private readonly Uri _uri;
        private readonly (string Name, string Value)[] _headers;
        private readonly (byte[] Body, string Authorization)[] _requests;

        private Target(string name, Uri uri, (string, string)[] headers, (byte[], string)[] requests)
        {
            Name = name;
            _uri = uri;
            _headers = headers;
            _requests = requests;
            Client = new HttpClient(new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
                MaxConnectionsPerServer = 512,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
                ConnectTimeout = TimeSpan.FromSeconds(5),
                ActivityHeadersPropagator = null,
            })
            { Timeout = Timeout.InfiniteTimeSpan };
        }

        public string Name { get; }
        public HttpClient Client { get; }

        /// <summary><c>name|url|Header: value|...</c>. A target that sets its own Authorization keeps it; the others get the team key.</summary>
        public static Target Parse(string spec, (string Key, string Model)[] pairs, bool stream)
        {
            var parts = spec.Split('|');
            if (parts.Length < 2)
            {
                throw new ArgumentException($"target '{spec}' is not 'name|url|Header: value|...'");
            }
            var headers = parts.Skip(2).Select(h => h.Split(':', 2)).Select(h => (h[0].Trim(), h[1].Trim())).ToArray();
            var ownAuth = headers.Any(h => h.Item1.Equals("Authorization", StringComparison.OrdinalIgnoreCase));
            var requests = pairs.Select(p => (Body(p.Model, stream), ownAuth ? "" : "Bearer " + p.Key)).ToArray();
            return new Target(parts[0], new Uri(parts[1]), headers, requests);
        }

        public HttpRequestMessage Request(int i)
        {
            var (body, authorization) = _requests[i % _requests.Length];
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = Json;
            var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = content, Version = HttpVersion.Version11 };
            if (authorization.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }
            foreach (var (name, value) in _headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            return request;
        }

        private static byte[] Body(string model, bool stream) => Encoding.UTF8.GetBytes(new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You are a concise weather assistant." },
                new JsonObject { ["role"] = "user", ["content"] = "What is the weather in Boston today? Answer in one sentence." }),
            ["max_tokens"] = 64,
            ["temperature"] = 0,
            ["stream"] = stream,
        }.ToJsonString());
    }

    /// <summary>The samples of one phase, in Stopwatch ticks, indexed by request number (0 = failed or not sampled).</summary>
    private sealed class Phase(int count)
    {
        private int _ok;
        private int _errors;

        public long[] Latency { get; } = new long[count];
        public long[] Ttfb { get; } = new long[count];
        public long[] Reads { get; } = new long[count];
        public long[] Lag { get; } = new long[count];
        public int Ok => _ok;
        public int Errors => _errors;
        public string? FirstError { get; private set; }

        public void Succeed() => Interlocked.Increment(ref _ok);

        public void Fail(string reason)
        {
            if (Interlocked.Increment(ref _errors) == 1)
            {
                FirstError = reason;
            }
        }

        public static Phase Merge(List<Phase> phases)
        {
            var all = new Phase(phases.Sum(p => p.Latency.Length));
            var at = 0;
            foreach (var p in phases)
            {
                p.Latency.CopyTo(all.Latency, at);
                p.Ttfb.CopyTo(all.Ttfb, at);
                p.Reads.CopyTo(all.Reads, at);
                p.Lag.CopyTo(all.Lag, at);
                at += p.Latency.Length;
                all._ok += p._ok;
                all._errors += p._errors;
                all.FirstError ??= p.FirstError;
            }
            return all;
        }

        /// <summary>Nearest-rank percentile over the successful samples, in ms (or raw when <paramref name="ticks"/> is false).</summary>
        public double? Percentile(long[] samples, double q, bool ticks = true)
        {
            var ok = samples.Where((_, i) => Latency[i] > 0).ToArray();
            if (ok.Length == 0)
            {
                return null;
            }
            Array.Sort(ok);
            var rank = Math.Clamp((int)Math.Ceiling(q * ok.Length) - 1, 0, ok.Length - 1);
            return ticks ? Math.Round(ok[rank] * 1000.0 / Stopwatch.Frequency, 3) : ok[rank];
        }

        public string Summary(bool stream) =>
            FormattableString.Invariant($"n={Ok} errors={Errors} p50={Percentile(Latency, 0.5):0.000} p90={Percentile(Latency, 0.9):0.000} p99={Percentile(Latency, 0.99):0.000} max={Percentile(Latency, 1):0.000} ms")
            + (stream ? FormattableString.Invariant($" | ttfb p50={Percentile(Ttfb, 0.5):0.000} p99={Percentile(Ttfb, 0.99):0.000} ms, reads p50={Percentile(Reads, 0.5, ticks: false)}") : "")
            + FormattableString.Invariant($" | send lag p99={Percentile(Lag, 0.99):0.000} ms") + (FirstError is null ? "" : $" | first error: {FirstError}");
    }
}

/// <summary>Sleeps until a Stopwatch timestamp with sub-millisecond precision (nanosleep with 1 µs timer slack), never spinning.</summary>
internal static partial class Timer
{
    private const int PrSetTimerSlack = 29;

    public static void Init()
    {
        if (OperatingSystem.IsLinux())
        {
            // Timer slack is per thread: the scheduler thread calls this before its first sleep.
            _ = prctl(PrSetTimerSlack, 1000, 0, 0, 0);
        }
    }

    public static void WaitUntil(long due)
    {
        var remaining = due - Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            Thread.Sleep(TimeSpan.FromTicks(remaining * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            return;
        }
        var ns = remaining * 1_000_000_000 / Stopwatch.Frequency;
        var spec = new Timespec { Seconds = (nint)(ns / 1_000_000_000), Nanoseconds = (nint)(ns % 1_000_000_000) };
        _ = nanosleep(ref spec, IntPtr.Zero);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int nanosleep(ref Timespec request, IntPtr remaining);

    [LibraryImport("libc")]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}

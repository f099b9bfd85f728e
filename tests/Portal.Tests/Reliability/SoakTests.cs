using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Portal.Tests.Reliability;

/// <summary>The soak measures memory in this process, so nothing else may run beside it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "Soak (runs alone)";
}

/// <summary>
/// Issue 6, item 7: a bounded soak on loopback. Mixed LLM traffic (JSON and SSE) with models and keys added and deleted
/// all the while, and a flood of invalid keys. Short form in CI (SOAK_SECONDS, default 20); the long form is the same
/// test with SOAK_SECONDS=300. Figures are printed for docs/performance.md.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    private static int SoakSeconds =>
        int.TryParse(Environment.GetEnvironmentVariable("SOAK_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? Math.Clamp(s, 5, 3600) : 20;

    /// <summary>Counts per kind of call and status, plus the first few unexpected answers (not every outcome: the soak must not grow memory itself).</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<string, long> _counts = new();
        private long _errors;

        public ConcurrentQueue<string> FirstErrors { get; } = new();

        public long Errors => Interlocked.Read(ref _errors);

        public long this[string kind, int status] => _counts.GetValueOrDefault($"{kind} {status}");

        public long Count(string kind) => _counts.Where(c => c.Key.StartsWith(kind + " ", StringComparison.Ordinal)).Sum(c => c.Value);

        public void Add(string kind, Outcome outcome, params int[] expected)
        {
            _counts.AddOrUpdate($"{kind} {outcome.Status}", 1, (_, n) => n + 1);
            var fine = expected.Contains(outcome.Status) && (outcome.Status == 200 || outcome.IsEnvelope());
            if (!fine)
            {
                Interlocked.Increment(ref _errors);
                if (FirstErrors.Count < 10)
                {
                    FirstErrors.Enqueue($"{kind}: expected {string.Join("/", expected)}, got {outcome}");
                }
            }
        }

        public override string ToString() => string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}: {c.Value}"));
    }

    private sealed record Memory(long Managed, long WorkingSet)
    {
        public static Memory Measure()
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            return new Memory(GC.GetTotalMemory(forceFullCollection: true), Environment.WorkingSet);
        }

        public override string ToString() => $"managed {Managed / (double)MiB:0.0} MiB, working set {WorkingSet / (double)MiB:0.0} MiB";
    }

    private static void AssertNoLargeGrowth(Memory before, Memory after, string phase)
    {
        Assert.True(after.Managed < 2 * before.Managed && after.Managed - before.Managed < 200 * MiB,
            $"{phase}: managed memory grew from {before.Managed / MiB} MiB to {after.Managed / MiB} MiB");
        Assert.True(after.WorkingSet < 2 * before.WorkingSet && after.WorkingSet - before.WorkingSet < 200 * MiB,
            $"{phase}: working set grew from {before.WorkingSet / MiB} MiB to {after.WorkingSet / MiB} MiB");
    }

    [Fact]
    public async Task MixedTrafficWithManagementChurnAndAnInvalidKeyFlood_HasNoErrors_NoMemoryGrowth_AndWritesNoUsageForInvalidKeys()
    {
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory();
        var teamA = await gateway.CreateTeamAsync("soak-traffic");
        var teamB = await gateway.CreateTeamAsync("soak-churn");
        var keyA = await gateway.GenerateKeyAsync(teamA);
        var keyB = await gateway.GenerateKeyAsync(teamB);
        await gateway.AddTeamModelAsync(keyA, teamA, "chat-model", apiBase: upstream.ApiBase("ok", out _));
        await gateway.AddTeamModelAsync(keyA, teamA, "stream-model", apiBase: upstream.ApiBase("sse", out _));
        var okBase = upstream.ApiBase("ok", out _);
        var trafficKeys = new List<string> { keyA };
        for (var i = 0; i < 3; i++)
        {
            trafficKeys.Add(await gateway.GenerateKeyAsync(teamA));
        }
        var traffic = trafficKeys.Select(k => ReliabilityKit.Client(gateway.BaseAddress, k)).ToList();
        using var churnClient = ReliabilityKit.Client(gateway.BaseAddress, keyB);
        using var admin = ReliabilityKit.Client(gateway.BaseAddress, GatewayFactory.MasterKey);
        using var anonymous = ReliabilityKit.Client(gateway.BaseAddress, null);

        // Warm-up, so first-call costs (JIT, pools, the usage writer's first batch) are not counted as growth.
        for (var i = 0; i < 100; i++)
        {
            Assert.True((await traffic[i % traffic.Count].PostAsync("/v1/chat/completions", ReliabilityKit.Chat("chat-model"))).Ok);
            Assert.True((await traffic[i % traffic.Count].StreamAsync("stream-model")).Ok);
            Assert.Equal(401, (await FloodOnceAsync(anonymous, i)).Status);
        }
        var usageBefore = await gateway.SettledUsageCountAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        // The harness keeps every log line, every request the stand-in received and every database command's path:
        // a janitor counts and drops them, so only the gateway's own memory is measured.
        var harness = new HarnessJanitor(gateway, upstream);
        harness.Sweep();
        var memoryBefore = Memory.Measure();
        using var sweeping = new CancellationTokenSource();
        var janitor = Task.Run(async () =>
        {
            while (!sweeping.IsCancellationRequested)
            {
                harness.Sweep();
                await Task.Delay(250);
            }
        });

        // Phase 1: everything at once, for SOAK_SECONDS.
        var tally = new Tally();
        var seconds = SoakSeconds;
        var deadline = Stopwatch.StartNew();
        bool Running() => deadline.Elapsed < TimeSpan.FromSeconds(seconds);
        const int MaxIterations = 1_000_000;
        var workers = new List<Task>();
        for (var w = 0; w < 3; w++)
        {
            var client = traffic[w];
            workers.Add(Task.Run(async () =>
            {
                for (var n = 0; n < MaxIterations && Running(); n++)
                {
                    tally.Add("chat", await client.PostAsync("/v1/chat/completions", ReliabilityKit.Chat("chat-model")), 200);
                }
            }));
        }
        workers.Add(Task.Run(async () =>
        {
            for (var n = 0; n < MaxIterations && Running(); n++)
            {
                tally.Add("sse", await traffic[3].StreamAsync("stream-model"), 200);
            }
        }));
        workers.Add(Task.Run(async () =>
        {
            // Models come and go in team B: callable right after the 200 of /model/new, refused (400) right after the delete.
            for (var n = 0; n < MaxIterations && Running(); n++)
            {
                var name = $"churn-{n % 7}";
                var added = await churnClient.PostAsync("/model/new", GatewayFactory.TeamModel(teamB, name, apiKey: $"sk-provider-churn-{n:D6}", apiBase: okBase));
                tally.Add("model/new", added, 200);
                if (!added.Ok)
                {
                    continue;
                }
                tally.Add("churn-call", await churnClient.PostAsync("/v1/chat/completions", ReliabilityKit.Chat(name)), 200);
                tally.Add("model/delete", await churnClient.PostAsync("/model/delete", new { id = added.Json["model_id"]!.GetValue<string>() }), 200);
                tally.Add("deleted-model-call", await churnClient.PostAsync("/v1/chat/completions", ReliabilityKit.Chat(name)), 400);
            }
        }));
        workers.Add(Task.Run(async () =>
        {
            // Keys come and go in team A: usable right after generate, refused (401) right after delete.
            for (var n = 0; n < MaxIterations && Running(); n++)
            {
                var generated = await admin.PostAsync("/key/generate", new { team_id = teamA, key_alias = $"soak-{n}" });
                tally.Add("key/generate", generated, 200);
                if (!generated.Ok)
                {
                    continue;
                }
                var raw = generated.Json["key"]!.GetValue<string>();
                using var client = ReliabilityKit.Client(gateway.BaseAddress, raw);
                tally.Add("new-key-call", await client.PostAsync("/v1/chat/completions", ReliabilityKit.Chat("chat-model")), 200);
                tally.Add("key/delete", await admin.PostAsync("/key/delete", new { keys = new[] { raw } }), 200);
                tally.Add("deleted-key-call", await client.PostAsync("/v1/chat/completions", ReliabilityKit.Chat("chat-model")), 401);
            }
        }));
        for (var w = 0; w < 2; w++)
        {
            var offset = w * MaxIterations;
            workers.Add(Task.Run(async () =>
            {
                for (var n = 0; n < MaxIterations && Running(); n++)
                {
                    tally.Add("invalid-key", await FloodOnceAsync(anonymous, offset + n), 401);
                }
            }));
        }
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(seconds + 60));
        var elapsed = deadline.Elapsed;

        var forwarded = tally["chat", 200] + tally["sse", 200] + tally["churn-call", 200] + tally["new-key-call", 200];
        var usageAfter = await gateway.WaitForUsageAsync(usageBefore + (int)forwarded, TimeSpan.FromSeconds(30));
        usageAfter = await gateway.SettledUsageCountAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        harness.Sweep();
        var soakLogs = harness.TakeCounts();
        var memoryAfter = Memory.Measure();

        // Phase 2: only the invalid-key flood, to see it on its own.
        var floodTally = new Tally();
        var floodSeconds = Math.Clamp(seconds / 4, 5, 60);
        var floodWatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var n = 0; n < MaxIterations && floodWatch.Elapsed < TimeSpan.FromSeconds(floodSeconds); n++)
            {
                floodTally.Add("invalid-key", await FloodOnceAsync(anonymous, (w + 3) * MaxIterations + n), 401);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(floodSeconds + 60));
        var floodElapsed = floodWatch.Elapsed;
        await Task.Delay(1500); // longer than the usage writer takes to pick up anything it was handed
        var usageAfterFlood = await gateway.SettledUsageCountAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        await sweeping.CancelAsync();
        await janitor;
        harness.Sweep();
        var floodLogs = harness.TakeCounts();
        var memoryAfterFlood = Memory.Measure();

        var calls = tally.Count("chat") + tally.Count("sse") + tally.Count("churn-call") + tally.Count("deleted-model-call") + tally.Count("new-key-call") + tally.Count("deleted-key-call");
        var writes = tally.Count("model/new") + tally.Count("model/delete") + tally.Count("key/generate") + tally.Count("key/delete");
        output.WriteLine($"Soak: {elapsed.TotalSeconds:0} s on {Environment.ProcessorCount} cores, loopback, SQLite");
        output.WriteLine($"  LLM calls: {calls} ({calls / elapsed.TotalSeconds:0}/s; chat {tally.Count("chat")}, SSE {tally.Count("sse")}, to churned models and keys {calls - tally.Count("chat") - tally.Count("sse")})");
        output.WriteLine($"  management writes: {writes} ({tally.Count("model/new")} model/new, {tally.Count("model/delete")} model/delete, {tally.Count("key/generate")} key/generate, {tally.Count("key/delete")} key/delete)");
        output.WriteLine($"  invalid-key requests: {tally.Count("invalid-key")} during the soak, {floodTally.Count("invalid-key")} in {floodElapsed.TotalSeconds:0} s alone ({floodTally.Count("invalid-key") / floodElapsed.TotalSeconds:0}/s)");
        output.WriteLine($"  errors: {tally.Errors} in the soak, {floodTally.Errors} in the flood");
        output.WriteLine($"  usage rows: +{usageAfter - usageBefore} for {forwarded} forwarded calls; +{usageAfterFlood - usageAfter} during the flood");
        output.WriteLine($"  memory before: {memoryBefore}");
        output.WriteLine($"  memory after the soak: {memoryAfter}");
        output.WriteLine($"  memory after the flood: {memoryAfterFlood}");
        output.WriteLine($"  log lines at Information or above: {soakLogs.Informational} during the soak ({soakLogs.Informational / (double)Math.Max(1, calls):0.00} per LLM call; " +
            $"by category: {soakLogs.TopCategories}), {floodLogs.Informational} during the flood ({floodLogs.TopCategories})");
        output.WriteLine($"  by status: {tally}");
        foreach (var error in tally.FirstErrors.Concat(floodTally.FirstErrors))
        {
            output.WriteLine($"  ERROR {error}");
        }

        Assert.True(tally.Errors == 0, $"{tally.Errors} unexpected answers in the soak, e.g. {string.Join(" | ", tally.FirstErrors)}");
        Assert.True(floodTally.Errors == 0, $"{floodTally.Errors} unexpected answers in the flood, e.g. {string.Join(" | ", floodTally.FirstErrors)}");
        Assert.True(tally.Count("chat") > 0 && tally.Count("sse") > 0 && tally.Count("model/new") > 0 && tally.Count("key/generate") > 0 && tally.Count("invalid-key") > 0,
            $"some part of the soak never ran: {tally}");
        // Exactly one usage row per forwarded call: none lost, none for the invalid keys.
        Assert.Equal(usageBefore + forwarded, usageAfter);
        Assert.Equal(usageAfter, usageAfterFlood);
        AssertNoLargeGrowth(memoryBefore, memoryAfter, "soak");
        AssertNoLargeGrowth(memoryAfter, memoryAfterFlood, "invalid-key flood");
        // Nor does the flood flood the logs: what is logged at Information or above does not grow with the requests.
        Assert.True(floodLogs.Informational < floodTally.Count("invalid-key") / 100 + 20,
            $"{floodLogs.Informational} log lines at Information or above for {floodTally.Count("invalid-key")} invalid-key requests: {floodLogs.TopCategories}");
        foreach (var client in traffic)
        {
            client.Dispose();
        }
    }

    /// <summary>Counts and drops what the test harness retains (log lines, stand-in requests, database command paths).</summary>
    private sealed class HarnessJanitor(GatewayFactory gateway, StandInUpstream upstream)
    {
        private readonly ConcurrentDictionary<string, long> _informational = new();
        private readonly ConcurrentQueue<string> _paths = gateway.Services.GetRequiredService<RequestPathCommands>().Paths;
        private readonly object _sweeping = new();

        public void Sweep()
        {
            lock (_sweeping)
            {
                while (gateway.Logs.TryDequeue(out var line))
                {
                    if (!line.StartsWith("Debug ", StringComparison.Ordinal) && !line.StartsWith("Trace ", StringComparison.Ordinal))
                    {
                        var parts = line.Split(' ', 3);
                        _informational.AddOrUpdate($"{parts[0]} {parts[1].TrimEnd(':')}", 1, (_, n) => n + 1);
                    }
                }
                upstream.Received.Clear();
                _paths.Clear();
            }
        }

        public (long Informational, string TopCategories) TakeCounts()
        {
            lock (_sweeping)
            {
                var counts = _informational.ToArray();
                _informational.Clear();
                return (counts.Sum(c => c.Value), string.Join(", ", counts.OrderByDescending(c => c.Value).Take(4).Select(c => $"{c.Key} {c.Value}")));
            }
        }
    }

    /// <summary>One request with a made-up key, in each of the four headers docs/api.md section 1 reads, in turn.</summary>
    private static async Task<Outcome> FloodOnceAsync(HttpClient client, int n)
    {
        var fake = $"sk-invalid-{n:D8}-{Guid.NewGuid():N}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(ReliabilityKit.Chat("chat-model")) };
        switch (n % 4)
        {
            case 0: request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fake); break;
            case 1: request.Headers.Add("x-litellm-api-key", fake); break;
            case 2: request.Headers.Add("api-key", fake); break;
            default: request.Headers.Add("x-api-key", fake); break;
        }
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await client.SendAsync(request);
            return new Outcome((int)response.StatusCode, await response.Content.ReadAsStringAsync(), watch.Elapsed);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Outcome(0, "", watch.Elapsed, e);
        }
    }
}

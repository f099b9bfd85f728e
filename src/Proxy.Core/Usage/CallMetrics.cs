using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Proxy.Core.Spend;

namespace Proxy.Core.Usage;

/// <summary>
/// The gateway's meters of LLM calls, read by OpenTelemetry (and exported at <c>/metrics</c>). Labels are the team
/// (its alias, else its id), the public model name the caller sent once it resolved (an unknown name is never a
/// label, so callers cannot grow the label set), the status and the error type: never a key, a hash or an internal
/// name. Recording is a few hundred nanoseconds, and nothing at all while no exporter listens.
/// </summary>
public sealed class CallMetrics
{
    public const string MeterName = "LlmGateway";

    /// <summary>Label sets kept for the counters; calls beyond it are counted under empty labels (status 0).</summary>
    internal const int MaxLabelSets = 20_000;

    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    /// <summary>Statuses boxed once: a tag value is an object, and a box per call is garbage per call.</summary>
    private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(s => (object)s)];

    private static readonly LabelSet Overflow = new("", "", 0, null);

    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _firstByte;

    /// <summary>
    /// The counters' running totals per label set, added to here and read by observable counters when metrics are
    /// collected: a counter's Add looks its label set up in OpenTelemetry on every call (docs/performance.md).
    /// </summary>
    private readonly ConcurrentDictionary<LabelSet, Totals> _totals = new();

    private long _inFlight;

    public CallMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        _duration = meter.CreateHistogram("gateway.request.duration", "s", "Time from the request until its answer was complete", advice: seconds);
        _firstByte = meter.CreateHistogram("gateway.time_to_first_byte", "s", "Time from the request until the provider's first byte reached the client", advice: seconds);
        meter.CreateObservableCounter("gateway.requests", ObserveRequests, "{request}", "LLM calls answered, by team, model and status");
        meter.CreateObservableCounter("gateway.errors", ObserveErrors, "{request}", "LLM calls answered with an error, by team, model and error type");
        meter.CreateObservableCounter("gateway.tokens", ObserveTokens, "{token}", "Tokens, by team, model and type (prompt or completion)");
        meter.CreateObservableCounter("gateway.spend.usd", ObserveSpend, "{USD}", "Spend in USD, by team and model");
        meter.CreateObservableUpDownCounter("gateway.active_requests", () => Volatile.Read(ref _inFlight), "{request}", "LLM calls in flight");
    }

    /// <summary>
    /// A call has come in (counted until <see cref="Ended"/>): read when metrics are collected, in place of ASP.NET
    /// Core's http.server.active_requests, which counts every request through OpenTelemetry's label lookup twice and
    /// is not exported (GatewayTelemetry).
    /// </summary>
    internal void Started() => Interlocked.Increment(ref _inFlight);

    internal void Ended() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// One finished call. <paramref name="errorType"/> is the error envelope's type for a refusal or a gateway error,
    /// upstream_error for a provider's own error answer, null for a success.
    /// </summary>
    internal void Finished(string team, string model, int status, string? errorType, double seconds, double? firstByteSeconds, in Tokens tokens, double cost)
    {
        if (!_duration.Enabled)
        {
            return;
        }
        var statusTag = (uint)status < Statuses.Length ? Statuses[status] : status;
        _duration.Record(seconds, new("team", team), new("model", model), new("status", statusTag));
        if (firstByteSeconds is { } ttfb)
        {
            _firstByte.Record(ttfb, new("team", team), new("model", model));
        }
        var labels = new LabelSet(team, model, status, errorType);
        if (!_totals.TryGetValue(labels, out var totals))
        {
            totals = _totals.GetOrAdd(_totals.Count < MaxLabelSets ? labels : Overflow, _ => new Totals());
        }
        totals.Add(tokens, cost);
    }

    private IEnumerable<Measurement<long>> ObserveRequests() => _totals
        .GroupBy(t => (t.Key.Team, t.Key.Model, t.Key.Status), t => Volatile.Read(ref t.Value.Requests))
        .Select(g => new Measurement<long>(g.Sum(), new("team", g.Key.Team), new("model", g.Key.Model), new("status", g.Key.Status)));

    private IEnumerable<Measurement<long>> ObserveErrors() => _totals
        .Where(t => t.Key.ErrorType is not null)
        .GroupBy(t => (t.Key.Team, t.Key.Model, t.Key.ErrorType), t => Volatile.Read(ref t.Value.Requests))
        .Select(g => new Measurement<long>(g.Sum(), new("team", g.Key.Team), new("model", g.Key.Model), new("error_type", g.Key.ErrorType)));

    private IEnumerable<Measurement<long>> ObserveTokens() => _totals
        .GroupBy(t => (t.Key.Team, t.Key.Model), t => t.Value)
        .Select(g => (g.Key, Prompt: g.Sum(t => Volatile.Read(ref t.PromptTokens)), Completion: g.Sum(t => Volatile.Read(ref t.CompletionTokens))))
        .Where(s => s.Prompt + s.Completion > 0)
        .SelectMany(s => new[]
        {
            new Measurement<long>(s.Prompt, new("team", s.Key.Team), new("model", s.Key.Model), new("type", "prompt")),
            new Measurement<long>(s.Completion, new("team", s.Key.Team), new("model", s.Key.Model), new("type", "completion")),
        });

    private IEnumerable<Measurement<double>> ObserveSpend() => _totals
        .GroupBy(t => (t.Key.Team, t.Key.Model), t => Volatile.Read(ref t.Value.Spend))
        .Select(g => (g.Key, Spend: g.Sum()))
        .Where(s => s.Spend > 0)
        .Select(s => new Measurement<double>(s.Spend, new("team", s.Key.Team), new("model", s.Key.Model)));

    private readonly record struct LabelSet(string Team, string Model, int Status, string? ErrorType);

    private sealed class Totals
    {
        public long Requests;
        public long PromptTokens;
        public long CompletionTokens;
        public double Spend;

        public void Add(in Tokens tokens, double cost)
        {
            Interlocked.Increment(ref Requests);
            if (tokens.Total > 0)
            {
                Interlocked.Add(ref PromptTokens, tokens.Prompt);
                Interlocked.Add(ref CompletionTokens, tokens.Completion);
            }
            if (cost > 0)
            {
                SpendAccount.Add(ref Spend, cost);
            }
        }
    }
}

using System.Diagnostics.Metrics;

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

    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    /// <summary>Statuses boxed once: a tag value is an object, and a box per call is garbage per call.</summary>
    private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(s => (object)s)];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _firstByte;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _spend;

    public CallMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        _requests = meter.CreateCounter<long>("gateway.requests", "{request}", "LLM calls answered, by team, model and status");
        _errors = meter.CreateCounter<long>("gateway.errors", "{request}", "LLM calls answered with an error, by team, model and error type");
        _duration = meter.CreateHistogram("gateway.request.duration", "s", "Time from the request until its answer was complete", advice: seconds);
        _firstByte = meter.CreateHistogram("gateway.time_to_first_byte", "s", "Time from the request until the provider's first byte reached the client", advice: seconds);
        _tokens = meter.CreateCounter<long>("gateway.tokens", "{token}", "Tokens, by team, model and type (prompt or completion)");
        _spend = meter.CreateCounter<double>("gateway.spend.usd", "{USD}", "Spend in USD, by team and model");
    }

    /// <summary>
    /// One finished call. <paramref name="errorType"/> is the error envelope's type for a refusal or a gateway error,
    /// upstream_error for a provider's own error answer, null for a success.
    /// </summary>
    internal void Finished(string team, string model, int status, string? errorType, double seconds, double? firstByteSeconds, in Tokens tokens, double cost)
    {
        if (!_requests.Enabled)
        {
            return;
        }
        var statusTag = (uint)status < Statuses.Length ? Statuses[status] : status;
        _requests.Add(1, new("team", team), new("model", model), new("status", statusTag));
        _duration.Record(seconds, new("team", team), new("model", model), new("status", statusTag));
        if (errorType is not null)
        {
            _errors.Add(1, new("team", team), new("model", model), new("error_type", errorType));
        }
        if (firstByteSeconds is { } ttfb)
        {
            _firstByte.Record(ttfb, new("team", team), new("model", model));
        }
        if (tokens.Total > 0)
        {
            _tokens.Add(tokens.Prompt, new("team", team), new("model", model), new("type", "prompt"));
            _tokens.Add(tokens.Completion, new("team", team), new("model", model), new("type", "completion"));
        }
        if (cost > 0)
        {
            _spend.Add(cost, new("team", team), new("model", model));
        }
    }
}

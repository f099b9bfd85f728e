using System.Collections;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Usage;

namespace Portal.Telemetry;

/// <summary>
/// Metrics, traces and request-scoped logs. Metrics are always collected and served at <c>/metrics</c> (Prometheus'
/// text format) to the master key or the scrape token; traces are exported over OTLP only when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, so a gateway without a collector pays nothing for them.
/// </summary>
public static class GatewayTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// ASP.NET Core's own meters, listened to directly. OpenTelemetry's AddAspNetCoreInstrumentation() adds the same
    /// list on .NET 8 and later, and also a middleware ahead of everything that awaits every request to tag a 5xx with
    /// error.type: one more state machine per LLM call (measured in docs/performance.md), for a request meter the LLM
    /// calls are left out of anyway.
    /// </summary>
    private static readonly string[] AspNetCoreMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Components", "Microsoft.AspNetCore.Components.Server.Circuits", "Microsoft.AspNetCore.Components.Lifecycle",
        "Microsoft.AspNetCore.Authorization", "Microsoft.AspNetCore.Authentication", "Microsoft.AspNetCore.Identity",
        "Microsoft.AspNetCore.MemoryPool",
    ];

    /// <summary>Per metric: label sets beyond this collapse into one overflow series instead of growing memory.</summary>
    private const int MaxSeriesPerMetric = 2000;

    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section);
        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        // HttpClient's meters record every provider call, at a cost in throughput (docs/performance.md): opt in. The
        // gateway's own meters already time every call per model.
        var clientMetrics = builder.Configuration.GetValue<bool>(TelemetryOptions.Section + ":" + nameof(TelemetryOptions.HttpClientMetrics));
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "llm-gateway"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(CallMetrics.MeterName)
                    .AddMeter(AspNetCoreMeters)
                    .AddView(instrument => instrument.Meter.Name == CallMetrics.MeterName ? new MetricStreamConfiguration { CardinalityLimit = MaxSeriesPerMetric } : null)
                    // Instruments that record on every LLM call through OpenTelemetry's label lookup (their cost:
                    // docs/performance.md): ASP.NET Core's active requests count every request before the LLM branch
                    // can leave it out (gateway.active_requests counts LLM calls instead), and Kestrel's memory pool
                    // counts every block rented and returned. The pool's growth is still exported (allocated, evicted).
                    .AddView("http.server.active_requests", MetricStreamConfiguration.Drop)
                    .AddView("aspnetcore.memory_pool.rented", MetricStreamConfiguration.Drop)
                    .AddView("aspnetcore.memory_pool.pooled", MetricStreamConfiguration.Drop)
                    .AddPrometheusExporter();
                if (clientMetrics)
                {
                    metrics.AddHttpClientInstrumentation();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/_blazor") && !http.Request.Path.StartsWithSegments("/_framework"))
                    .AddHttpClientInstrumentation()
                    .AddOtlpExporter())
                .WithMetrics(metrics => metrics.AddOtlpExporter());
        }

        // JSON console logs (Logging:Console:FormatterName=json) carry each request's call id on every line: scopes on
        // unless the configuration says otherwise.
        if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase)
            && builder.Configuration["Logging:Console:FormatterOptions:IncludeScopes"] is null)
        {
            builder.Services.Configure<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        }
        return builder;
    }

    /// <summary>
    /// Every request gets a call id (a uuid: the <c>x-litellm-call-id</c> of LLM calls and their usage rows) as its
    /// <see cref="HttpContext.TraceIdentifier"/>; with JSON logs, a log scope puts it on every line the request writes.
    /// Runs first, so the error handler's lines carry it too.
    /// </summary>
    public static WebApplication UseCallIds(this WebApplication app)
    {
        var scoped = string.Equals(app.Configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portal.Calls");
        app.Use((http, next) =>
        {
            var callId = NewCallId();
            http.TraceIdentifier = callId;
            return scoped ? InScopeAsync(http, next, log, callId) : next(http);
        });
        return app;
    }

    private static async Task InScopeAsync(HttpContext http, RequestDelegate next, ILogger log, string callId)
    {
        using (log.BeginScope(new CallScope(callId)))
        {
            await next(http);
        }
    }

    /// <summary>
    /// A random uuid (version 4) from the thread's non-cryptographic generator, itself seeded from the system's: a call
    /// id must be unique, not unguessable (it grants nothing), and Guid.NewGuid's system call is a measurable part of a
    /// forwarded call's CPU (docs/performance.md).
    /// </summary>
    internal static string NewCallId()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    /// <summary>/metrics for the master key, or for <c>Telemetry:ScrapeToken</c> as a bearer token (what Prometheus' <c>authorization</c> sends).</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use((http, next) =>
        {
            var presented = PresentedKey.From(http.Request.Headers);
            if (presented.IsEmpty)
            {
                throw ProxyError.Unauthorized("/metrics needs the master key or Telemetry:ScrapeToken: Authorization: Bearer <token>.");
            }
            var token = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.ScrapeToken;
            if (token is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented.ToString()), Encoding.UTF8.GetBytes(token)))
            {
                return next(http);
            }
            if (http.RequestServices.GetRequiredService<CallerResolver>().FromKey(presented).Kind != CallerKind.MasterKey)
            {
                throw ProxyError.Forbidden("/metrics is for the master key or Telemetry:ScrapeToken only.");
            }
            return next(http);
        }), optionsName: null);
        return app;
    }

    /// <summary>The scope of one request's log lines: {"CallId": "..."}.</summary>
    private sealed class CallScope(string callId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("CallId", callId) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"CallId:{callId}";
    }
}

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>A bearer token that may read /metrics (besides the master key), for a Prometheus scrape config.</summary>
    public string? ScrapeToken { get; set; }

    /// <summary>HttpClient's own meters (http.client.*: every provider call by host, and connection pools); off by default for their cost.</summary>
    public bool HttpClientMetrics { get; set; }
}

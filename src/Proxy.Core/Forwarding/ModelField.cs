using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Finds the top-level <c>model</c> of a JSON request body with a <see cref="Utf8JsonReader"/> (no document is built)
/// and rewrites only that value, leaving every other byte of the body as the client sent it, except LiteLLM's routing
/// fields (<see cref="CallOptions"/>), which are the gateway's to read and are left out of what the provider gets.
/// </summary>
public readonly struct ModelField
{
    private ModelField(string? value, int start, int end, int objectStart, bool keepsNoProperty, CallOptions? options)
    {
        Value = value;
        Start = start;
        End = end;
        ObjectStart = objectStart;
        KeepsNoProperty = keepsNoProperty;
        Options = options;
    }

    /// <summary>The model name, or null when the body has no <c>model</c>.</summary>
    public string? Value { get; }

    /// <summary>The request's <c>num_retries</c>, <c>fallbacks</c> and <c>context_window_fallbacks</c>; null when it has none.</summary>
    public CallOptions? Options { get; }

    private int Start { get; }
    private int End { get; }
    private int ObjectStart { get; }

    /// <summary>Nothing of the body's properties reaches the provider (none, or only routing fields).</summary>
    private bool KeepsNoProperty { get; }

    /// <summary>Throws a 400 <see cref="ProxyError"/> when the body is not a JSON object or a field the gateway reads is of the wrong kind.</summary>
    public static ModelField Find(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw ProxyError.BadRequest("Request body must be a JSON object.");
            }
            var objectStart = (int)reader.TokenStartIndex;
            var kept = 0;
            string? value = null;
            int start = 0, end = 0;
            CallOptions? options = null;
            // Routing fields are left out in runs: a run of them between kept properties goes from its first name to
            // the next kept name (with the comma after it); a run at the end, from the last kept value (with the comma
            // before it).
            var lastKeptEnd = -1;
            var lastEnd = -1;
            var inRun = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var isModel = reader.ValueTextEquals("model"u8);
                var routing = isModel ? null : CallOptions.FieldOf(ref reader);
                if (routing is null && inRun)
                {
                    options!.EndRun(nameStart);
                    inRun = false;
                }
                reader.Read();
                if (isModel)
                {
                    value = ReadModel(ref reader, value, out start, out end);
                }
                else if (routing is not null)
                {
                    options ??= new CallOptions();
                    options.Read(routing, ref reader);
                    if (!inRun)
                    {
                        options.StartRun(nameStart, lastKeptEnd);
                        inRun = true;
                    }
                }
                else
                {
                    reader.Skip();
                }
                lastEnd = (int)reader.BytesConsumed;
                if (routing is null)
                {
                    lastKeptEnd = lastEnd;
                    kept++;
                }
            }
            if (inRun)
            {
                options!.EndRunAtLast(lastEnd);
            }
            return new ModelField(value, start, end, objectStart, kept == 0, options);
        }
        catch (JsonException e)
        {
            throw ProxyError.BadRequest(e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? "Request body is nested too deeply (at most 128 levels)."
                : $"Request body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine}).");
        }
    }

    /// <summary>The value of <c>model</c>, where it starts and ends; <paramref name="seen"/> is the value of an earlier one.</summary>
    private static string? ReadModel(ref Utf8JsonReader reader, string? seen, out int start, out int end)
    {
        if (seen is not null)
        {
            // Parsers disagree on which duplicate wins; the provider must never see a model we did not resolve.
            throw ProxyError.BadRequest("model appears more than once in the request body.", "model");
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            throw ProxyError.BadRequest("model must be a string, e.g. \"model\": \"my-team-model\".", "model");
        }
        start = (int)reader.TokenStartIndex;
        end = (int)reader.BytesConsumed;
        return reader.GetString();
    }

    /// <summary>
    /// Upstream model names as JSON string content, per name instance: a deployment's name is encoded once, not on
    /// every call, and forgotten with the deployment.
    /// </summary>
    private static readonly ConditionalWeakTable<string, byte[]> EncodedNames = new();

    /// <summary>An upper bound of the rewritten body's length, for renting its buffer.</summary>
    public static int MaxRewrittenLength(int bodyLength, string upstreamName) => bodyLength + 16 + 6 * upstreamName.Length;

    /// <summary>
    /// Writes the body with <c>model</c> set to <paramref name="upstreamName"/> (added first when the body had none), and
    /// without the routing fields, into <paramref name="destination"/> and returns its length.
    /// </summary>
    public int Rewrite(ReadOnlySpan<byte> body, string upstreamName, Span<byte> destination)
    {
        var encoded = EncodedNames.GetValue(upstreamName, static name => JsonEncodedText.Encode(name).EncodedUtf8Bytes.ToArray());
        var written = 0;
        var read = 0;
        if (Value is null)
        {
            // Azure-style routes name the model in the path; the provider still wants it in the body.
            read = ObjectStart + 1;
            body[..read].CopyTo(destination);
            written = read;
            "\"model\":\""u8.CopyTo(destination[written..]);
            written += 9;
            encoded.CopyTo(destination[written..]);
            written += encoded.Length;
            destination[written++] = (byte)'"';
            if (!KeepsNoProperty)
            {
                destination[written++] = (byte)',';
            }
        }
        foreach (var (from, to) in Options?.Removals ?? [])
        {
            if (Value is not null && Start >= read && Start < from)
            {
                written += ReplaceModel(body, read, encoded, destination[written..]);
                read = End;
            }
            body[read..from].CopyTo(destination[written..]);
            written += from - read;
            read = to;
        }
        if (Value is not null && Start >= read)
        {
            written += ReplaceModel(body, read, encoded, destination[written..]);
            read = End;
        }
        body[read..].CopyTo(destination[written..]);
        return written + body.Length - read;
    }

    /// <summary>Copies the body from <paramref name="read"/> up to the model's value, then the new value; returns the bytes written.</summary>
    private int ReplaceModel(ReadOnlySpan<byte> body, int read, ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        body[read..Start].CopyTo(destination);
        var at = Start - read;
        destination[at++] = (byte)'"';
        encoded.CopyTo(destination[at..]);
        at += encoded.Length;
        destination[at++] = (byte)'"';
        return at;
    }
}

/// <summary>
/// LiteLLM's per-request routing fields: <c>num_retries</c>, <c>fallbacks</c> (public model names to try when every
/// deployment of the model failed) and <c>context_window_fallbacks</c> (when the provider says the prompt is too long).
/// </summary>
public sealed class CallOptions
{
    /// <summary>Attempts per model group are bounded: a call never becomes a retry storm.</summary>
    public const int MaxRetries = 10;

    /// <summary>At most this many fallback models are tried.</summary>
    public const int MaxFallbacks = 5;

    private readonly List<(int Start, int End)> _removals = [];

    public int? NumRetries { get; private set; }
    public IReadOnlyList<string>? Fallbacks { get; private set; }
    public IReadOnlyList<string>? ContextWindowFallbacks { get; private set; }

    /// <summary>Byte ranges of the body to leave out, ascending and not overlapping.</summary>
    internal IReadOnlyList<(int Start, int End)> Removals => _removals;

    internal static string? FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("num_retries"u8) ? "num_retries"
        : reader.ValueTextEquals("fallbacks"u8) ? "fallbacks"
        : reader.ValueTextEquals("context_window_fallbacks"u8) ? "context_window_fallbacks"
        : null;

    internal void Read(string field, ref Utf8JsonReader reader)
    {
        if (field == "num_retries")
        {
            NumRetries = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) && n is >= 0 and <= MaxRetries ? n
                : throw ProxyError.BadRequest($"num_retries must be a whole number from 0 to {MaxRetries}.", "num_retries");
            return;
        }
        var names = new List<string>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ProxyError.BadRequest($"{field} must be a list of model names, e.g. [\"my-backup-model\"].", field);
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            names.Add(reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } name ? name
                : throw ProxyError.BadRequest($"{field} must be a list of model names, e.g. [\"my-backup-model\"].", field));
        }
        if (names.Count > MaxFallbacks)
        {
            throw ProxyError.BadRequest($"{field} names {names.Count} models; at most {MaxFallbacks} are tried.", field);
        }
        if (field == "fallbacks")
        {
            Fallbacks = names;
        }
        else
        {
            ContextWindowFallbacks = names;
        }
    }

    private (int NameStart, int PreviousKeptEnd) _run;

    /// <summary>A run of routing fields starts at <paramref name="nameStart"/>, after a kept value that ended at <paramref name="previousKeptEnd"/> (-1: none).</summary>
    internal void StartRun(int nameStart, int previousKeptEnd) => _run = (nameStart, previousKeptEnd);

    /// <summary>A kept property follows the run: it is left out from its first name to that property's name.</summary>
    internal void EndRun(int nextNameStart) => _removals.Add((_run.NameStart, nextNameStart));

    /// <summary>The run ends the object: it is left out from the last kept value (or its first name) to its last value.</summary>
    internal void EndRunAtLast(int valueEnd) => _removals.Add((_run.PreviousKeptEnd >= 0 ? _run.PreviousKeptEnd : _run.NameStart, valueEnd));
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime.EventStreams;
using Amazon.Runtime.Internal.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Amazon Bedrock's runtime (<c>POST /model/{modelId}/converse</c> and <c>/converse-stream</c>) as the stand-in plays it.
/// Like AWS it first checks the SigV4 signature: it rebuilds the canonical request from the request as it arrived on the
/// socket (the raw path, each segment URI-encoded once more, as AWS does for every service but S3; the signed headers;
/// the body's SHA-256), has AWSSDK.Core's <see cref="AWS4Signer.ComputeSignature(string, string, string, DateTime, string, string, string)"/>
/// derive the key from <see cref="SecretAccessKey"/> and sign it, and refuses a mismatch with AWS's 403
/// <c>InvalidSignatureException</c> (an unknown key id: <c>UnrecognizedClientException</c>). Then it checks the Converse
/// body as Bedrock does (no <c>model</c> in it, alternating roles starting with the user, one kind per content block,
/// no blank text, tools declared when tool blocks are used) and answers with Converse's shapes: JSON, or event-stream
/// frames written with AWSSDK.Core's encoder (<see cref="EventStreamMessage.ToByteArray"/>). Scenarios:
/// <c>bedrock</c> (also a toolUse when tools are offered, and the answer to a toolResult), <c>bedrockbroken</c> (a stream
/// that ends with a throttlingException frame after its first word), <c>bedrockthrottle</c> (429
/// ThrottlingException), <c>bedrock500</c> (500 InternalServerException), <c>bedrocksession</c> (requires
/// <see cref="SessionToken"/>, signed), <c>bedrockcache</c> (usage with prompt-cache tokens). A Bedrock API key
/// (<see cref="ApiKey"/>) as a Bearer token is taken instead of a signature, as Bedrock does.
/// </summary>
public static class BedrockStandIn
{
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    public const string SessionToken = "FwoGZXIvYXdzEXAMPLE-session-token-0001";
    public const string Region = "us-east-1";

    /// <summary>A Bedrock API key, which Bedrock takes as a Bearer token instead of a signature.</summary>
    public const string ApiKey = "ABSKQmVkcm9ja0FQSUtleS1TdGFuZEluLTAwMDE=";

    public const int InputTokens = 21;
    public const int OutputTokens = 9;
    public const int CacheReadTokens = 1000;
    public const int CacheWriteTokens = 100;

    /// <summary>The model ids it serves; any other is Bedrock's 400 "The provided model identifier is invalid."</summary>
    public static readonly string[] Models =
        ["anthropic.claude-3-haiku-20240307-v1:0", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "amazon.nova-lite-v1:0"];

    public static async Task AnswerAsync(HttpContext http, string scenario, byte[] body)
    {
        if (SignatureProblem(http, scenario, body) is { } refusal)
        {
            await Error(http, 403, refusal.Type, refusal.Message);
            return;
        }
        // The model id as Bedrock reads it: the path decoded once.
        var segments = http.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (http.Request.Method == "GET" && segments is [_, "foundation-models" or "inference-profiles"])
        {
            await ListAsync(http, segments[1]);
            return;
        }
        var stream = segments[^1] == "converse-stream";
        if (http.Request.Method != "POST" || segments.Length != 4 || segments[1] != "model" || segments[^1] is not ("converse" or "converse-stream"))
        {
            await Error(http, 404, "UnknownOperationException", $"No operation at {http.Request.Path}.");
            return;
        }
        var modelId = segments[2];
        if (!Models.Contains(modelId))
        {
            await Error(http, 400, "ValidationException", "The provided model identifier is invalid.");
            return;
        }
        if (scenario == "bedrockthrottle")
        {
            await Error(http, 429, "ThrottlingException", "Too many requests, please wait before trying again.");
            return;
        }
        if (scenario == "bedrock500")
        {
            await Error(http, 500, "InternalServerException", "The server encountered an internal error.");
            return;
        }
        var request = JsonNode.Parse(body) as JsonObject;
        var problem = request is null ? "The request body is not a JSON object." : BodyProblem(request);
        if (problem is not null)
        {
            await Error(http, 400, "ValidationException", problem);
            return;
        }
        var messages = request!["messages"]!.AsArray();
        var answeredTool = messages[^1]!["content"]!.AsArray().Any(b => b!["toolResult"] is not null);
        var useTool = request["toolConfig"]?["tools"] is JsonArray { Count: > 0 } && !answeredTool;
        var text = answeredTool ? "It is 22 degrees in Boston." : "Sunny in Boston.";
        var usage = Usage(scenario);
        if (stream && scenario == "bedrockbroken")
        {
            // Bedrock answers 200, then a throttling exception frame after the first words.
            http.Response.ContentType = "application/vnd.amazon.eventstream";
            await FrameAsync(http, "messageStart", new JsonObject { ["role"] = "assistant" });
            await FrameAsync(http, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 0, ["delta"] = new JsonObject { ["text"] = "Sunny" } });
            await FrameAsync(http, "throttlingException", new JsonObject { ["message"] = "Too many tokens, please wait before trying again." }, messageType: "exception");
            return;
        }
        if (stream)
        {
            await StreamAsync(http, text, useTool, usage);
            return;
        }
        JsonNode content = useTool
            ? new JsonArray(new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = "tooluse_standin_1", ["name"] = "get_weather", ["input"] = new JsonObject { ["location"] = "Boston" } } })
            : new JsonArray(new JsonObject { ["text"] = text });
        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["output"] = new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content } },
            ["stopReason"] = useTool ? "tool_use" : "end_turn",
            ["usage"] = usage,
            ["metrics"] = new JsonObject { ["latencyMs"] = 12 },
        });
    }

    /// <summary>
    /// The control plane's lists (on <c>bedrock.{region}</c>, signed as <c>bedrock</c> too): ListFoundationModels with text,
    /// image and embedding models, on demand or only through a profile; ListInferenceProfiles in pages of one
    /// (<c>nextToken</c>), one of them not active.
    /// </summary>
    private static async Task ListAsync(HttpContext http, string list)
    {
        if (list == "foundation-models")
        {
            static JsonObject Model(string id, string output, params string[] inference) => new()
            {
                ["modelId"] = id, ["modelArn"] = $"arn:aws:bedrock:{Region}::foundation-model/{id}", ["providerName"] = id.Split('.')[0],
                ["outputModalities"] = new JsonArray(output), ["inferenceTypesSupported"] = new JsonArray([.. inference.Select(i => (JsonNode)i)]),
                ["responseStreamingSupported"] = true, ["modelLifecycle"] = new JsonObject { ["status"] = "ACTIVE" },
            };
            await http.Response.WriteAsJsonAsync(new JsonObject
            {
                ["modelSummaries"] = new JsonArray(
                    Model("anthropic.claude-3-haiku-20240307-v1:0", "TEXT", "ON_DEMAND"), Model("amazon.nova-lite-v1:0", "TEXT", "ON_DEMAND", "PROVISIONED"),
                    Model("anthropic.claude-3-7-sonnet-20250219-v1:0", "TEXT", "INFERENCE_PROFILE"), Model("amazon.titan-embed-text-v2:0", "EMBEDDING", "ON_DEMAND"),
                    Model("stability.sd3-5-large-v1:0", "IMAGE", "ON_DEMAND")),
            });
            return;
        }
        var profiles = new[] { ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "ACTIVE"), ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "ACTIVE"), ("us.meta.llama3-2-1b-instruct-v1:0", "LEGACY") };
        var at = int.TryParse(http.Request.Query["nextToken"], out var token) ? token : 0;
        var page = new JsonObject
        {
            ["inferenceProfileSummaries"] = new JsonArray(new JsonObject { ["inferenceProfileId"] = profiles[at].Item1, ["status"] = profiles[at].Item2, ["type"] = "SYSTEM_DEFINED" }),
        };
        if (at + 1 < profiles.Length)
        {
            page["nextToken"] = (at + 1).ToString(CultureInfo.InvariantCulture);
        }
        await http.Response.WriteAsJsonAsync(page);
    }

    private static JsonObject Usage(string scenario) => scenario == "bedrockcache"
        ? new JsonObject { ["inputTokens"] = InputTokens, ["outputTokens"] = OutputTokens, ["totalTokens"] = InputTokens + OutputTokens + CacheReadTokens + CacheWriteTokens,
            ["cacheReadInputTokens"] = CacheReadTokens, ["cacheWriteInputTokens"] = CacheWriteTokens }
        : new JsonObject { ["inputTokens"] = InputTokens, ["outputTokens"] = OutputTokens, ["totalTokens"] = InputTokens + OutputTokens };

    /// <summary>ConverseStream's event sequence, one event-stream frame each, flushed one by one.</summary>
    private static async Task StreamAsync(HttpContext http, string text, bool useTool, JsonObject usage)
    {
        http.Response.ContentType = "application/vnd.amazon.eventstream";
        await FrameAsync(http, "messageStart", new JsonObject { ["role"] = "assistant" });
        if (useTool)
        {
            await FrameAsync(http, "contentBlockStart", new JsonObject
            {
                ["contentBlockIndex"] = 0, ["start"] = new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = "tooluse_standin_1", ["name"] = "get_weather" } },
            });
            foreach (var part in new[] { "{\"location\":", " \"Boston\"}" })
            {
                await FrameAsync(http, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 0, ["delta"] = new JsonObject { ["toolUse"] = new JsonObject { ["input"] = part } } });
            }
        }
        else
        {
            var cut = text.IndexOf(' ', text.IndexOf(' ') + 1);
            foreach (var part in new[] { text[..cut], text[cut..] })
            {
                await FrameAsync(http, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 0, ["delta"] = new JsonObject { ["text"] = part } });
            }
        }
        await FrameAsync(http, "contentBlockStop", new JsonObject { ["contentBlockIndex"] = 0 });
        await FrameAsync(http, "messageStop", new JsonObject { ["stopReason"] = useTool ? "tool_use" : "end_turn" });
        await FrameAsync(http, "metadata", new JsonObject { ["usage"] = usage, ["metrics"] = new JsonObject { ["latencyMs"] = 12 } });
    }

    /// <summary>One frame: an event (<c>:event-type</c>), or an exception (<c>:exception-type</c>), as AWS's event streams carry them.</summary>
    private static async Task FrameAsync(HttpContext http, string eventType, JsonObject payload, string messageType = "event")
    {
        // AWS pads events with a "p" field so that their sizes say nothing of their content.
        payload["p"] = "abcdefghijklmnopqrstuvwxyzABCDEF";
        var headers = new List<IEventStreamHeader>
        {
            Header(messageType == "event" ? ":event-type" : ":exception-type", eventType), Header(":content-type", "application/json"), Header(":message-type", messageType),
        };
        var frame = new EventStreamMessage(headers, Encoding.UTF8.GetBytes(payload.ToJsonString())).ToByteArray();
        await http.Response.Body.WriteAsync(frame);
        await http.Response.Body.FlushAsync();
        // As from AWS, frames come apart: the gateway reads each on its own, after its answer to the client has begun.
        await Task.Delay(20);
    }

    private static EventStreamHeader Header(string name, string value)
    {
        var header = new EventStreamHeader(name);
        header.SetString(value);
        return header;
    }

    /// <summary>What AWS's SigV4 check would refuse, with its error type; null when the signature is the one the secret gives.</summary>
    private static (string Type, string Message)? SignatureProblem(HttpContext http, string scenario, byte[] body)
    {
        var authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return authorization["Bearer ".Length..] == ApiKey ? null : ("UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix.");
        }
        const string prefix = "AWS4-HMAC-SHA256 ";
        if (!authorization.StartsWith(prefix, StringComparison.Ordinal))
        {
            return ("MissingAuthenticationTokenException", "Missing Authentication Token");
        }
        var parts = authorization[prefix.Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
        var scope = parts.GetValueOrDefault("Credential", "").Split('/');
        if (scope.Length != 5 || scope[0] != AccessKeyId)
        {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.");
        }
        var date = http.Request.Headers["x-amz-date"].ToString();
        if (!DateTime.TryParseExact(date, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var signedAt)
            || Math.Abs((DateTime.UtcNow - signedAt).TotalMinutes) > 5 || scope[1] != date[..8])
        {
            return ("InvalidSignatureException", "Signature expired or not yet current: the X-Amz-Date header is not within 5 minutes of the server's time.");
        }
        if (scope[2] != Region || scope[3] != "bedrock" || scope[4] != "aws4_request")
        {
            return ("InvalidSignatureException", $"Credential should be scoped to a valid region and service: {string.Join('/', scope[1..])}.");
        }
        var signedHeaders = parts.GetValueOrDefault("SignedHeaders", "");
        var names = signedHeaders.Split(';');
        if (!names.Contains("host") || !names.Contains("x-amz-date"))
        {
            return ("InvalidSignatureException", "The host and x-amz-date headers must be signed.");
        }
        if (scenario == "bedrocksession" && (http.Request.Headers["x-amz-security-token"] != SessionToken || !names.Contains("x-amz-security-token")))
        {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.");
        }
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));
        if (http.Request.Headers.TryGetValue("x-amz-content-sha256", out var claimed) && claimed != payloadHash)
        {
            return ("InvalidSignatureException", "The provided x-amz-content-sha256 header does not match what was computed.");
        }
        var rawTarget = http.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var query = rawTarget.IndexOf('?');
        var rawPath = query < 0 ? rawTarget : rawTarget[..query];
        var canonicalUri = string.Join('/', rawPath.Split('/').Select(Uri.EscapeDataString));
        var canonicalQuery = query < 0 ? "" : string.Join('&', rawTarget[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        var canonicalHeaders = new StringBuilder();
        foreach (var name in names)
        {
            var value = name == "host" ? http.Request.Host.Value : http.Request.Headers[name].ToString();
            canonicalHeaders.Append(name).Append(':').Append(string.Join(' ', (value ?? "").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))).Append('\n');
        }
        var canonicalRequest = $"{http.Request.Method}\n{canonicalUri}\n{canonicalQuery}\n{canonicalHeaders}\n{signedHeaders}\n{payloadHash}";
        var expected = AWS4Signer.ComputeSignature(AccessKeyId, SecretAccessKey, Region, signedAt, "bedrock", signedHeaders, canonicalRequest).Signature;
        return expected == parts.GetValueOrDefault("Signature")
            ? null
            : ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
    }

    /// <summary>What Bedrock's Converse validation would refuse.</summary>
    private static string? BodyProblem(JsonObject request)
    {
        var allowed = new[] { "messages", "system", "inferenceConfig", "toolConfig", "additionalModelRequestFields", "requestMetadata", "guardrailConfig", "performanceConfig" };
        if (request.Select(p => p.Key).FirstOrDefault(k => !allowed.Contains(k)) is { } extraneous)
        {
            return $"Malformed input request: extraneous key [{extraneous}] is not permitted, please reformat your input and try again.";
        }
        if (request["messages"] is not JsonArray { Count: > 0 } messages)
        {
            return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
        }
        var expected = "user";
        var usesTools = false;
        foreach (var message in messages)
        {
            if (message!["role"]?.GetValue<string>() != expected)
            {
                return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
            }
            expected = expected == "user" ? "assistant" : "user";
            if (message["content"] is not JsonArray { Count: > 0 } blocks)
            {
                return "The content field in the Message object is empty. Add a ContentBlock object to the content field and try again.";
            }
            foreach (var block in blocks.Cast<JsonObject>())
            {
                if (block.Count != 1 || block.First().Key is not ("text" or "image" or "toolUse" or "toolResult"))
                {
                    return $"Malformed input request: a content block must have exactly one of text, image, toolUse, toolResult: {block.ToJsonString()}";
                }
                if (block["text"] is JsonValue text && string.IsNullOrWhiteSpace(text.GetValue<string>()))
                {
                    return "The text field in the ContentBlock object is blank. Add text to the text field, and try again.";
                }
                if (block["image"] is JsonObject image && (image["format"]?.GetValue<string>() is not ("png" or "jpeg" or "gif" or "webp")
                    || image["source"]?["bytes"]?.GetValue<string>() is not { } bytes || !IsBase64(bytes)))
                {
                    return "Malformed input request: image.source.bytes must be the image's base64 bytes and image.format one of png, jpeg, gif, webp.";
                }
                usesTools |= block.ContainsKey("toolUse") || block.ContainsKey("toolResult");
            }
        }
        if (messages[^1]!["role"]!.GetValue<string>() != "user")
        {
            return "A conversation must end with a user message.";
        }
        if (usesTools && request["toolConfig"] is null)
        {
            return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
        }
        if (request["inferenceConfig"] is JsonObject config && config.Select(p => p.Key).FirstOrDefault(k => k is not ("maxTokens" or "temperature" or "topP" or "stopSequences")) is { } unknown)
        {
            return $"Malformed input request: extraneous key [{unknown}] is not permitted in inferenceConfig.";
        }
        return null;
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    /// <summary>AWS's JSON error: <c>{"message"}</c>, its kind in <c>x-amzn-ErrorType</c>.</summary>
    private static async Task Error(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        http.Response.Headers["x-amzn-ErrorType"] = $"{type}:http://internal.amazon.com/coral/com.amazon.bedrock/";
        http.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await http.Response.WriteAsJsonAsync(new JsonObject { ["message"] = message });
    }
}

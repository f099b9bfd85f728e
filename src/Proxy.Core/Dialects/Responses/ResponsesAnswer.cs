using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Providers;

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// A chat completions answer as the Responses API gives it, written as it arrives. An SSE stream is translated chunk by
/// chunk into Responses events, each flushed at once, numbered from 0: <c>response.created</c> and
/// <c>response.in_progress</c> at the first chunk; for the text, a message item (<c>output_item.added</c>,
/// <c>content_part.added</c>, <c>output_text.delta</c>...); for each tool call, a function_call item
/// (<c>output_item.added</c>, <c>function_call_arguments.delta</c>...); at the finish reason every item is done
/// (<c>..._text.done</c>, <c>content_part.done</c>, <c>function_call_arguments.done</c>, <c>output_item.done</c>); at
/// <c>[DONE]</c> (or the end of the stream), <c>response.completed</c> with every item and the usage chunk's counts, or
/// <c>response.incomplete</c> when the answer was cut short, as OpenAI sends it. Only that last event carries usage, so
/// the usage meter behind this translator reads it there. An error chunk is <c>response.failed</c>, whose message
/// Codex CLI shows.
/// <para>
/// A whole JSON answer is held until it is complete and translated by <see cref="ResponsesCompletion"/>; an error
/// (already OpenAI's envelope) goes through unchanged.
/// </para>
/// </summary>
internal sealed class ResponsesAnswer(Stream toClient, HttpResponse response) : AnswerTranslator(toClient, response)
{
    private readonly PooledBuffer _text = new(1024);
    private readonly List<ToolCallDelta> _calls = [];
    private readonly List<OutputItem> _items = [];

    /// <summary>Chat tool call index → its function_call item.</summary>
    private readonly Dictionary<int, OutputItem> _tools = [];
    private OutputItem? _message;
    private int _sequence;
    private string? _id;
    private string _model = "";
    private long _createdAt;
    private string? _finishReason;
    private ChatUsage? _usage;
    private bool _ended;

    /// <summary>A stream that ended without <c>[DONE]</c>: complete if the answer was finished, else say it was cut off.</summary>
    protected override void OnStreamEnd()
    {
        if (_id is null || _ended)
        {
            return;
        }
        if (_finishReason is null)
        {
            Failed("stream_ended", "The provider's stream ended before its answer was complete.");
        }
        else
        {
            Completed();
        }
    }

    /// <summary>A held JSON answer, translated; an error is already OpenAI's envelope and goes as it is.</summary>
    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer) =>
        !answer.IsEmpty && Response.StatusCode is >= 200 and < 300 ? ResponsesCompletion.Translate(answer) : answer;

    protected override void Dispose(bool disposing)
    {
        _text.Dispose();
        foreach (var item in _items)
        {
            item.Dispose();
        }
        base.Dispose(disposing);
    }

    protected override void OnEvent(ReadOnlySpan<byte> json)
    {
        if (_ended)
        {
            return;
        }
        if (json.SequenceEqual("[DONE]"u8))
        {
            if (_id is not null)
            {
                Completed();
            }
            return;
        }
        var chunk = ChatChunk.Read(json, _text, _calls);
        if (_id is null)
        {
            Start(chunk);
        }
        if (chunk.IsError)
        {
            Failed(chunk.ErrorCode, chunk.ErrorMessage);
            return;
        }
        if (chunk.Text is { } text && _text.Written[text].Length > 0)
        {
            Text(_text.Written[text]);
        }
        foreach (var call in _calls)
        {
            ToolCall(call);
        }
        if (chunk.FinishReason is { } finish && _finishReason is null)
        {
            _finishReason = finish;
            Finish();
        }
        _usage = chunk.Usage ?? _usage;
    }

    private void Start(ChatChunk chunk)
    {
        _id = $"resp_{chunk.Id ?? Guid.NewGuid().ToString("N")}";
        _model = chunk.Model ?? "";
        _createdAt = chunk.Created > 0 ? chunk.Created : DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var type in new[] { "response.created", "response.in_progress" })
        {
            var w = Begin(type);
            w.WriteStartObject("response");
            ResponsesShape.Response(w, _id, _createdAt, _model, "in_progress", [], null);
            w.WriteEndObject();
            End(w);
        }
    }

    private void Text(ReadOnlySpan<byte> delta)
    {
        if (_message is null)
        {
            _message = OutputItem.Message(_items.Count);
            Added(_message);
            var part = Begin("response.content_part.added");
            Place(part, _message);
            part.WriteNumber("content_index", 0);
            part.WritePropertyName("part");
            ResponsesShape.OutputText(part, []);
            End(part);
        }
        _message.Text.Write(delta);
        var w = Begin("response.output_text.delta");
        Place(w, _message);
        w.WriteNumber("content_index", 0);
        w.WriteString("delta", delta);
        w.WriteStartArray("logprobs");
        w.WriteEndArray();
        End(w);
    }

    private void ToolCall(ToolCallDelta call)
    {
        if (!_tools.TryGetValue(call.Index, out var item))
        {
            item = OutputItem.Call(_items.Count, call.Id, call.Name);
            _tools[call.Index] = item;
            Added(item);
        }
        if (call.Arguments is { } range && _text.Written[range].Length > 0)
        {
            var arguments = _text.Written[range];
            item.Text.Write(arguments);
            var w = Begin("response.function_call_arguments.delta");
            Place(w, item);
            w.WriteString("delta", arguments);
            End(w);
        }
    }

    private void Added(OutputItem item)
    {
        _items.Add(item);
        var w = Begin("response.output_item.added");
        w.WriteNumber("output_index", item.Index);
        w.WritePropertyName("item");
        ResponsesShape.Item(w, item, "in_progress", whole: false);
        End(w);
    }

    /// <summary>The answer is finished: every item is done, in the order they started.</summary>
    private void Finish()
    {
        var status = ResponsesShape.Status(_finishReason);
        foreach (var item in _items.Where(i => !i.IsDone))
        {
            if (item.IsCall)
            {
                var arguments = Begin("response.function_call_arguments.done");
                Place(arguments, item);
                arguments.WriteString("name", item.Name);
                arguments.WriteString("arguments", item.Text.Written);
                End(arguments);
            }
            else
            {
                var text = Begin("response.output_text.done");
                Place(text, item);
                text.WriteNumber("content_index", 0);
                text.WriteString("text", item.Text.Written);
                text.WriteStartArray("logprobs");
                text.WriteEndArray();
                End(text);
                var part = Begin("response.content_part.done");
                Place(part, item);
                part.WriteNumber("content_index", 0);
                part.WritePropertyName("part");
                ResponsesShape.OutputText(part, item.Text.Written);
                End(part);
            }
            var done = Begin("response.output_item.done");
            done.WriteNumber("output_index", item.Index);
            done.WritePropertyName("item");
            ResponsesShape.Item(done, item, status, whole: true);
            End(done);
            item.IsDone = true;
        }
    }

    private void Completed()
    {
        Finish();
        var status = ResponsesShape.Status(_finishReason);
        var w = Begin(status == "incomplete" ? "response.incomplete" : "response.completed");
        w.WriteStartObject("response");
        ResponsesShape.Response(w, _id!, _createdAt, _model, status, _items, _usage, _finishReason);
        w.WriteEndObject();
        End(w);
        _ended = true;
    }

    private void Failed(string? code, string? message)
    {
        var w = Begin("response.failed");
        w.WriteStartObject("response");
        ResponsesShape.Response(w, _id!, _createdAt, _model, "failed", _items, _usage, errorCode: code, errorMessage: message);
        w.WriteEndObject();
        End(w);
        _ended = true;
    }

    /// <summary>Starts an event in <see cref="Out"/>: its SSE name, then its JSON with <c>type</c> and <c>sequence_number</c>.</summary>
    private Utf8JsonWriter Begin(string type)
    {
        Out.Write("event: "u8);
        Out.Advance(System.Text.Encoding.UTF8.GetBytes(type, Out.GetSpan(type.Length)));
        Out.Write("\ndata: "u8);
        var w = WriterAtOut();
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteNumber("sequence_number", _sequence++);
        return w;
    }

    private void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        Out.Write("\n\n"u8);
    }

    private static void Place(Utf8JsonWriter w, OutputItem item)
    {
        w.WriteString("item_id", item.Id);
        w.WriteNumber("output_index", item.Index);
    }
}

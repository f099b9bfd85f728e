using Proxy.Core.Providers;

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// One item of a Responses answer as it is built: the assistant's message, or one function call. <see cref="Text"/>
/// holds the message's text or the call's arguments, as UTF-8.
/// </summary>
internal sealed class OutputItem(string id, int index) : IDisposable
{
    public string Id { get; } = id;

    /// <summary>Where the item is in the answer's <c>output</c>.</summary>
    public int Index { get; } = index;

    /// <summary>The call's id (the chat tool call's), or null for the message.</summary>
    public string? CallId { get; init; }

    public string Name { get; init; } = "";

    public bool IsCall => CallId is not null;

    public PooledBuffer Text { get; } = new(256);

    public bool IsDone { get; set; }

    public static OutputItem Message(int index) => new($"msg_{Guid.NewGuid():N}", index);

    public static OutputItem Call(int index, string? callId, string? name)
    {
        callId ??= $"call_{Guid.NewGuid():N}";
        return new($"fc_{callId}", index) { CallId = callId, Name = name ?? "" };
    }

    public void Dispose() => Text.Dispose();
}

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// One tool call's part of a chat chunk: its id and name come in its first part, its arguments in pieces;
/// <see cref="Arguments"/> is where this piece is in the chunk's text buffer.
/// </summary>
internal readonly record struct ToolCallDelta(int Index, string? Id, string? Name, Range? Arguments);

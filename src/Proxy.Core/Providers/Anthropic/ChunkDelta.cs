namespace Proxy.Core.Providers.Anthropic;

/// <summary>What a translated stream's <c>chat.completion.chunk</c> carries in its delta (<see cref="OpenAIShape.ChunkChoice"/>).</summary>
internal enum ChunkDelta
{
    None,
    Role,
    Text,
    ToolCall,
    ToolArguments,
}

namespace Proxy.Core.Persistence;

/// <summary>
/// One write transaction at a time per process: management changes (<see cref="Changes"/>) and usage batches
/// (<see cref="Usage.UsageWriter"/>) queue here, asynchronously and in order of arrival. SQLite has one writer at a
/// time anyway, and its driver waits for the lock by sleeping on a thread and retrying: neither fair (a usage writer
/// committing back to back under heavy traffic starved management writes into 503s) nor free (each sleeper holds a
/// thread the LLM routes need).
/// </summary>
public sealed class WriteGate() : SemaphoreSlim(1, 1);

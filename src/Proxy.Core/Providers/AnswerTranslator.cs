namespace Proxy.Core.Providers;

/// <summary>Turns a provider's answer into OpenAI's as it is written; <see cref="CompleteAsync"/> once the provider is done.</summary>
internal abstract class AnswerTranslator : Stream
{
    /// <summary>Writes what is still held (a whole JSON answer is translated only once it is complete).</summary>
    public abstract ValueTask CompleteAsync(CancellationToken ct);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

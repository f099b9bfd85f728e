using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Portal.Tests.Infrastructure;

/// <summary>The SQL and parameters of every query the gateway reads with, so a test can ask the database how it ran one.</summary>
public sealed class CapturedQueries : DbCommandInterceptor
{
    public sealed record Query(string Sql, IReadOnlyList<(string Name, object? Value)> Parameters);

    public ConcurrentQueue<Query> All { get; } = new();

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        All.Enqueue(new Query(command.CommandText, [.. command.Parameters.Cast<DbParameter>().Select(p => (p.ParameterName, (object?)p.Value))]));
        return ValueTask.FromResult(result);
    }
}

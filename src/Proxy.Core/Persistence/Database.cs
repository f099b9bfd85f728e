using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;

namespace Proxy.Core.Persistence;

/// <summary>Chooses the provider from <c>ConnectionStrings:Portal</c> and prepares the database at start-up.</summary>
public static class Database
{
    public const string DefaultConnectionString = "Data Source=gateway.db";

    /// <summary>A PostgreSQL connection string (<c>Host=…</c>) selects Npgsql; anything else is a SQLite file.</summary>
    public static bool IsPostgres(string connectionString) =>
        connectionString.Contains("Host=", StringComparison.OrdinalIgnoreCase)
        || connectionString.Contains("Server=", StringComparison.OrdinalIgnoreCase);

    /// <summary>A relative SQLite file is taken relative to <paramref name="root"/> (next to appsettings.json), not to whatever the working directory is.</summary>
    public static string AnchorSqlitePath(string connectionString, string root)
    {
        if (IsPostgres(connectionString))
        {
            return connectionString;
        }
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && !Path.IsPathRooted(file))
        {
            builder.DataSource = Path.GetFullPath(Path.Combine(root, file));
        }
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            // How long a write waits for a lock held elsewhere before the caller gets a 503 (the driver's default is 30 s).
            builder.DefaultTimeout = 5;
        }
        return builder.ToString();
    }

    public static IServiceCollection AddPortalDb(this IServiceCollection services, string connectionString)
    {
        if (IsPostgres(connectionString))
        {
            services.AddDbContext<PortalDb, PostgresPortalDb>(o => o.UseNpgsql(connectionString));
        }
        else
        {
            services.AddDbContext<PortalDb, SqlitePortalDb>(o => o.UseSqlite(connectionString));
            ReserveThreadsForBusyWaits();
        }
        return services;
    }

    /// <summary>
    /// Microsoft.Data.Sqlite waits out a lock held elsewhere (another process, a backup) by sleeping on the calling
    /// thread (its async methods run synchronously), so each write that meets a locked database holds a thread-pool
    /// thread for up to its timeout: the one holding the <see cref="WriteGate"/>, and portal sign-ins (Identity writes
    /// directly). The pool adds threads beyond its minimum (one per core) only about twice a second, and the LLM routes
    /// share it, so sleeping writers could stall LLM calls (docs/performance.md). Threads up to the minimum
    /// start on demand at once; none exist until needed.
    /// </summary>
    private static void ReserveThreadsForBusyWaits()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + BusyWaitReserve), io);
    }

    private const int BusyWaitReserve = 16;

    /// <summary>How long a write waits for the database's lock before the caller is told to retry.</summary>
    public static TimeSpan LockWait(PortalDb db) =>
        TimeSpan.FromSeconds(db.Database.IsSqlite() ? new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DefaultTimeout : 30);

    /// <summary>
    /// A consistent read-only transaction. On SQLite a deferred one: in WAL mode it reads a snapshot without taking the
    /// write lock (the driver's default, BEGIN IMMEDIATE, would queue every read behind writers). On PostgreSQL
    /// repeatable read.
    /// </summary>
    public static async Task<IAsyncDisposable> BeginReadAsync(PortalDb db, CancellationToken ct)
    {
        if (!db.Database.IsSqlite())
        {
            return await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        }
        await db.Database.OpenConnectionAsync(ct);
        var transaction = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        await db.Database.UseTransactionAsync(transaction, ct);
        // Disposing the driver's transaction ends it; EF does not own a transaction it was handed.
        return transaction;
    }

    /// <summary>Applies the provider's migrations and, for SQLite, switches the file to WAL so readers never wait for the writer.</summary>
    public static async Task MigrateAsync(PortalDb db, CancellationToken ct = default)
    {
        if (db.Database.IsSqlite())
        {
            var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            var folder = Path.GetDirectoryName(Path.GetFullPath(file));
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build each provider's context without the host.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePortalDb>
{
    public SqlitePortalDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite(Database.DefaultConnectionString).Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPortalDb>
{
    public PostgresPortalDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresPortalDb>().UseNpgsql("Host=localhost;Database=gateway").Options);
}

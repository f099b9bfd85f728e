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
        }
        return services;
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

using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Reliability;

/// <summary>What one HTTP call answered: a status and body, or the exception that ended it.</summary>
public sealed record Outcome(int Status, string Body, TimeSpan Elapsed, Exception? Error = null)
{
    public bool Ok => Status == 200;

    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    /// <summary>True when the body is the OpenAI error envelope of docs/api.md section 2 with a matching code and no stack trace.</summary>
    public bool IsEnvelope()
    {
        try
        {
            var error = JsonNode.Parse(Body)?["error"];
            return error?["code"]?.GetValue<string>() == Status.ToString(System.Globalization.CultureInfo.InvariantCulture)
                && error["message"]?.GetValue<string>() is { Length: > 0 } message
                && !message.Contains("   at ", StringComparison.Ordinal)
                && error["type"]?.GetValue<string>() is { Length: > 0 };
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    public override string ToString() => Error is null ? $"{Status} {Body[..Math.Min(Body.Length, 300)]}" : $"{Error.GetType().Name}: {Error.Message}";
}

public static class ReliabilityKit
{
    public static object Chat(string model, bool stream = false) =>
        new { model, stream, messages = new[] { new { role = "user", content = "What is the weather in Boston?" } } };

    public static async Task<Outcome> SendAsync(this HttpClient client, HttpMethod method, string path, object? body = null, CancellationToken ct = default)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await client.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            return new Outcome((int)response.StatusCode, text, watch.Elapsed);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Outcome(0, "", watch.Elapsed, e);
        }
    }

    public static Task<Outcome> PostAsync(this HttpClient client, string path, object body, CancellationToken ct = default) =>
        client.SendAsync(HttpMethod.Post, path, body, ct);

    public static Task<Outcome> ReadAsync(this HttpClient client, string path, CancellationToken ct = default) =>
        client.SendAsync(HttpMethod.Get, path, null, ct);

    /// <summary>An SSE chat call read to its end: 200 only counts when the stream ended with <c>[DONE]</c>.</summary>
    public static async Task<Outcome> StreamAsync(this HttpClient client, string model, CancellationToken ct = default)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat(model, stream: true)) };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            var status = (int)response.StatusCode;
            if (status == 200 && !text.Contains("data: [DONE]", StringComparison.Ordinal))
            {
                return new Outcome(-1, text, watch.Elapsed, new InvalidDataException("stream ended without [DONE]"));
            }
            return new Outcome(status, text, watch.Elapsed);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Outcome(0, "", watch.Elapsed, e);
        }
    }

    /// <summary>An HttpClient for many parallel calls with one key; <paramref name="timeout"/> bounds every call.</summary>
    public static HttpClient Client(Uri baseAddress, string? key, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = baseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public static async Task<int> UsageCountAsync(this GatewayFactory gateway)
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PortalDb>().Usage.CountAsync();
    }

    /// <summary>Waits (bounded) until the usage table holds <paramref name="expected"/> rows; returns the last count seen.</summary>
    public static async Task<int> WaitForUsageAsync(this GatewayFactory gateway, int expected, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var count = await gateway.UsageCountAsync();
        while (count < expected && deadline.Elapsed < timeout)
        {
            await Task.Delay(100);
            count = await gateway.UsageCountAsync();
        }
        return count;
    }

    /// <summary>Lets the background usage writer go quiet: the count stops changing for <paramref name="quiet"/>.</summary>
    public static async Task<int> SettledUsageCountAsync(this GatewayFactory gateway, TimeSpan quiet, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var last = await gateway.UsageCountAsync();
        var stableSince = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            await Task.Delay(100);
            var count = await gateway.UsageCountAsync();
            if (count != last)
            {
                last = count;
                stableSince.Restart();
            }
            else if (stableSince.Elapsed >= quiet)
            {
                break;
            }
        }
        return last;
    }

    /// <summary>The log level of a gateway process under load: warnings and errors only, so its console does not slow it.</summary>
    public static Dictionary<string, string> WarningsOnly => new() { ["Logging__LogLevel__Default"] = "Warning" };

    public static async Task<long> ScalarAsync(this SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<List<string>> ColumnAsync(this SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.IsDBNull(0) ? "" : reader.GetValue(0).ToString()!);
        }
        return values;
    }

    /// <summary>
    /// A GatewayFactory whose SQLite connections give up on a locked database after <paramref name="busySeconds"/>.
    /// On PostgreSQL there is no such setting (a write waits 30 s for its turn): a plain GatewayFactory.
    /// </summary>
    public static GatewayFactory GatewayWithBusyTimeout(int busySeconds)
    {
        var gateway = new GatewayFactory();
        if (GatewayFactory.OnPostgres)
        {
            return gateway;
        }
        gateway.Settings["ConnectionStrings:Portal"] = $"Data Source={gateway.DatabaseFile};Default Timeout={busySeconds}";
        return gateway;
    }
}

/// <summary>
/// Another writer on the gateway's SQLite file: <c>BEGIN EXCLUSIVE</c> on a connection of its own, held until disposed.
/// (In WAL mode this blocks every other writer; readers go on.)
/// </summary>
public sealed class SqliteWriteLock : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private bool _released;

    private SqliteWriteLock(SqliteConnection connection) => _connection = connection;

    public static async Task<SqliteWriteLock> TakeAsync(string databaseFile)
    {
        var connection = new SqliteConnection($"Data Source={databaseFile};Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "BEGIN EXCLUSIVE;";
        await command.ExecuteNonQueryAsync();
        return new SqliteWriteLock(connection);
    }

    public async Task ReleaseAsync()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        await using (var command = _connection.CreateCommand())
        {
            command.CommandText = "ROLLBACK;";
            await command.ExecuteNonQueryAsync();
        }
        await _connection.CloseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        await _connection.DisposeAsync();
    }
}

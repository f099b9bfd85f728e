using System.Data.Common;
using System.Globalization;

namespace Portal.Tests.Usage;

/// <summary>
/// The daily aggregates and the raw usage rows agree: every (day, team, key, user, model, provider) of the rows has one
/// aggregate row with the same counts, tokens and spend, and there is no other. Read with plain SQL on the database's
/// own connection, so it also checks a file a killed gateway left behind.
/// </summary>
internal static class DailyActivityAgreement
{
    private sealed record Sums(long Requests, long Successful, long Failed, long Prompt, long Completion, long CacheRead, long CacheCreation, double Spend);

    /// <returns>The number of raw rows checked.</returns>
    public static async Task<long> AssertAsync(DbConnection connection)
    {
        var raw = new Dictionary<string, Sums>();
        long rows = 0;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT \"StartedAt\", \"TeamId\", \"KeyHash\", \"UserId\", \"Model\", \"Provider\", \"Status\", \"PromptTokens\", \"CompletionTokens\", " +
                "\"CacheReadTokens\", \"CacheCreationTokens\", \"Spend\" FROM usage_records";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows++;
                var day = DateOnly.FromDateTime(reader.GetDateTime(0));
                var key = Key(day, reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? "" : reader.GetString(3), reader.GetString(4), reader.GetString(5));
                var ok = reader.GetInt32(6) < 400;
                var row = new Sums(1, ok ? 1 : 0, ok ? 0 : 1, reader.GetInt32(7), reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10), reader.GetDouble(11));
                raw[key] = raw.TryGetValue(key, out var sum)
                    ? new Sums(sum.Requests + row.Requests, sum.Successful + row.Successful, sum.Failed + row.Failed, sum.Prompt + row.Prompt,
                        sum.Completion + row.Completion, sum.CacheRead + row.CacheRead, sum.CacheCreation + row.CacheCreation, sum.Spend + row.Spend)
                    : row;
            }
        }

        var aggregates = new Dictionary<string, Sums>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT \"Day\", \"TeamId\", \"KeyHash\", \"UserId\", \"Model\", \"Provider\", \"ApiRequests\", \"SuccessfulRequests\", \"FailedRequests\", " +
                "\"PromptTokens\", \"CompletionTokens\", \"CacheReadTokens\", \"CacheCreationTokens\", \"Spend\" FROM daily_usage";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var day = reader.GetValue(0) switch
                {
                    DateOnly d => d,
                    DateTime t => DateOnly.FromDateTime(t),
                    var text => DateOnly.ParseExact((string)text, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                };
                var key = Key(day, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5));
                Assert.True(aggregates.TryAdd(key, new Sums(reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10),
                    reader.GetInt64(11), reader.GetInt64(12), reader.GetDouble(13))), $"two aggregate rows for {key}");
            }
        }

        Assert.Equal(raw.Keys.Order(StringComparer.Ordinal), aggregates.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, sum) in raw)
        {
            var aggregate = aggregates[key];
            Assert.True(sum with { Spend = 0 } == aggregate with { Spend = 0 }, $"{key}: the rows sum to {sum}, the aggregate holds {aggregate}");
            Assert.Equal(sum.Spend, aggregate.Spend, 9);
        }
        return rows;
    }

    private static string Key(DateOnly day, string team, string keyHash, string user, string model, string provider) =>
        $"{day:yyyy-MM-dd}|{team}|{keyHash}|{user}|{model}|{provider}";
}

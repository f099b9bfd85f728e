using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Secrets;
using Proxy.Core.Teams;

// bench/Seeder: fills a new gateway SQLite file for the scale run, before the gateway starts on it.
//   Seeder --db FILE --encryption-key KEY --api-base URL [--teams 10000] [--models 50000] [--keys 100000]
//          [--pairs-out FILE] [--pairs 1000] [--out results.jsonl]
// Models and keys are spread evenly over the teams. --pairs-out receives "raw-key public-model-name" lines for
// randomly chosen teams, so the load can spread over many keys, teams and models.
var options = ParseArgs(args);
var dbFile = Required("db");
var teams = Int("teams", 10_000);
var models = Int("models", 50_000);
var keys = Int("keys", 100_000);
var pairCount = Int("pairs", 1000);
var apiBase = Required("api-base");
var box = new SecretBox(Required("encryption-key"));
const int Batch = 5000;

var total = Stopwatch.StartNew();
var db = Open();
await Database.MigrateAsync(db);
await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=OFF;");
var now = DateTime.UtcNow;
var rng = new Random(5);

var teamIds = Enumerable.Range(0, teams).Select(i => $"team-{i:D5}-{Guid.NewGuid():N}"[..24]).ToArray();
var modelsPerTeam = teams == 0 ? 0 : (models + teams - 1) / teams;
var publicNames = new List<string>[teams];
var step = Stopwatch.StartNew();
await InsertAsync(Enumerable.Range(0, teams).Select(t =>
{
    publicNames[t] = Enumerable.Range(0, Math.Min(modelsPerTeam, models - (t * modelsPerTeam))).Select(m => $"team-model-{m}").ToList();
    return new Team
    {
        TeamId = teamIds[t],
        TeamAlias = $"Scale team {t}",
        Models = publicNames[t],
        CreatedAt = now,
        UpdatedAt = now,
        CreatedBy = "bench-seeder",
        UpdatedBy = "bench-seeder",
    };
}));
var teamsMs = step.Elapsed.TotalMilliseconds;

step.Restart();
var aliases = new List<ModelAlias>(models);
var deployments = new List<ModelDeployment>(models);
for (var t = 0; t < teams; t++)
{
    foreach (var name in publicNames[t])
    {
        var alias = new ModelAlias { TeamId = teamIds[t], PublicName = name, InternalName = $"model_name_{teamIds[t]}_{Guid.NewGuid()}" };
        aliases.Add(alias);
        deployments.Add(new ModelDeployment
        {
            ModelId = Guid.NewGuid().ToString(),
            ModelName = alias.InternalName,
            TeamId = teamIds[t],
            PublicName = name,
            Provider = "openai",
            UpstreamModel = "openai/gpt-4o",
            ApiBase = apiBase,
            // Each row sealed on its own, as /model/new does (fresh nonce each time).
            ApiKeyCipher = box.Seal("sk-fake-upstream-key-0000"),
            ApiKeyHint = "0000",
            CreatedAt = now,
            UpdatedAt = now,
            CreatedBy = "bench-seeder",
            UpdatedBy = "bench-seeder",
        });
    }
}
await InsertAsync(aliases);
await InsertAsync(deployments);
var modelsMs = step.Elapsed.TotalMilliseconds;

step.Restart();
var rawKeys = new string[keys];
await InsertAsync(Enumerable.Range(0, keys).Select(k =>
{
    var raw = rawKeys[k] = KeyMaterial.NewKey();
    return new VirtualKey
    {
        Token = KeyMaterial.Hash(raw),
        KeyName = KeyMaterial.Mask(raw),
        KeyAlias = $"scale-key-{k}",
        TeamId = teams == 0 ? null : teamIds[k % teams],
        KeyType = KeyType.Default,
        CreatedAt = now,
        UpdatedAt = now,
        CreatedBy = "bench-seeder",
        UpdatedBy = "bench-seeder",
    };
}));
var keysMs = step.Elapsed.TotalMilliseconds;

await db.Database.ExecuteSqlRawAsync("UPDATE route_data_version SET Version = Version + 1;");
await db.DisposeAsync();
total.Stop();

if (options.TryGetValue("pairs-out", out var pairsOut) && teams > 0 && keys > 0)
{
    // Key k belongs to team k % teams; take random keys and one of their team's models each.
    var lines = Enumerable.Range(0, pairCount).Select(_ =>
    {
        var k = rng.Next(keys);
        var names = publicNames[k % teams];
        return names.Count == 0 ? null : $"{rawKeys[k]} {names[rng.Next(names.Count)]}";
    }).Where(l => l is not null);
    await File.WriteAllLinesAsync(pairsOut, lines!);
}

var size = new FileInfo(dbFile).Length / 1024.0 / 1024.0;
var summary = FormattableString.Invariant(
    $"seeded {teams} teams ({teamsMs / 1000:0.0} s), {aliases.Count} team models ({modelsMs / 1000:0.0} s), {keys} keys ({keysMs / 1000:0.0} s) in {total.Elapsed.TotalSeconds:0.0} s; database {size:0} MB");
Console.WriteLine($"  {summary}");
if (options.TryGetValue("out", out var output))
{
    await File.AppendAllTextAsync(output, FormattableString.Invariant(
        $$"""{"kind":"seeder","run":"scale","teams":{{teams}},"models":{{aliases.Count}},"keys":{{keys}},"seconds":{{total.Elapsed.TotalSeconds:0.00}},"db_mb":{{size:0.0}}}""") + "\n");
}
return 0;

async Task InsertAsync<T>(IEnumerable<T> rows) where T : class
{
    foreach (var chunk in rows.Chunk(Batch))
    {
        db.AddRange(chunk);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
    }
}

SqlitePortalDb Open()
{
    var context = new SqlitePortalDb(new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite($"Data Source={dbFile}").Options);
    context.ChangeTracker.AutoDetectChangesEnabled = false;
    return context;
}

string Required(string name) => options.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

int Int(string name, int fallback) => options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

static Dictionary<string, string> ParseArgs(string[] args)
{
    var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        parsed[args[i].TrimStart('-')] = args[i + 1];
    }
    return parsed;
}

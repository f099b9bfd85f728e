using System.Globalization;

namespace LoadGen;

/// <summary><c>--name value</c> pairs; a name may repeat (e.g. <c>--target</c>).</summary>
public sealed class Args
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public static Args Parse(IEnumerable<string> args)
    {
        var parsed = new Args();
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    parsed.Add(name, "true");
                }
                name = arg[2..];
            }
            else if (name is not null)
            {
                parsed.Add(name, arg);
                name = null;
            }
            else
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }
        }
        if (name is not null)
        {
            parsed.Add(name, "true");
        }
        return parsed;
    }

    private void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out var list))
        {
            _values[name] = list = [];
        }
        list.Add(value);
    }

    public string Get(string name) => Opt(name) ?? throw new ArgumentException($"--{name} is required");

    public string? Opt(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public int Int(string name, int fallback) => Opt(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Opt(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

namespace StagNotebooks.Cli;

/// <summary>Parsed command line: positional words, `--name value` options and `--flag` switches.</summary>
public sealed class CommandLine
{
    readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    readonly HashSet<string> _used = new(StringComparer.Ordinal);
    readonly List<string> _positional = new();
    bool _positionalUsed;

    /// <summary>Positional words; a command that reads them accepts them, any other rejects them in <see cref="RejectUnknown"/>.</summary>
    public List<string> Positional { get { _positionalUsed = true; return _positional; } }

    /// <param name="switches">option names that take no value (e.g. "json", "strict").</param>
    public static CommandLine Parse(IEnumerable<string> args, IEnumerable<string> switches)
    {
        var sw = new HashSet<string>(switches, StringComparer.Ordinal);
        var cl = new CommandLine();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (!sw.Contains(name))
                {
                    if (i + 1 >= list.Count) throw new CliException($"option --{name} needs a value");
                    value = list[++i];
                }
                cl.Add(name, value ?? "true");
            }
            else if (a.StartsWith('-') && a.Length == 2 && !char.IsDigit(a[1]))
            {
                var name = a[1..];
                if (sw.Contains(name)) { cl.Add(name, "true"); continue; }
                if (i + 1 >= list.Count) throw new CliException($"option -{name} needs a value");
                cl.Add(name, list[++i]);
            }
            else cl._positional.Add(a);
        }
        return cl;
    }

    void Add(string name, string value)
    {
        if (!_options.TryGetValue(name, out var l)) _options[name] = l = new List<string>();
        l.Add(value);
    }

    public bool Has(string name) { _used.Add(name); return _options.ContainsKey(name); }
    public bool Flag(string name) { _used.Add(name); return _options.TryGetValue(name, out var v) && v[^1] != "false"; }
    public string? Get(string name) { _used.Add(name); return _options.TryGetValue(name, out var v) ? v[^1] : null; }
    public string Get(string name, string fallback) => Get(name) ?? fallback;
    public IReadOnlyList<string> All(string name) { _used.Add(name); return _options.TryGetValue(name, out var v) ? v : Array.Empty<string>(); }

    public int GetInt(string name, int fallback)
    {
        var s = Get(name);
        if (s == null) return fallback;
        return int.TryParse(s, out var v) ? v : throw new CliException($"option --{name}: '{s}' is not an integer");
    }

    public double GetDouble(string name, double fallback)
    {
        var s = Get(name);
        if (s == null) return fallback;
        return double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new CliException($"option --{name}: '{s}' is not a number");
    }

    /// <summary>Fails on options the command never asked for, and on positional words it does not take, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        if (!_positionalUsed && _positional.Count > 0)
            throw new CliException($"unexpected argument{(_positional.Count > 1 ? "s" : "")} {string.Join(" ", _positional.Select(p => $"'{p}'"))}: this command takes options only (see --help; input files go after an option such as --train)");
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new CliException($"unknown option {string.Join(", ", unknown.Select(u => (u.Length == 1 ? "-" : "--") + u))} (see --help)");
    }
}

/// <summary>A user error on the command line: printed without a stack trace, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);

using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace QGenEngine.Models.Training;

/// <summary>How a setting appears on the command line: --key VALUE, a --no-key switch that sets it false, or not at all.</summary>
public enum SettingFlag { Value, NegatedSwitch, None }

/// <summary>
/// One setting of a training run, declared once - by <see cref="TrainOptions"/> for the settings every model has, by a
/// model's file for its own - with its key (config.json's name; the CLI's flag is --key with dashes), its default, its
/// help and its check. The CLI's flags and --help, config.json and a study spec's validation are all made from these
/// declarations (issue #24, item 3); a model lists the ones it takes in its catalogue entry.
/// </summary>
public abstract class Setting
{
    private protected Setting(string key, string help, SettingFlag flag, bool required)
    {
        if (!Regex.IsMatch(key, "^[a-z][a-z0-9_]*$")) throw new ArgumentException($"setting key '{key}': expected snake_case");
        Key = key; Help = help; Flag = flag; Required = required;
    }

    /// <summary>The name in config.json and in messages (<see cref="Ref"/>).</summary>
    public string Key { get; }
    public string Help { get; }
    public SettingFlag Flag { get; }
    /// <summary>Whether a config.json without it is damaged; otherwise a run written before the setting existed gets <see cref="Missing"/>.</summary>
    public bool Required { get; }
    public abstract Type ValueType { get; }
    public abstract object? DefaultValue { get; }

    /// <summary>How a message in Models names the setting: ⟨key⟩, which the CLI shows as its flag and a config.json reader as 'key'.</summary>
    public string Ref => Name(Key);

    /// <summary>⟨key⟩: a setting's (or a command option's) name in a message written below the CLI.</summary>
    public static string Name(string key) => $"⟨{key}⟩";

    private static readonly Regex Names = new("⟨([a-z][a-z0-9_]*)⟩", RegexOptions.Compiled);

    /// <summary>A message with every ⟨key⟩ written as a command-line flag (--key-with-dashes): what the CLI prints.</summary>
    public static string AsFlags(string message) => Names.Replace(message, m => "--" + m.Groups[1].Value.Replace('_', '-'));

    /// <summary>A message with every ⟨key⟩ written as 'key': how a config.json's reader names what is wrong in the file.</summary>
    public static string AsKeys(string message) => Names.Replace(message, m => $"'{m.Groups[1].Value}'");

    /// <summary>The value a flag's text gives; an error names the setting.</summary>
    public abstract object? Parse(string? text);

    /// <summary>The value config.json holds; an error names the setting.</summary>
    public abstract object? Read(JsonNode? node);

    public abstract JsonNode? Write(object? value);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the setting when the value is outside its range.</summary>
    public abstract void Check(object? value);

    /// <summary>The value for a config.json written before this setting existed (null: the model's default).</summary>
    public abstract object? Missing { get; }

    /// <summary>
    /// A setting that names a file or directory, none by default. An empty name, or one with a NUL, is refused where every
    /// value is checked (a dry run, a study's plan), not first when the run opens it; with <paramref name="absolute"/> the
    /// CLI stores the name made absolute.
    /// </summary>
    /// <param name="expected">what the name must lead to, for the message ("a vqvae run directory")</param>
    public static Setting<string?> OfPath(string key, string help, string expected, bool absolute = false) =>
        new(key, null, help, v => v is null || IsPath(v) ? null : $"'{v.Replace("\0", "\\0")}' is not a path; expected {expected}",
            normalize: absolute ? f => f is not null && IsPath(f) ? System.IO.Path.GetFullPath(f) : f : null);

    private static bool IsPath(string s) => s.Length > 0 && !s.Contains('\0');

    /// <summary>A value as a user would type it (help texts).</summary>
    public static string Show(object? v) => v switch
    {
        null => "none", string { Length: 0 } => "none", string s => s, bool b => b ? "true" : "false",
        float f => f.ToString(CultureInfo.InvariantCulture), IFormattable x => x.ToString(null, CultureInfo.InvariantCulture), _ => v.ToString() ?? "",
    };
}

/// <summary>A setting of type <typeparamref name="T"/> (int, ulong, float, bool or string; a string may be null).</summary>
/// <param name="check">returns what is wrong with a value ("must be ≥ 1"), or null; the message is prefixed with the setting's name</param>
/// <param name="missing">the value of a config.json written before the setting existed (default: the model's default)</param>
public sealed class Setting<T>(string key, T @default, string help, Func<T, string?>? check = null, SettingFlag flag = SettingFlag.Value,
                               bool required = false, Func<T, T>? normalize = null, object? missing = null)
    : Setting(key, help, flag, required)
{
    public T Default { get; } = @default;
    public override Type ValueType => typeof(T);
    public override object? DefaultValue => Default;
    public override object? Missing => missing;

    /// <summary>What the CLI does to a value before it is stored (a file made absolute).</summary>
    public T Normalize(T value) => normalize is null ? value : normalize(value);

    public override void Check(object? value)
    {
        if (check?.Invoke((T)value!) is { } why) throw new ArgumentException($"{Ref}: {why}");
    }

    public override object? Parse(string? text)
    {
        object? v;
        if (typeof(T) == typeof(string)) v = text;
        else if (typeof(T) == typeof(bool)) v = text is null or "true" or "True" || (text is "false" or "False" ? false : throw Bad(text, "true or false"));
        else if (typeof(T) == typeof(int)) v = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : throw Bad(text, "an integer");
        else if (typeof(T) == typeof(ulong)) v = ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong u) ? u : throw Bad(text, "a non-negative integer");
        else if (typeof(T) == typeof(float)) v = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f : throw Bad(text, "a number");
        else throw new NotSupportedException($"setting {Key}: type {typeof(T).Name}");
        return Normalize((T)v!);
    }

    private ArgumentException Bad(string? text, string expected) => new($"{Ref}: '{text}' is not {expected}");

    public override object? Read(JsonNode? node)
    {
        if (node is null) return default(T);
        try
        {
            // The seed is written as a string: a JSON number loses a ulong's low bits in most readers.
            if (typeof(T) == typeof(ulong)) return ulong.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture);
            return node.GetValue<T>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new FormatException($"{Ref} has the wrong type (expected {(typeof(T) == typeof(string) ? "a string" : typeof(T) == typeof(bool) ? "true or false" : "a number")})");
        }
    }

    public override JsonNode? Write(object? value) => value switch
    {
        null => null,
        ulong u => JsonValue.Create(u.ToString(CultureInfo.InvariantCulture)),
        _ => JsonValue.Create((T)value),
    };
}

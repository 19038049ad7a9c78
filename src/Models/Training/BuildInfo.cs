using System.Reflection;

namespace QGenEngine.Models.Training;

/// <summary>The commit this binary was built from (Directory.Build.targets stamps it into every assembly).</summary>
public static class BuildInfo
{
    /// <summary>12 hex digits of the commit, "-dirty" when its tracked files had changes, or "unknown" (built outside a clone).</summary>
    public static string Commit { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "BuildCommit")?.Value is { Length: > 0 } c ? c : "unknown";
}

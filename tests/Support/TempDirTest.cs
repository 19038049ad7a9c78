namespace QGenEngine.Tests.Support;

/// <summary>A fresh temporary folder for each test, removed afterwards.</summary>
public abstract class TempDirTest
{
    protected string Dir { get; private set; } = "";

    [SetUp] public void CreateTempDir() { Dir = Path.Combine(Path.GetTempPath(), "qgen-test-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(Dir); }
    [TearDown] public void RemoveTempDir() { try { Directory.Delete(Dir, true); } catch (IOException) { } }
}

using System.Text.Json;
using QGenEngine.Bench;
using QGenEngine.Kernels.Cpu;

// dotnet run -c Release --project bench -- <suite> [--json FILE] [--device cpu] [--batch N] [--model vae] [--threads T]
var suites = new Dictionary<string, Func<BenchArgs, List<Record>>>
{
    ["ceiling"] = Suites.Ceiling,
    ["gemm"] = Suites.Gemm,
    ["ops"] = Suites.Ops,
    ["train-step"] = Suites.TrainStep,
    ["profile"] = Suites.Profile,
    ["sample"] = Suites.Sample,
    ["quantum"] = QuantumSuite.Run,
    ["circuit"] = QuantumSuite.CircuitAlone,
    ["targets"] = Targets.Run,
    ["study-speed"] = StudySpeed.Run,
    ["gpu"] = GpuSuite.Run,
};
if (args.Length > 0 && args[0] == "compare") return Compare.Run(args[1..]);
string usage = $"usage: bench <{string.Join("|", suites.Keys)}|all|compare> [--json FILE] [--device cpu|reference|ilgpu-cpu|cuda] [--batch N] [--model vae] [--threads T] [--quick]";
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}
if (args[0] != "all" && !suites.ContainsKey(args[0]))
{
    Console.Error.WriteLine($"unknown suite '{args[0]}'\n{usage}");
    return 2;
}
BenchArgs a;
try { a = BenchArgs.Parse(args.Skip(1).ToArray()); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
if (a.Threads > 0) CpuParallel.Threads = a.Threads;
Console.WriteLine($"# qgen-engine bench on {Environment.MachineName}: {Environment.ProcessorCount} cores, {CpuParallel.Threads} threads, AVX2={System.Runtime.Intrinsics.X86.Avx2.IsSupported}, FMA={System.Runtime.Intrinsics.X86.Fma.IsSupported}, AVX-512F={System.Runtime.Intrinsics.X86.Avx512F.IsSupported}, .NET {Environment.Version}");
var records = new List<Record>();
foreach (var name in args[0] == "all" ? suites.Keys.ToArray() : [args[0]])
{
    var rs = suites[name](a);
    Record.PrintTable(name, rs);
    records.AddRange(rs);
}
if (a.Json is not null)
{
    var json = JsonSerializer.Serialize(records.Select(r => r.Fields), new JsonSerializerOptions { WriteIndented = true });
    File.WriteAllText(a.Json, json);
    Console.WriteLine($"wrote {records.Count} records to {a.Json}");
}
return 0;

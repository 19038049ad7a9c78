using QGenEngine.Studies;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using QGenEngine.Autograd.Nn;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Quantum;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine route --router RUN --images SET`: serve a set through the router and the four reference policies, measured.</summary>
public static class RouteCommand
{
    /// <summary>Measurement and reset per shot in the hardware cost model (superconducting qubits read out in about a microsecond).</summary>
    public const double ReadoutUs = 1.0;

    public static Command Build(TextWriter stdout)
    {
        var router = new Option<string>("--router") { Required = true, Description = "a run directory made by `train router`" };
        var images = new Option<string>("--images") { Description = "the set to route (default mnist:test, or fashion:test for a router of Fashion-MNIST models)" };
        var share = new Option<double?>("--share") { Description = "target share of inputs sent to the quantum model, in [0, 1] (default 0.3)" };
        var quality = new Option<double?>("--quality") { Description = "instead of --share: a target mean reconstruction SSIM; the share adapts online to meet it" };
        var costMs = new Option<double?>("--quantum-cost-ms") { Description = "hardware cost model: milliseconds per circuit run on a quantum computer (all shots)" };
        var shots = new Option<int?>("--shots") { Description = "hardware cost model from shots: shots per circuit run (with --gate-us)" };
        var gateUs = new Option<double?>("--gate-us") { Description = "hardware cost model from shots: microseconds per gate layer (the circuit's depth of them per shot, plus 1 us readout)" };
        var batch = new Option<int>("--batch") { Description = "inputs served per batch", DefaultValueFactory = _ => 100 };
        var rounds = new Option<int>("--rounds") { Description = "serve every policy this many times, interleaved, and keep each one's least time (default 1)", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the random-routing baseline", DefaultValueFactory = _ => 1 };
        var outDir = new Option<string?>("--out") { Description = "where route.json and route.png go (default: the router's run directory)" };
        var json = new Option<bool>("--json") { Description = "print the JSON instead of the table" };
        var device = DeviceOption.Create();
        var cmd = new Command("route", "Route each input to the classical or the quantum model by its estimated difficulty; measure quality and cost beside all-classical, all-quantum, random and oracle routing")
            { router, images, share, quality, costMs, shots, gateUs, batch, rounds, seed, outDir, json, device };
        cmd.SetAction(p =>
        {
            var dev = DeviceOption.Resolve(p.GetValue(device));
            string dir = p.GetValue(router)!;
            var ro = ModelCatalog.ReadOptions(dir);
            if (ro.Model != "router") throw new CliException($"{Path.Combine(dir, Trainer.ConfigFile)}: a '{ro.Model}' run; --router expects a run of `qgen-engine train router`");
            if (p.GetValue(share) is not null && p.GetValue(quality) is not null) throw new CliException("--share and --quality: give one target, not both");
            double? qualityTarget = p.GetValue(quality); double shareTarget = p.GetValue(share) ?? 0.3;
            OnlineRouter Rule() => qualityTarget is { } q ? OnlineRouter.ForQuality(q) : OnlineRouter.ForShare(shareTarget);
            Rule();   // checks the target
            if (p.GetValue(rounds) < 1) throw new CliException($"--rounds: {p.GetValue(rounds)} must be ≥ 1");
            if (p.GetValue(batch) < 1) throw new CliException($"--batch: {p.GetValue(batch)} must be ≥ 1");

            var (rm, _) = ModelCatalog.LoadRun(dir, dev);
            var (cm, co) = ModelCatalog.LoadRun(Router.CheckRun(ro.Get(Router.ClassicalRun), $"{dir}: its classical run"), dev);
            var (qm, _) = ModelCatalog.LoadRun(Router.CheckRun(ro.Get(Router.QuantumRun), $"{dir}: its quantum run"), dev);
            string spec = p.GetValue(images) ?? (co.Dataset == "fashion" ? "fashion:test" : "mnist:test");
            string named = spec.Split(':')[0];
            if (named is "mnist" or "fashion" && named != co.Dataset && co.DataDir is null)
                throw new CliException($"--images {spec}: {named} images, but the models were trained on {co.Dataset}");
            var set = ImageSets.Load(spec, dev);

            double? ms = p.GetValue(costMs);
            if (ms is < 0) throw new CliException($"--quantum-cost-ms: {ms} must be ≥ 0");
            if (p.GetValue(shots) is { } n || p.GetValue(gateUs) is not null)
            {
                if (ms is not null) throw new CliException("--quantum-cost-ms or --shots with --gate-us: give one cost model");
                int s = p.GetValue(shots) ?? throw new CliException("--gate-us needs --shots N");
                double g = p.GetValue(gateUs) ?? throw new CliException("--shots needs --gate-us T (microseconds per gate layer)");
                if (s < 1 || !(g > 0)) throw new CliException($"--shots {s} --gate-us {g}: expected a positive shot count and gate time");
                var circuit = ((Module)qm).NamedModules().Select(m => m.Module).OfType<QuantumLayer>().FirstOrDefault()?.Circuit
                              ?? throw new CliException($"{ro.Get(Router.QuantumRun)}: its model has no circuit, so shots cost nothing; use --quantum-cost-ms");
                ms = s * (circuit.Depth * g + ReadoutUs) / 1000;
            }

            var result = RouteEvaluation.Run((Router)rm, (IReconstructive)cm, (IReconstructive)qm, dev, set.Pixels, set.Count, set.Labels, Rule, ms, p.GetValue(seed),
                                             p.GetValue(batch), p.GetValue(rounds), p.GetValue(json) ? null : what => stdout.WriteLine($"serving {set.Count:N0} images: {what}..."));
            string outPath = p.GetValue(outDir) ?? dir;
            Directory.CreateDirectory(outPath);
            var node = result.ToJson();
            node["images_set"] = set.Description; node["router"] = Path.GetFullPath(dir); node["classical_run"] = ro.Get(Router.ClassicalRun); node["quantum_run"] = ro.Get(Router.QuantumRun);
            string text = node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(outPath, "route.json"), text);
            Imaging.SaveRoutePlot(Path.Combine(outPath, "route.png"), result, $"router on {set.Description}: quality against quantum share");
            if (p.GetValue(json)) { stdout.WriteLine(text); return 0; }
            stdout.WriteLine(Table(result));
            stdout.WriteLine($"wrote {Path.Combine(outPath, "route.json")} and route.png");
            return 0;
        });
        return cmd;
    }

    /// <summary>The five policies as a table, then the estimator, the gap recovered, per-class shares and the findings.</summary>
    public static string Table(RouteEvaluation r)
    {
        var sb = new System.Text.StringBuilder();
        bool hw = r.QuantumCostMs is not null;
        sb.AppendLine($"{"policy",-10} {"share",7} {"SSIM",8} {"BCE",8} {"ms/image",9} {"x quantum",9}" + (hw ? $" {"hw ms/image",12} {"hw x quantum",12}" : ""));
        foreach (var p in r.Policies)
            sb.AppendLine($"{p.Name,-10} {p.Share,7:P1} {p.Ssim,8:F4} {p.Bce,8:F2} {1000 * p.Seconds / r.Count,9:F4} {p.Seconds / r.Quantum.Seconds,9:F3}" +
                          (hw ? $" {1000 * p.HardwareSeconds!.Value / r.Count,12:F2} {p.HardwareSeconds!.Value / r.Quantum.HardwareSeconds!.Value,12:F3}" : ""));
        sb.AppendLine($"estimator: {r.EstimatorFlops:N0} FLOP and {1000 * r.Router.EstimatorSeconds / r.Count:F4} ms per image ({r.Router.EstimatorSeconds / r.Classical.Seconds:P1} of the classical model's time); " +
                      $"Spearman with the classical model's true BCE {r.Spearman:F3}");
        sb.AppendLine($"gap recovered (mean over shares 0..1): router {Fmt(r.RouterGapRecovered)}, random 50 %, oracle {Fmt(r.OracleGapRecovered)}");
        if (r.ClassShare is not null)
            sb.AppendLine("quantum share per class (router | oracle | mean SSIM gain of quantum): " + string.Join("  ", Enumerable.Range(0, r.ClassShare.Length)
                .Select(c => $"{c}: {r.ClassShare[c]:P0} | {r.OracleClassShare![c]:P0} | {r.ClassGain![c]:+0.0000;-0.0000}")));
        if (r.QuantumCostMs is { } ms) sb.AppendLine($"hardware model: {ms.ToString("G4", CultureInfo.InvariantCulture)} ms per circuit, {r.CircuitsPerImage} circuit(s) per quantum-routed image");
        foreach (var f in r.Findings()) sb.AppendLine("- " + f);
        return sb.ToString().TrimEnd();
    }

    private static string Fmt(double v) => double.IsFinite(v) ? v.ToString("P0", CultureInfo.InvariantCulture) : "n/a (no gap: the quantum model is not better)";
}

using System.Globalization;
using StagNotebooks.Experiments;
using StagNotebooks.IO;
using StagNotebooks.Training;

namespace StagNotebooks.Notebooks;

/// <summary>One notebook's share of a series plan: its models, how many of them it trains first, their estimate.</summary>
/// <param name="Models">the runs its nb.Train calls ask for (arms × seeds)</param>
/// <param name="FirstHere">those no earlier notebook of the series asks for</param>
/// <param name="ToTrain">of those, the ones not finished in the runs folder</param>
public sealed record NotebookPlan(string Notebook, int Models, int FirstHere, int ToTrain, double Seconds, IReadOnlyList<TrainCall> Unreadable);

/// <summary>A run of a series plan: what trains it, whether it still has to, and its estimated seconds (0 when finished).</summary>
public sealed record PlannedRun(RunRequest Request, bool ToTrain, double Seconds);

/// <summary>
/// What a notebook series will train before its first notebook starts: every notebook's nb.Train calls read from its
/// source (<see cref="NotebookTrainCalls"/>), turned into runs the way the notebook's session would (its preset,
/// seeds and tuned rates), a run asked for by several notebooks counted once, and the time
/// <see cref="RunScheduler.Plan"/> estimates for those not already finished. Training only: evaluation, decoding and
/// figures add to the series' wall time.
/// </summary>
public sealed record SeriesPlan(IReadOnlyList<NotebookPlan> Notebooks, RunPlan Training, IReadOnlyList<PlannedRun> Runs, string RunsRoot)
{
    /// <summary>
    /// The plan of <paramref name="notebooks"/> run with <paramref name="parameters"/> (each notebook takes the ones it
    /// declares: Preset, Seeds, FiguresRoot; RunsRoot, empty for the repository's runs/). Measures one short run per
    /// model shape not yet trained here (<see cref="RunEstimate"/>), so it takes seconds; creates no run folder.
    /// </summary>
    /// <exception cref="InvalidDataException">a notebook that trains but declares no Preset parameter, named</exception>
    public static SeriesPlan Of(IReadOnlyList<string> notebooks, IReadOnlyDictionary<string, string> parameters, string device = "auto", int concurrency = 1)
    {
        var perNotebook = new List<(string Name, List<RunRequest> Requests, List<TrainCall> Unreadable)>();
        foreach (var nb in notebooks)
        {
            var (doc, name) = (NotebookDocument.Load(nb), Path.GetFileNameWithoutExtension(nb));
            var calls = NotebookTrainCalls.Of(doc, name);
            if (calls.Count == 0) continue;
            var unreadable = calls.Where(c => c.Arms is null).ToList();
            if (unreadable.Count == calls.Count)
            {
                perNotebook.Add((name, new List<RunRequest>(), unreadable));
                continue;
            }
            string? Param(string parameter) => NotebookStamp.Effective(doc, parameter, parameters);
            var preset = Param("Preset") ?? throw new InvalidDataException($"{nb}: it trains (nb.Train) but declares no Preset parameter");
            int seeds = int.Parse(Param("Seeds") ?? "1", CultureInfo.InvariantCulture);
            var data = ExperimentRuns.DataFor(preset);
            var tuned = TunedRates.For(preset, Param("FiguresRoot") is { Length: > 0 } f ? f : null);
            var requests = calls.Where(c => c.Arms != null).SelectMany(c => ExperimentRuns.Requests(preset, c.Arms!, c.Seeds ?? seeds, data, tuned: tuned)).ToList();
            perNotebook.Add((name, requests, unreadable));
        }
        var runsRoot = parameters.TryGetValue("RunsRoot", out var r) && r != "" ? r : RepoPaths.Runs;
        return Assemble(perNotebook, runsRoot, device, concurrency);
    }

    static SeriesPlan Assemble(List<(string Name, List<RunRequest> Requests, List<TrainCall> Unreadable)> perNotebook, string runsRoot, string device, int concurrency)
    {
        // A run is the same run wherever it is asked for when its config and data are (the run service reuses it by that).
        var seen = new HashSet<string>();
        var unique = new List<(int Notebook, RunRequest Request)>();
        for (int n = 0; n < perNotebook.Count; n++)
            foreach (var q in perNotebook[n].Requests)
                if (seen.Add(Key(q))) unique.Add((n, q));
        var plan = RunScheduler.Plan(unique.Select(u => u.Request).ToList(), new RunOptions(runsRoot, device, concurrency));
        var seconds = plan.Pending.Zip(plan.RunSeconds).ToDictionary(p => p.First, p => p.Second);   // the runs still to train and their estimates
        var runs = unique.Select((u, i) => seconds.TryGetValue(i, out var s) ? new PlannedRun(u.Request, true, s) : new PlannedRun(u.Request, false, 0)).ToList();
        var notebooks = perNotebook.Select((nb, n) =>
        {
            var first = unique.Select((u, i) => (u.Notebook, Run: runs[i])).Where(x => x.Notebook == n).Select(x => x.Run).ToList();
            return new NotebookPlan(nb.Name, nb.Requests.Count, first.Count, first.Count(x => x.ToTrain),
                                    first.Sum(x => x.Seconds) / Math.Max(1, plan.Concurrency), nb.Unreadable);
        }).ToList();
        return new SeriesPlan(notebooks, plan, runs, runsRoot);
    }

    /// <summary>What makes two requests one run: the config (seed, rate and all) and the data.</summary>
    public static string Key(RunRequest r) => r.Config.ToJson() + "|" + r.Data.Id;

    /// <summary>The plan as the terminal shows it: a line per training notebook, then the total.</summary>
    public IEnumerable<string> Lines()
    {
        foreach (var n in Notebooks)
        {
            var what = n.Models == 0 ? "no model the plan can count"
                : n.FirstHere == 0 ? $"{n.Models} models, all asked for earlier in the series"
                : n.ToTrain == 0 ? $"{n.Models} models, {(n.FirstHere < n.Models ? $"{n.FirstHere} first asked for here, " : "")}all already trained"
                : $"{n.Models} models, {n.ToTrain} to train here: about {RunEstimate.Words(n.Seconds)}";
            yield return $"  {n.Notebook,-20} {what}";
            foreach (var u in n.Unreadable) yield return $"    not counted: {NotebookTrainCalls.Describe(u)}";
        }
        yield return $"  in all: {Training.Total} distinct models; {Training} (training only: evaluation and figures add to it)";
    }

    /// <summary>
    /// Where the series stands now: the plan's runs finished in its runs folder, and the estimated seconds of work done
    /// (the planned runs finished since) and in all; with the time since the plan, <see cref="RunScheduler.TimeLeft"/>.
    /// </summary>
    public (int Done, double WorkDone, double WorkTotal) Progress()
    {
        int done = 0; double work = 0;
        foreach (var run in Runs)
        {
            if (RunDirectory.FindComplete(RunsRoot, run.Request.Config, run.Request.Data.Id) is null) continue;
            done++;
            work += run.Seconds;
        }
        return (done, work, Runs.Sum(x => x.Seconds));
    }

    /// <summary>"series: 21/45 models trained · about 2.1 h of training left", from <see cref="Progress"/> and the time since the plan.</summary>
    public string ProgressLine(double secondsSincePlan)
    {
        var (done, work, total) = Progress();
        double left = RunScheduler.TimeLeft(total, work, secondsSincePlan, Training.EstimatedSeconds);
        return $"series: {done}/{Runs.Count} models trained · about {RunEstimate.Words(left)} left at the pace so far";
    }
}

namespace StagNotebooks.Training;

/// <summary>Learning rate at an optimizer step: linear warmup, then cosine to the minimum, or warmup-stable-decay.</summary>
public static class LearningRateSchedule
{
    public static double At(TrainConfig c, int step)
    {
        int total = c.TotalSteps;
        if (c.WarmupSteps > 0 && step < c.WarmupSteps) return c.LearningRate * (step + 1) / c.WarmupSteps;
        if (c.Schedule == LrSchedule.Cosine)
        {
            double progress = Math.Clamp((double)(step - c.WarmupSteps) / Math.Max(1, total - c.WarmupSteps), 0, 1);
            return c.MinLearningRate + 0.5 * (c.LearningRate - c.MinLearningRate) * (1 + Math.Cos(Math.PI * progress));
        }
        int decaySteps = Math.Max(1, (int)Math.Round(c.DecayFraction * total));
        int decayStart = total - decaySteps;
        if (step < decayStart) return c.LearningRate;
        double f = Math.Clamp((double)(step - decayStart) / decaySteps, 0, 1);
        return c.LearningRate + (c.MinLearningRate - c.LearningRate) * f;
    }
}

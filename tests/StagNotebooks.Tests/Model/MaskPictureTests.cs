using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Model;

public class MaskPictureTests
{
    /// <summary>The notebooks' mask pictures come from the model's own rule: strictly past, windowed, or (lag 0) the control.</summary>
    [Fact]
    public void Mask_pictures_follow_the_models_staggering_rule()
    {
        var staggered = MaskPicture.Visible(4, lag: 1, window: null);
        Assert.Equal(new[] { 0.0, 0, 0, 0 }, staggered[0]);          // position 0 has no key (the null slot covers it)
        Assert.Equal(new[] { 1.0, 1, 1, 0 }, staggered[3]);          // k ≤ i − 1
        var windowed = MaskPicture.Visible(5, lag: 1, window: 2);
        Assert.Equal(new[] { 0.0, 0, 1, 1, 0 }, windowed[4]);        // i − 2 ≤ k ≤ i − 1
        var control = MaskPicture.Visible(3, lag: 0, window: null);
        Assert.Equal(new[] { 1.0, 1, 0 }, control[1]);               // k ≤ i: the non-staggered control
    }
}

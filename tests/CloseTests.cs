using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The comparison every test relies on fails where it should, in every overload.</summary>
[TestFixture]
public class CloseTests
{
    private static string Fails(TestDelegate d) => Assert.Throws<AssertionException>(d)!.Message;

    [Test]
    public void NaN_matches_only_NaN_and_infinity_only_itself_in_every_overload()
    {
        Assert.DoesNotThrow(() => Close.Assert(new[] { double.NaN, double.PositiveInfinity, 1.0 }, new[] { double.NaN, double.PositiveInfinity, 1.0 }, 0, 0, "d"));
        Assert.That(Fails(() => Close.Assert(new[] { double.NaN }, new[] { 0.0 }, 1e9, 1e9, "got NaN")), Does.Contain("got NaN"));
        Assert.That(Fails(() => Close.Assert(new[] { 0.0 }, new[] { double.NaN }, 1e9, 1e9, "want NaN")), Does.Contain("want NaN"));
        Assert.That(Fails(() => Close.Assert(new[] { double.NegativeInfinity }, new[] { double.PositiveInfinity }, 1e9, 1e9, "inf")), Does.Contain("inf"));
        Assert.That(Fails(() => Close.Assert(new[] { float.NaN }, new[] { 0f }, 1e9, 1e9, "float")), Does.Contain("float"));
        Assert.That(Fails(() => Close.Assert(new[] { float.NaN }, new[] { 0.0 }, 1e9, 1e9, "mixed")), Does.Contain("mixed"));
    }

    [Test]
    public void Different_lengths_fail_with_the_lengths_not_an_index_error()
    {
        Assert.That(Fails(() => Close.Assert(new[] { 1.0, 2.0 }, new[] { 1.0 }, 0, 0, "d")), Does.Contain("2 values, expected 1"));
        Assert.That(Fails(() => Close.Assert(new[] { 1f }, new[] { 1f, 2f }, 0, 0, "f")), Does.Contain("1 values, expected 2"));
    }

    [Test]
    public void Tolerance_is_atol_plus_rtol_times_the_expected_value()
    {
        Assert.DoesNotThrow(() => Close.Assert(new[] { 10.5 }, new[] { 10.0 }, 0.25, 0.025, "within"));
        Assert.That(Fails(() => Close.Assert(new[] { 10.6 }, new[] { 10.0 }, 0.25, 0.025, "beyond")), Does.Contain("1 of 1 values differ"));
    }
}

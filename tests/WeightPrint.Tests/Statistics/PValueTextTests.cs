using WeightPrint.Statistics;

namespace WeightPrint.Tests.Statistics;

public class PValueTextTests
{
    [Fact]
    public void Floored_p_values_read_as_a_bound_and_others_as_a_value()
    {
        Assert.Equal("p < 1e-300", PValueText.Equation(FisherMethod.MinPValue));
        Assert.Equal("p < 1e-300", PValueText.Equation(0));
        Assert.Equal("p = 0.0288", PValueText.Equation(0.02881));
        Assert.Equal("p = 2.1e-95", PValueText.Equation(2.1123e-95));
        Assert.Equal("p = 0.03", PValueText.Equation(0.02881, x => x.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)));
    }
}

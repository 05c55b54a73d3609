using System.ComponentModel;
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Atc.Gc.IntegrationTests.Agent.Drivers;

/// <summary>
/// A test of the driver conformance suite: it runs once per concrete test class (one per driver), and
/// is skipped with the class's own reason (its static <c>SkipReason</c>) where that driver cannot run.
/// </summary>
[XunitTestCaseDiscoverer("Atc.Gc.IntegrationTests.Agent.Drivers.DriverFactDiscoverer", "Atc.Gc.IntegrationTests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DriverFactAttribute : FactAttribute
{
}

/// <summary>Makes <see cref="DriverFactAttribute"/> tests whose skip reason comes from the concrete class.</summary>
public sealed class DriverFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new DriverTestCase(diagnostics, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A test case skipped when its class says the driver is not available here.</summary>
public sealed class DriverTestCase : XunitTestCase
{
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public DriverTestCase()
    {
    }

    public DriverTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(diagnostics, display, options, testMethod)
    {
    }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        TestMethod.TestClass.Class.ToRuntimeType()
            .GetProperty("SkipReason", BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy)?
            .GetValue(null) as string;
}

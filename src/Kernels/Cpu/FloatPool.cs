namespace QGenEngine.Kernels.Cpu;

/// <summary>
/// Recycles float arrays by exact length: a training step asks for the same sizes every time, so after
/// the first step every request is served from the pool. Arrays come back uncleared.
/// </summary>
public static class FloatPool
{
    private static readonly Dictionary<int, Stack<float[]>> Free = new();
    private static long _pooledBytes, _fresh;
    public static long PooledBytes => Interlocked.Read(ref _pooledBytes);
    /// <summary>How many arrays the pool could not serve and allocated (flat in steady state).</summary>
    public static long FreshAllocations => Interlocked.Read(ref _fresh);

    public static float[] Rent(int length)
    {
        lock (Free)
            if (Free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                _pooledBytes -= 4L * length;
                return stack.Pop();
            }
        Interlocked.Increment(ref _fresh);
        return GC.AllocateUninitializedArray<float>(length);
    }

    public static void Return(float[] array)
    {
        lock (Free)
        {
            if (!Free.TryGetValue(array.Length, out var stack)) Free[array.Length] = stack = new Stack<float[]>();
            stack.Push(array);
            _pooledBytes += 4L * array.Length;
        }
    }

    /// <summary>Drops every pooled array (for the garbage collector to take).</summary>
    public static void Clear() { lock (Free) { Free.Clear(); _pooledBytes = 0; } }
}

namespace QGenEngine.Tensors;

/// <summary>
/// A device's memory for one or more tensors (views share it). Reference-counted so that a
/// pooled buffer goes back to its device only when the last tensor that uses it is disposed.
/// </summary>
public abstract class Storage
{
    private int _refs = 1;
    public long Length { get; }
    public IDevice Device { get; }

    protected Storage(IDevice device, long length) { Device = device; Length = length; }

    internal void AddRef() => Interlocked.Increment(ref _refs);

    internal void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Device.Free(this);
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace QGenEngine.Models.Data;

/// <summary>
/// NumPy's .npy format (version 1.0 written; 1.0-3.0 read) for little-endian float32 arrays in C order:
/// the magic "\x93NUMPY", the version, a header length, a Python-dict header
/// {'descr': '&lt;f4', 'fortran_order': False, 'shape': (...), } padded with spaces and '\n' to a multiple
/// of 64 bytes, then the data - byte for byte what numpy.save writes.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static byte[] Encode(ReadOnlySpan<float> data, params int[] shape)
    {
        if (QGenEngine.Tensors.Shape.Numel(shape) != data.Length) throw new ArgumentException($"shape [{string.Join(", ", shape)}] does not hold {data.Length} values");
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = (Magic.Length + 4 + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - Magic.Length - 4 - 1) + "\n";
        var bytes = new byte[Magic.Length + 4 + header.Length + data.Length * 4];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1; bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(10 + header.Length + 4 * i), data[i]);
        return bytes;
    }

    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape)
    {
        var bytes = Encode(data, shape);
        QGenEngine.Autograd.AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>Reads a float32 array; anything else (another dtype, Fortran order, a damaged file) is a <see cref="DataException"/> naming the file.</summary>
    public static (float[] Data, int[] Shape) Read(string path)
    {
        byte[] b;
        try { b = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new DataException($"{path}: cannot read ({e.Message})"); }
        if (b.Length < 10 || !b.AsSpan(0, 6).SequenceEqual(Magic)) throw new DataException($"{path}: not a NumPy .npy file (no \\x93NUMPY magic)");
        int major = b[6];
        int lenBytes = major == 1 ? 2 : 4;
        if (major is < 1 or > 3) throw new DataException($"{path}: .npy version {major}.{b[7]} is not supported (expected 1.0-3.0)");
        long hlen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8));
        long start = 8 + lenBytes + hlen;
        if (start > b.Length) throw new DataException($"{path}: header length {hlen} exceeds the file size {b.Length}");
        string header = Encoding.UTF8.GetString(b, 8 + lenBytes, (int)hlen);
        var descr = DescrRe().Match(header);
        var fortran = FortranRe().Match(header);
        var shapeM = ShapeRe().Match(header);
        if (!descr.Success || !fortran.Success || !shapeM.Success) throw new DataException($"{path}: the .npy header is not understood: {header.Trim()}");
        if (descr.Groups[1].Value is not ("<f4" or "=f4" or "f4"))
            throw new DataException($"{path}: dtype '{descr.Groups[1].Value}'; expected float32 ('<f4'), e.g. numpy.save(path, a.astype(numpy.float32))");
        if (fortran.Groups[1].Value == "True") throw new DataException($"{path}: Fortran-ordered array; expected C order (numpy.ascontiguousarray)");
        var dims = shapeM.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
            if (!int.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new DataException($"{path}: shape ({shapeM.Groups[1].Value.Trim()}): '{dims[i]}' is not a dimension from 0 to 2147483647");
        // The element count, capped at what the file could hold: a header announcing 4 billion rows allocates nothing.
        long n = shape.Aggregate(1L, (a, d) => a * d > b.Length ? b.Length + 1L : a * d);
        if (start + n * 4 != b.Length) throw new DataException($"{path}: shape ({string.Join(", ", shape)}) needs {n * 4} data bytes, the file has {b.Length - start}");
        var data = new float[n];
        for (long i = 0; i < n; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan((int)(start + 4 * i)));
        return (data, shape);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrRe();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranRe();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRe();
}

// The operands of one GEMM product (sizes, scales, pointers and strides), passed by reference between the entry
// point, the thread scheduler and the blocked driver.
namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>The operands of one GEMM: C[m×n] = alpha · A[m×k] · B[k×n] + beta · C.</summary>
/// <typeparam name="T">float or double.</typeparam>
internal unsafe struct GemmArgs<T>
    where T : unmanaged
{
    /// <summary>Rows of A and C.</summary>
    public int M;

    /// <summary>Columns of B and C.</summary>
    public int N;

    /// <summary>Columns of A, rows of B.</summary>
    public int K;

    /// <summary>Scale of the product.</summary>
    public T Alpha;

    /// <summary>Scale of the existing C.</summary>
    public T Beta;

    /// <summary>A: element (i,p) at A[i·ARowStride + p·AColStride].</summary>
    public T* A;

    /// <summary>Row stride of A.</summary>
    public long ARowStride;

    /// <summary>Column stride of A.</summary>
    public long AColStride;

    /// <summary>B: element (p,j) at B[p·BRowStride + j·BColStride].</summary>
    public T* B;

    /// <summary>Row stride of B.</summary>
    public long BRowStride;

    /// <summary>Column stride of B.</summary>
    public long BColStride;

    /// <summary>C: element (i,j) at C[i·Ldc + j].</summary>
    public T* C;

    /// <summary>Row stride of C.</summary>
    public long Ldc;
}

// Strided layouts shared by every kernel family: up to MAX_RANK dims and four stride sets (one per operand),
// passed by value; element i of the logical shape lives at off[k] + Σ coord_d · st[k][d] in operand k.
#define MAX_RANK 8

typedef struct
{
    i64 dims[MAX_RANK];
    i64 st[4][MAX_RANK];
    i64 n;
    int rank;
    int pad;
} Layout;

// Offsets of logical element i in operands 0..3 (rank-1 layouts skip the divisions).
#define LAYOUT_OFFSETS(L, i, o0, o1, o2, o3)                                   \
    {                                                                        \
        o0 = 0; o1 = 0; o2 = 0; o3 = 0;                                      \
        if ((L).rank == 1)                                                   \
        {                                                                    \
            o0 = (i) * (L).st[0][0]; o1 = (i) * (L).st[1][0];                \
            o2 = (i) * (L).st[2][0]; o3 = (i) * (L).st[3][0];                \
        }                                                                    \
        else                                                                 \
        {                                                                    \
            i64 rest_ = (i);                                                 \
            for (int d_ = (L).rank - 1; d_ >= 0; d_--)                       \
            {                                                                \
                i64 c_ = rest_ % (L).dims[d_];                               \
                rest_ /= (L).dims[d_];                                       \
                o0 += c_ * (L).st[0][d_]; o1 += c_ * (L).st[1][d_];          \
                o2 += c_ * (L).st[2][d_]; o3 += c_ * (L).st[3][d_];          \
            }                                                                \
        }                                                                    \
    }

// A grid-stride loop over [0, n): every thread of a 1-D launch takes elements GROUP_SIZE·NUM_GROUPS apart.
#define FOR_EACH_ELEMENT(i, n) \
    for (i64 i = GROUP_ID(0) * GROUP_SIZE(0) + LOCAL_ID(0); i < (n); i += NUM_GROUPS(0) * GROUP_SIZE(0))

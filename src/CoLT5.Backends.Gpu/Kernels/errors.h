// Device-side error reports: a kernel that meets a bad index records the first one in a small int buffer
// (code, operation, value, bound) that the host reads at its next synchronisation and turns into a typed error.
#define ERROR_INDEX 1

DEVICE_FN void report_index_error(GLOBAL int* err, int op, i64 value, i64 bound)
{
    if (err[0] == 0)
    {
        err[0] = ERROR_INDEX;
        err[1] = op;
        err[2] = (int)value;
        err[3] = (int)bound;
    }
}

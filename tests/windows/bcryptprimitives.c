/* A stand-in for Windows 10's bcryptprimitives.dll, for tests under Wine 8 only (Wine 8 lacks the
 * DLL; Wine 10 and real Windows 10+ have it). Rust's std (>= 1.78) imports ProcessPrng from it for
 * its random seeds, so without it no Rust .exe or .dll starts (status c0000135).
 *
 * ProcessPrng fills the buffer from advapi32's RtlGenRandom (SystemFunction036). Built by
 * `cargo xtask test-windows` with x86_64-w64-mingw32-gcc into the Wine prefix's system32. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
